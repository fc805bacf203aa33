import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { literal, openEngine, type Engine } from '../../src/engine/index.js';
import { openLockedLake } from '../../src/cli/lake-session.js';
import { openLake, runQuery } from '../../src/table/index.js';
import { tempDirs } from '../helpers/temp-dir.js';

const dirs = tempDirs('metadata-cache');
afterAll(() => dirs.cleanup());

const REPO = path.resolve(import.meta.dirname, '../..');

/** Writes `select` to `file` as Parquet from another process (its own DuckDB). */
function writeElsewhere(file: string, select: string): void {
  const script = `import { DuckDBInstance } from '@duckdb/node-api';
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
await c.run(${JSON.stringify(`COPY (${select}) TO ${literal(file)} (FORMAT parquet)`)});`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8' });
  expect(out.status, out.stderr).toBe(0);
}

describe('Parquet footer cache', () => {
  it('is off until keepFooters turns it on, and a file rewritten at the same path is read anew, by this process or another', async () => {
    const root = await dirs.make('cache');
    const file = path.join(root, 'same.parquet');
    const engine = await openEngine({ tempRoot: root });
    try {
      const setting = async (): Promise<boolean> => (await engine.rows<{ v: boolean }>(`SELECT current_setting('parquet_metadata_cache') AS v`))[0]!.v;
      expect(await setting()).toBe(false);
      await engine.keepFooters();
      expect(await setting()).toBe(true);
      const read = async (): Promise<unknown[]> => (await engine.rows<Record<string, unknown>>(`SELECT count(*)::INTEGER AS n, any_value(columns(*)) FROM read_parquet(${literal(file)})`)).map((r) => Object.values(r));
      await engine.run(`COPY (SELECT range AS a FROM range(10)) TO ${literal(file)} (FORMAT parquet)`);
      expect(await read()).toEqual([[10, 0n]]);
      // Same path, another schema and row count, within the same second: the cached footer must not be used.
      await engine.run(`COPY (SELECT 'x' || range AS s, range AS b FROM range(1000)) TO ${literal(file)} (FORMAT parquet)`);
      expect(await read()).toEqual([[1000, 'x0', 0n]]);
      writeElsewhere(file, `SELECT 42 AS c FROM range(7)`);
      expect(await read()).toEqual([[7, 42]]);
    } finally {
      engine.close();
    }
  });

  it("turns on at a reading lake's second query, forks included, and never in a lake opened to write (every locked command, the pipeline)", async () => {
    const setting = async (engine: Engine): Promise<boolean> => (await engine.rows<{ v: boolean }>(`SELECT current_setting('parquet_metadata_cache') AS v`))[0]!.v;
    const root = await dirs.make('writers');
    const reader = await openLake({ root });
    const writer = await openLake({ root, footerCache: false });
    const { lake: locked, unlock } = await openLockedLake('test', { root }, {}, () => undefined);
    try {
      const readerFork = await reader.fork();
      const writerFork = await writer.fork();
      // A process that reads once never fills the cache: filling it slows the query that does.
      expect(await setting(reader.engine)).toBe(false);
      expect((await runQuery(reader, 'SELECT 1 AS one')).rows).toEqual([[1]]);
      expect(await setting(reader.engine)).toBe(false);
      expect((await runQuery(reader, 'SELECT 2 AS two')).rows).toEqual([[2]]);
      expect(await setting(reader.engine)).toBe(true);
      expect(await setting(readerFork.engine)).toBe(true);
      for (const lake of [writer, writerFork, locked]) {
        await runQuery(lake, 'SELECT 1 AS one');
        await runQuery(lake, 'SELECT 2 AS two');
        await lake.engine.keepFooters();
      }
      // The writer's fork shares its database: none of them turned the cache on.
      expect(await setting(writer.engine)).toBe(false);
      expect(await setting(writerFork.engine)).toBe(false);
      expect(await setting(locked.engine)).toBe(false);
      readerFork.close();
      writerFork.close();
    } finally {
      await unlock();
      locked.close();
      writer.close();
      reader.close();
    }
  });
});
