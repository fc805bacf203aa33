import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_INDEX } from '../../src/cli/command-index.js';
import { acquireLock, lakeLockFile } from '../../src/pipeline/index.js';
import { REPO_ROOT, cliError, describeChild, requireBuild, runCliProcess, type ChildResult } from '../helpers/child.js';
import { tempDirs } from '../helpers/temp-dir.js';

/**
 * One settings loader for every command (src/cli/environment.ts): in a folder whose `.env` says
 * LAKE_ROOT=mylake, every command works on ./mylake, never on the ./tables beside it (a decoy
 * lake whose answers differ), with LAKE_ROOT unset in the environment. Readers prove it by their
 * answers; commands that write prove it by failing with LOCK_BUSY on mylake's lake lock, which
 * this test holds.
 */
const dirs = tempDirs('lake-settings');
const CATALOG = path.join(REPO_ROOT, 'catalog', 'datasets.yml');
let cwd: string;
let lake: string;
const covered = new Set<string>();

function lakeCli(command: string, ...args: string[]): Promise<ChildResult> {
  covered.add(command);
  // Unset in the environment: only .env names the lake (LAKE_CATALOG unset: no catalog in the folder).
  return runCliProcess([command, ...args], { cwd, env: { LAKE_ROOT: undefined, LAKE_CATALOG: undefined, LAKE_READER: 'native' } });
}

function ok(r: ChildResult): ChildResult {
  expect(r.code, describeChild(r)).toBe(0);
  return r;
}

beforeAll(async () => {
  requireBuild();
  cwd = await dirs.make('work');
  lake = path.join(cwd, 'mylake');
  writeFileSync(path.join(cwd, '.env'), 'LAKE_ROOT=mylake\n');
  // The decoy: ./tables (the default root) holds bronze.t with one row and nothing else.
  const decoy = await runCliProcess(['write', 'bronze.t', '--from', 'SELECT 99 AS id, 0 AS season'], { cwd, env: { LAKE_ROOT: path.join(cwd, 'tables') } });
  expect(decoy.code, describeChild(decoy)).toBe(0);
}, 120_000);
afterAll(() => dirs.cleanup());

