import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MEMORY_LIMIT, configureEngines, engineBudget, openEngine, removeStaleSpillFolders } from '../../src/engine/index.js';
import { lakeTempRoot, openLake } from '../../src/table/index.js';
import { tempDirs } from '../helpers/temp-dir.js';

const dirs = tempDirs('budget');
afterAll(() => dirs.cleanup());

const SRC = path.resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

async function setting(engine: Awaited<ReturnType<typeof openEngine>>, name: string): Promise<string> {
  const [row] = await engine.rows<{ v: string }>(`SELECT current_setting('${name}') AS v`);
  return String(row!.v);
}

describe('memory budget', () => {
  afterEach(() => configureEngines({ memoryLimit: DEFAULT_MEMORY_LIMIT }));

  it('every engine runs under the process memory limit and spills into its own folder, removed on close', async () => {
    const root = await dirs.make('budget');
    configureEngines({ memoryLimit: '300MiB' });
    expect(engineBudget().memoryLimit).toBe('300MiB');
    const engine = await openEngine({ tempRoot: root });
    try {
      expect(await setting(engine, 'memory_limit')).toMatch(/^(300\.0 MiB|314\.5 MB)$/);
      const temp = await setting(engine, 'temp_directory');
      expect(path.dirname(temp)).toBe(root);
      expect(temp).toBe(engine.tempDir);
      expect(existsSync(engine.scratch())).toBe(true);
    } finally {
      engine.close();
    }
    expect(existsSync(engine.tempDir)).toBe(false);
    // An explicit option wins over the process budget.
    const small = await openEngine({ memoryLimit: '128MiB', tempRoot: root });
    try {
      expect(await setting(small, 'memory_limit')).toMatch(/^(128\.0 MiB|134\.2 MB)$/);
    } finally {
      small.close();
    }
  });

  it('refuses a memory limit that is not a size, naming it', async () => {
    expect(() => configureEngines({ memoryLimit: 'lots' })).toThrow(/"lots" is not a size/);
    await expect(openEngine({ memoryLimit: '1 gigabyte' })).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('a lake spills under <root>/.lake-tmp, and a crashed process\'s spill folder is removed on the next open', async () => {
    const root = await dirs.make('lake');
    const temp = lakeTempRoot(root);
    mkdirSync(temp, { recursive: true });
    // A process that has exited: its pid is free (spawnSync waited for it).
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    mkdirSync(path.join(temp, `duckdb-${dead}-1-abcdef`, 'nested'), { recursive: true });
    mkdirSync(path.join(temp, `duckdb-${process.pid}-999-abcdef`));
    mkdirSync(path.join(temp, 'not-ours'));
    const lake = await openLake({ root, threads: 1 });
    try {
      expect(path.dirname(await setting(lake.engine, 'temp_directory'))).toBe(temp);
      expect(readdirSync(temp).sort()).toEqual([`duckdb-${process.pid}-999-abcdef`, 'not-ours']);
    } finally {
      lake.close();
    }
    expect(removeStaleSpillFolders(path.join(root, 'missing'))).toBe(0);
  });

  it('a lake whose root does not exist is not created by a read', async () => {
    const parent = await dirs.make('absent');
    const root = path.join(parent, 'lake');
    const lake = await openLake({ root, threads: 1 });
    lake.close();
    expect(existsSync(root)).toBe(false);
    const created = await openLake({ root, threads: 1, create: true });
    created.close();
    expect(existsSync(lakeTempRoot(root))).toBe(true);
  });

  it('a query that needs more than the limit spills rather than fails (and fails without the spill folder)', async () => {
    const root = await dirs.make('spill');
    // 4M wide rows sorted: far more than 64 MiB of working memory.
    const sql = `SELECT count(*) AS n, min(s) AS lo FROM (SELECT i, repeat(md5(i::VARCHAR), 4) AS s FROM range(2000000) t(i) ORDER BY s)`;
    const engine = await openEngine({ memoryLimit: '64MiB', tempRoot: root, threads: 1 });
    try {
      const [row] = await engine.rows<{ n: bigint }>(sql);
      expect(Number(row!.n)).toBe(2_000_000);
      await engine.run("SET max_temp_directory_size = '0B'");
      await expect(engine.rows(sql)).rejects.toMatchObject({ code: 'OUT_OF_MEMORY', exitCode: 5, message: expect.stringContaining('memory limit of 64MiB'), hint: expect.stringContaining('LAKE_MEMORY_LIMIT') });
    } finally {
      engine.close();
    }
  });

  it('only openEngine creates DuckDB databases (plus the extension installer, which applies the same limit)', () => {
    const creators = sourceFiles(SRC).filter((f) => readFileSync(f, 'utf8').includes('DuckDBInstance.create('));
    expect(creators.map((f) => path.relative(SRC, f)).sort()).toEqual(['engine/extension.ts', 'engine/session.ts']);
    expect(readFileSync(path.join(SRC, 'engine/extension.ts'), 'utf8')).toMatch(/memory_limit: engineBudget\(\)\.memoryLimit/);
  });
});
