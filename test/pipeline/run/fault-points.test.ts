import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULT_POINTS, isLakeError, type FaultPointName } from '../../../src/core/index.js';
import { LOG_DIR, decodeAddPath, listLog } from '../../../src/delta/index.js';
import { listLakeTables, openLake, tableSnapshot, type Lake, type TableRef } from '../../../src/table/index.js';
import { describeChild, requireBuild, runCliProcess, type ChildResult } from '../../helpers/child.js';
import { readRows } from '../../helpers/lake.js';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';

/**
 * The fault-point matrix: every command that writes to the lake is run as a real child process
 * and SIGKILLed at each named fault point it passes (LAKE_FAULTPOINT, src/core/faults.ts). After
 * each kill: every version of every table reads; every table is at its version before the command
 * or one commit later, with that commit's rows (as a clean run of the command committed them);
 * the rerun succeeds; after it and a vacuum no file is left that no version references.
 */
let server: UpstreamServer;
let work: string;
const templates: Record<string, string> = {};
let promoteRunId = '';

type Template = 'empty' | 'table' | 'bronze' | 'silver';

interface Scenario {
  name: string;
  template: Template;
  args: () => string[];
  points: FaultPointName[];
}

const SELECT = `SELECT i AS id, CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END AS p, 'v2-' || i AS name FROM range(0, 40) r(i)`;
const COMMIT_POINTS: FaultPointName[] = ['commit.temp-written', 'commit.linked'];

const SCENARIOS: Scenario[] = [
  { name: 'write', template: 'table', args: () => ['write', 'silver.t', '--from', SELECT, '--mode', 'replace'], points: ['write.data-files', ...COMMIT_POINTS] },
  { name: 'checkpoint', template: 'table', args: () => ['checkpoint', 'silver.t'], points: ['checkpoint.parquet-written', 'checkpoint.last-written'] },
  { name: 'vacuum', template: 'table', args: () => ['vacuum', 'silver.t', '--retain-hours', '0', '--force'], points: ['vacuum.midway'] },
  { name: 'restore', template: 'table', args: () => ['restore', 'silver.t', '--version', '0'], points: COMMIT_POINTS },
  { name: 'update (ingest)', template: 'empty', args: () => ['update', '--datasets', 'schedules,teams', '--season', '2020'], points: ['write.data-files', ...COMMIT_POINTS] },
  { name: 'promote', template: 'bronze', args: () => ['promote', '--datasets', 'schedules,teams'], points: ['lock.taken', 'write.data-files', ...COMMIT_POINTS, 'promote.between-tables'] },
  { name: 'build-gold', template: 'silver', args: () => ['build-gold', '--marts', 'dim_team,dim_game'], points: ['write.data-files', ...COMMIT_POINTS, 'gold.between-tables'] },
  { name: 'rollback', template: 'silver', args: () => ['rollback', '--run', promoteRunId], points: [...COMMIT_POINTS, 'restore.between-tables'] },
];

function env(dir: string, fault?: string): Record<string, string | undefined> {
  return {
    LAKE_ROOT: path.join(dir, 'tables'),
    LAKE_RAW_DIR: path.join(dir, 'raw'),
    LAKE_LOGS_DIR: path.join(dir, 'logs'),
    LAKE_CATALOG: 'catalog/datasets.yml',
    LAKE_FAULTPOINT: fault,
    ...server.env(),
  };
}

async function cli(dir: string, args: string[], fault?: string): Promise<ChildResult> {
  return runCliProcess(args, { env: env(dir, fault) });
}

async function ok(dir: string, args: string[]): Promise<ChildResult> {
  const r = await cli(dir, args);
  expect(r.code, describeChild(r)).toBe(0);
  return r;
}

function copyOf(template: Template, name: string): string {
  const dir = path.join(work, name);
  cpSync(templates[template]!, dir, { recursive: true });
  return dir;
}

interface TableState {
  version: number;
  rows: number;
}

/**
 * Every table's latest version and row count. Every version of every table must read, except,
 * with `vacuumed`, versions whose files a vacuum with no retention removed (DATA_FILE_MISSING).
 */
async function lakeState(dir: string, vacuumed = false): Promise<Map<string, TableState>> {
  const lake = await openLake({ root: path.join(dir, 'tables'), threads: 1 });
  try {
    const out = new Map<string, TableState>();
    for (const table of await listLakeTables(lake)) {
      const listing = await listLog(table.tableRoot);
      let rows = 0;
      for (const version of [...listing.commits.keys()].sort((a, b) => a - b)) {
        const read = await readRows(lake, table.tableRoot, version, 'count(*) AS n').catch((error: unknown) => {
          if (vacuumed && version < listing.maxCommit! && isLakeError(error, 'DATA_FILE_MISSING')) return undefined;
          throw new Error(`${table.name} v${version} does not read: ${String(error)}`);
        });
        if (read) rows = Number(read[0]!['n']);
      }
      out.set(table.name, { version: listing.maxCommit!, rows: Number(rows) });
    }
    return out;
  } finally {
    lake.close();
  }
}