describe('.env LAKE_ROOT applies to every command', () => {
  it('reads and writes ./mylake, not ./tables, in every command that opens the lake', async () => {
    ok(await lakeCli('write', 'bronze.t', '--from', 'SELECT range::INT AS id, (range % 2)::INT AS season FROM range(3)', '--partition-by', 'season'));
    expect(existsSync(path.join(lake, 'bronze', 't', '_delta_log'))).toBe(true);
    ok(await lakeCli('write', 'bronze.teams', '--from', "SELECT 'KC' AS team_abbr, 'Chiefs' AS team_name UNION ALL SELECT 'BUF', 'Bills'"));
    ok(await lakeCli('write', 'silver.teams', '--from', "SELECT 'KC' AS team_abbr, 'Chiefs' AS team_name"));

    expect(JSON.parse(ok(await lakeCli('sql', 'SELECT count(*) AS n FROM bronze.t', '--json')).stdout)).toEqual({ n: 3 });
    const history = JSON.parse(ok(await lakeCli('history', 'bronze.t', '--json')).stdout) as { rowsAdded: number }[];
    expect(history.map((h) => h.rowsAdded)).toEqual([3]);
    const lineage = JSON.parse(ok(await lakeCli('lineage', 'bronze.t', '--json')).stdout) as { partitions: { row_count: number }[] };
    expect(lineage.partitions.reduce((n, p) => n + p.row_count, 0)).toBe(3);
    ok(await lakeCli('checkpoint', 'bronze.t', '--json'));
    expect(existsSync(path.join(lake, 'bronze', 't', '_delta_log', '00000000000000000000.checkpoint.parquet'))).toBe(true);

    ok(await lakeCli('write', 'bronze.t', '--from', 'SELECT 10 AS id, 0 AS season'));
    expect(JSON.parse(ok(await lakeCli('diff', 'bronze.t', '--from', '0', '--json')).stdout)).toMatchObject({ from: 0, to: 1, added: 1 });
    expect(JSON.parse(ok(await lakeCli('restore', 'bronze.t', '--version', '0', '--json')).stdout)).toMatchObject({ status: 'committed', version: 2 });
    expect(existsSync(path.join(lake, 'bronze', 't', '_delta_log', '00000000000000000002.json'))).toBe(true);

    const vacuum = ok(await lakeCli('vacuum', '--dry-run', '--json'));
    expect(JSON.parse(vacuum.stdout).map((m: { table: string }) => m.table)).toEqual(['bronze.t', 'bronze.teams', 'silver.teams']);
    expect(ok(await lakeCli('optimize', '--dry-run', '--json')).stdout).toContain('bronze.teams');
    expect(JSON.parse(ok(await lakeCli('duckdb', '--json')).stdout)).toMatchObject({ path: path.join(lake, 'lake.duckdb') });
    const doctor = JSON.parse(ok(await lakeCli('doctor', '--json')).stdout) as { lakeRoot: string; tables: { table: string }[] };
    expect(doctor.lakeRoot).toBe(lake);
    expect(doctor.tables.map((t) => t.table)).toContain('silver.teams');

    // Commands that need the catalog name it; the lake root still comes from .env.
    const profile = JSON.parse(ok(await lakeCli('profile', '--layer', 'bronze', '--datasets', 'teams', '--catalog', CATALOG, '--json')).stdout);
    expect(profile.tables.map((t: { table: string; partitions: { rows: number }[] }) => [t.table, t.partitions[0]!.rows])).toEqual([['bronze.teams', 2]]);
    const promote = JSON.parse(ok(await lakeCli('promote', '--dry-run', '--datasets', 'teams', '--catalog', CATALOG, '--json')).stdout);
    expect(promote.datasets[0]).toMatchObject({ table: 'silver.teams', bronzeVersion: 0 });
    const gold = JSON.parse(ok(await lakeCli('build-gold', '--dry-run', '--marts', 'dim_team', '--catalog', CATALOG, '--json')).stdout);
    expect(gold.marts[0]).toMatchObject({ table: 'gold.dim_team', missingSources: [] });
    const report = ok(await lakeCli('report', '--json', '--out', path.join(cwd, 'report'), '--catalog', CATALOG));
    expect(report.stdout).toContain('silver.teams');
  }, 300_000);

  it('takes the lake lock of ./mylake in every command that writes a run (LOCK_BUSY while this test holds it)', async () => {
    mkdirSync(lake, { recursive: true });
    const lock = await acquireLock(lakeLockFile(lake), { runId: 'settings-test', command: 'vitest', startedAt: new Date().toISOString() });
    try {
      const withCatalog = ['--catalog', CATALOG];
      const runs: [string, ...string[]][] = [
        ['bootstrap', '--years', '2020', '--datasets', 'teams', ...withCatalog],
        ['update', '--datasets', 'teams', ...withCatalog],
        ['recache-pbp', '--season', '2020', ...withCatalog],
        ['promote', '--datasets', 'teams', ...withCatalog],
        ['build-gold', '--marts', 'dim_team', ...withCatalog],
        ['gc', ...withCatalog],
        ['optimize', ...withCatalog],
        ['rollback', '--run', 'settings-test'],
        ['vacuum'],
      ];
      for (const [command, ...args] of runs) {
        const r = await lakeCli(command, ...args, '--json');
        expect(r.code, describeChild(r)).toBe(4);
        expect(cliError(r)).toMatchObject({ code: 'LOCK_BUSY', message: expect.stringContaining(lakeLockFile(lake)) });
      }
    } finally {
      await lock.release();
    }
  }, 300_000);

  it('covers every command but the two that open no existing lake (extension, demo)', () => {
    expect([...covered].sort()).toEqual(COMMAND_INDEX.map((c) => c.name).filter((n) => n !== 'extension' && n !== 'demo').sort());
  });
});
