import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const main = path.resolve('dist/cli/main.js');
let root: string;

async function lake(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [main, ...args], { env: { ...process.env, LAKE_ROOT: root } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'lake-cli-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('lake CLI (real process, built dist/)', () => {
  it('writes, queries at versions in every format, and shows history', async () => {
    expect((await lake('write', 'bronze.t', '--from', "SELECT range::INT id, (range % 2)::INT season FROM range(4)", '--partition-by', 'season')).code).toBe(0);
    const second = await lake('write', 'bronze.t', '--from', 'SELECT 10 id, 1 season', '--mode', 'replace', '--json');
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ status: 'committed', version: 1, filesAdded: 1, filesRemoved: 1 });

    const csv = await lake('sql', 'SELECT id FROM bronze.t AT (VERSION => 0) ORDER BY id', '--format', 'csv');
    expect(csv.stdout).toBe('id\n0\n1\n2\n3\n');
    const json = await lake('sql', `SELECT count(*) AS n FROM delta_scan('${path.join(root, 'bronze', 't')}')`, '--format', 'json');
    expect(JSON.parse(json.stdout)).toEqual({ n: 3 });
    const asOf = await lake('sql', 'SELECT count(*) AS n FROM bronze.t', '--as-of', '0', '--format', 'json');
    expect(JSON.parse(asOf.stdout)).toEqual({ n: 4 });
    const table = await lake('sql', 'SELECT id FROM bronze.t WHERE season = 1 ORDER BY id');
    expect(table.stdout).toContain('10');
    expect(table.stdout).toContain('(1 row)');

    const history = await lake('history', 'bronze.t', '--json');
    const entries = JSON.parse(history.stdout) as { version: number; operation: string }[];
    expect(entries.map((e) => [e.version, e.operation])).toEqual([
      [1, 'WRITE'],
      [0, 'CREATE TABLE'],
    ]);
    const checkpoint = await lake('checkpoint', 'bronze.t', '--json');
    expect(checkpoint.code).toBe(0);
    expect(JSON.parse(checkpoint.stdout)).toMatchObject({ version: 1 });
    const after = await lake('sql', 'SELECT count(*) AS n FROM bronze.t AT (VERSION => 1)', '--format', 'json');
    expect(JSON.parse(after.stdout)).toEqual({ n: 3 });
  });

  it.each([
    [['nosuchcommand'], 2, /unknown command/],
    [['write', 'bronze.x', '--from', 'SELECT 1', '--mode', 'sideways'], 2, /Allowed choices/],
    [['sql', 'SELECT * FROM bronze.t AT (VERSION => 99)'], 2, /VERSION_NOT_FOUND[\s\S]*latest version is/],
    [['history', 'bronze.nothing'], 2, /TABLE_NOT_FOUND|not a Delta table/],
    [['write', 'bronze.t', '--from', "SELECT 'x' id, 1 season"], 3, /SCHEMA_MISMATCH[\s\S]*column id/],
    [['write', 'bronze.t', '--from', 'missing-file.parquet'], 3, /SOURCE_UNREADABLE[\s\S]*missing-file\.parquet: no such file/],
    [['sql', "SELECT * FROM bronze.t AT (TIMESTAMP => '1999-01-01')"], 2, /TIMESTAMP_BEFORE_TABLE/],
  ])('exits with the contract code: lake %j → %i', async (args, code, message) => {
    const result = await lake(...args);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
  });

  it('prints errors as JSON with --json', async () => {
    const result = await lake('history', 'bronze.nothing', '--json');
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stderr)).toMatchObject({ error: { code: 'TABLE_NOT_FOUND', exitCode: 2 } });
  });

  it('prints help for every command', async () => {
    for (const command of ['write', 'sql', 'history', 'checkpoint']) {
      const result = await lake(command, '--help');
      expect(result.code, command).toBe(0);
      expect(result.stdout, command).toMatch(/Usage: lake/);
    }
  });
});

describe('lake doctor (real process, built dist/)', () => {
  let doctorRoot: string;
  beforeAll(() => {
    doctorRoot = mkdtempSync(path.join(tmpdir(), 'lake-doctor-'));
  });
  afterAll(() => rmSync(doctorRoot, { recursive: true, force: true }));

  it('exits 3 (data error) when a table in the lake does not open', async () => {
    const env = { ...process.env, LAKE_ROOT: doctorRoot, LAKE_READER: 'native' };
    await run(process.execPath, [main, 'write', 'bronze.good', '--from', 'SELECT 1 AS id'], { env });
    const log = path.join(doctorRoot, 'bronze', 'broken', '_delta_log');
    mkdirSync(log, { recursive: true });
    writeFileSync(path.join(log, '00000000000000000000.json'), 'this is not a Delta commit\n');

    const result = await run(process.execPath, [main, 'doctor', '--json'], { env }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    expect(result.code).toBe(3);
    const report = JSON.parse(result.stdout) as { tables: { table: string; ok: boolean }[] };
    expect(report.tables.map((t) => [t.table, t.ok])).toEqual([
      ['bronze.broken', false],
      ['bronze.good', true],
    ]);
  });
});

describe('lake logging (real process, built dist/)', () => {
  let logRoot: string;
  beforeAll(() => {
    logRoot = mkdtempSync(path.join(tmpdir(), 'lake-log-'));
  });
  afterAll(() => rmSync(logRoot, { recursive: true, force: true }));

  it('takes the level from LAKE_LOG_LEVEL, and --log-level over it', async () => {
    const env = { ...process.env, LAKE_ROOT: logRoot };
    await run(process.execPath, [main, 'write', 'bronze.logged', '--from', 'SELECT 1 AS id'], { env });
    const fromEnv = await run(process.execPath, [main, 'checkpoint', 'bronze.logged'], { env: { ...env, LAKE_LOG_LEVEL: 'info' } });
    expect(fromEnv.stderr).toMatch(/"msg":"checkpoint (written|exists, left untouched)"/);
    const fromFlag = await run(process.execPath, [main, '--log-level', 'error', 'checkpoint', 'bronze.logged'], { env: { ...env, LAKE_LOG_LEVEL: 'info' } });
    expect(fromFlag.stderr).toBe('');
  });
});