/** Data files under each table that the latest version does not reference (after a vacuum there must be none). */
async function orphans(dir: string): Promise<string[]> {
  const lake: Lake = await openLake({ root: path.join(dir, 'tables'), threads: 1 });
  try {
    const out: string[] = [];
    for (const table of await listLakeTables(lake)) {
      const snapshot = await tableSnapshot(lake, table as TableRef);
      const referenced = new Set(snapshot.files.map((f) => decodeAddPath(f.path)));
      const walk = (rel: string): void => {
        for (const e of readdirSync(path.join(table.tableRoot, rel), { withFileTypes: true })) {
          const child = rel ? `${rel}/${e.name}` : e.name;
          if (e.isDirectory() && e.name !== LOG_DIR) walk(child);
          else if (e.isFile() && e.name.endsWith('.parquet') && !referenced.has(child)) out.push(`${table.name}/${child}`);
          else if (e.isDirectory() && e.name === LOG_DIR) {
            for (const n of readdirSync(path.join(table.tableRoot, LOG_DIR))) if (n.endsWith('.tmp')) out.push(`${table.name}/${LOG_DIR}/${n}`);
          }
        }
      };
      walk('');
    }
    return out.sort();
  } finally {
    lake.close();
  }
}

beforeAll(async () => {
  requireBuild();
  server = await startUpstreamServer();
  work = mkdtempSync(path.join(tmpdir(), 'lake-faults-'));
  templates['empty'] = path.join(work, 'template-empty');
  mkdirSync(templates['empty']);
  templates['table'] = path.join(work, 'template-table');
  await ok(templates['table'], ['write', 'silver.t', '--from', SELECT.replace('v2-', 'v0-'), '--partition-by', 'p']);
  await ok(templates['table'], ['write', 'silver.t', '--from', SELECT.replace('v2-', 'v1-'), '--mode', 'replace']);
  templates['bronze'] = path.join(work, 'template-bronze');
  await ok(templates['bronze'], ['update', '--datasets', 'schedules,teams', '--season', '2020']);
  templates['silver'] = path.join(work, 'template-silver');
  cpSync(templates['bronze'], templates['silver'], { recursive: true });
  const promoted = await ok(templates['silver'], ['promote', '--datasets', 'schedules,teams', '--json']);
  promoteRunId = (JSON.parse(promoted.stdout) as { runId: string }).runId;
}, 300_000);

afterAll(async () => {
  await server?.close();
  if (work && !process.env['KEEP_TEST_DIRS']) rmSync(work, { recursive: true, force: true });
});

describe('fault points: every write command killed at every point it passes', () => {
  it('names every fault point of src/core/faults.ts in the matrix', () => {
    expect(new Set(SCENARIOS.flatMap((s) => s.points))).toEqual(new Set(FAULT_POINTS));
  });

  describe.each(SCENARIOS)('lake $name', (scenario) => {
    let before: Map<string, TableState>;
    let after: Map<string, TableState>;

    beforeAll(async () => {
      const clean = copyOf(scenario.template, `${scenario.name.replace(/\W+/g, '-')}-clean`);
      before = await lakeState(clean);
      await ok(clean, scenario.args());
      after = await lakeState(clean, scenario.name === 'vacuum');
    }, 120_000);

    it.each(scenario.points)('killed at %s: old or new version of every table, all readable; the rerun succeeds; no orphans after vacuum', async (point) => {
      const dir = copyOf(scenario.template, `${scenario.name.replace(/\W+/g, '-')}-${point}`);
      const killed = await cli(dir, scenario.args(), point);
      expect(killed.signal, `the command must reach ${point}\n${describeChild(killed)}`).toBe('SIGKILL');

      const crashed = await lakeState(dir, scenario.name === 'vacuum');
      for (const [table, state] of crashed) {
        const old = before.get(table);
        const next = after.get(table);
        const matches = (s: TableState | undefined): boolean => s !== undefined && s.version === state.version && s.rows === state.rows;
        expect(matches(old) || matches(next), `${table} at v${state.version} with ${state.rows} rows: neither before (${JSON.stringify(old)}) nor after (${JSON.stringify(next)})`).toBe(true);
      }

      const rerun = await cli(dir, scenario.args());
      expect(rerun.code, describeChild(rerun)).toBe(0);
      const final = await lakeState(dir, scenario.name === 'vacuum');
      for (const [table, state] of after) expect(final.get(table)?.rows, table).toBe(state.rows);

      const vacuum = await cli(dir, ['vacuum', '--retain-hours', '0', '--force']);
      expect(vacuum.code, describeChild(vacuum)).toBe(0);
      expect(await orphans(dir)).toEqual([]);
      expect(existsSync(path.join(dir, 'tables'))).toBe(true);
    });
  });
});
