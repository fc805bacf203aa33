import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/core/index.js';
import { listLog, readCommit, type CommitInfoAction } from '../../../src/delta/index.js';
import { loadCatalog, parseYears, resolveSettings, type Catalog, runIngest, type IngestRunOptions, type IngestRunResult } from '../../../src/pipeline/index.js';
import { openLake, resolveTable, runQuery, tableSnapshot, type Lake } from '../../../src/table/index.js';
import { SAMPLE_PLAN, sampleRowCounts, startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';

const TODAY = new Date('2026-11-25T12:00:00Z');
const catalog: Catalog = loadCatalog('catalog/datasets.yml');
let server: UpstreamServer;
const cleanup: (() => void)[] = [];

/** A clock whose sleeps return at once and are recorded. */
function fakeClock(): Clock & { sleeps: number[] } {
  const sleeps: number[] = [];
  let now = TODAY.getTime();
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

interface Env {
  dir: string;
  lake: Lake;
  run(extra: Partial<IngestRunOptions>): Promise<IngestRunResult>;
  versions(tables: string[]): Promise<Record<string, number>>;
  count(table: string): Promise<number>;
  commitInfo(table: string, version?: number): Promise<CommitInfoAction & Record<string, unknown>>;
}

async function freshEnv(prefix: string): Promise<Env> {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const lake = await openLake({ root: path.join(dir, 'tables') });
  cleanup.push(() => {
    lake.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const settings = resolveSettings(catalog, { LAKE_ROOT: path.join(dir, 'tables'), LAKE_RAW_DIR: path.join(dir, 'raw'), LAKE_LOGS_DIR: path.join(dir, 'logs'), ...server.env() });
  return {
    dir,
    lake,
    run: (extra) => runIngest({ catalog, settings: { ...settings, http: { ...settings.http, timeoutMs: 2000 } }, command: 'update', today: TODAY, clock: fakeClock(), lake, ...extra }),
    async versions(tables) {
      const out: Record<string, number> = {};
      for (const t of tables) out[t] = (await tableSnapshot(lake, resolveTable(lake, t))).version;
      return out;
    },
    async count(table) {
      const result = await runQuery(lake, `SELECT count(*) AS n FROM ${table}`);
      return Number(result.rows[0]![0]);
    },
    async commitInfo(table, version) {
      const root = resolveTable(lake, table).tableRoot;
      const log = await listLog(root);
      const v = version ?? log.maxCommit!;
      const actions = await readCommit(root, v);
      const info = actions.find((a) => a.kind === 'commitInfo');
      if (info?.kind !== 'commitInfo') throw new Error('no commitInfo');
      return info.commitInfo as CommitInfoAction & Record<string, unknown>;
    },
  };
}

function years(text: string): { from: number; to: number } {
  const span = parseYears(text);
  if (span?.kind !== 'range') throw new Error(text);
  return { from: span.from, to: span.to! };
}

function failuresOf(r: IngestRunResult): string {
  return JSON.stringify(r.datasets.filter((d) => d.error).map((d) => [d.dataset, d.error]), null, 2);
}

beforeAll(async () => {
  server = await startUpstreamServer();
});
afterAll(async () => {
  for (const c of cleanup) c();
  await server.close();
});

describe('bootstrap of the sample, then idempotent updates', () => {
  let env: Env;
  const groupA = SAMPLE_PLAN[0]!;
  const tablesA = groupA.datasets.map((d) => `bronze.${d}`);

  beforeAll(async () => {
    env = await freshEnv('bronze-run-');
  });

  it('produces bronze tables whose row counts equal the sample files', async () => {
    for (const group of SAMPLE_PLAN) {
      const result = await env.run({ command: 'bootstrap', datasets: group.datasets, seasons: years(group.years) });
      expect(result.failures, failuresOf(result)).toBe(0);
    }
    for (const [dataset, rows] of Object.entries(sampleRowCounts())) expect([dataset, await env.count(`bronze.${dataset}`)]).toEqual([dataset, rows]);
  });

  it('types and stamps the rows: ids as strings, UTC ingest time, source, versions and run id', async () => {
    const ids = await runQuery(env.lake, "SELECT fantasypros_id, espn_id, typeof(mfl_id) AS t FROM bronze.player_ids WHERE merge_name = 'cam ward'");
    expect(ids.rows[0]).toEqual(['24755', '4688380', 'VARCHAR']);
    const stamps = await runQuery(env.lake, 'SELECT DISTINCT source, typeof(ingested_at), pipeline_version, upstream_version, run_id, typeof(season), typeof(play_id) FROM bronze.pbp');
    expect(stamps.rows).toHaveLength(1);
    const [source, tsType, pipeline, upstream, runId, seasonType, playIdType] = stamps.rows[0]!;
    expect(source).toBe(`${server.baseUrls['nflverse']}/pbp/play_by_play_2020.parquet`);
    expect(tsType).toBe('TIMESTAMP WITH TIME ZONE');
    expect(pipeline).toBe('0.1.0');
    expect(upstream).toMatch(/^(".+"|sha256:|.*GMT)/);
    expect(runId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    expect([seasonType, playIdType]).toEqual(['INTEGER', 'DOUBLE']);
    const ngs = await runQuery(env.lake, 'SELECT stat_type, count(*) FROM bronze.nextgen_stats GROUP BY ALL ORDER BY 1');
    expect(ngs.rows).toEqual([['passing', 581n], ['receiving', 1520n], ['rushing', 596n]]);
    const converted = await runQuery(env.lake, 'SELECT DISTINCT upstream_version FROM bronze.injuries');
    expect(converted.rows).toEqual([['2026-02-11 08:24:07 EST']]);
  });

  it('records the upstream file identity, changed partitions and txn in each commit', async () => {
    const info = await env.commitInfo('bronze.injuries');
    expect(info).toMatchObject({
      run_id: expect.any(String),
      upstream_version: '2026-02-11 08:24:07 EST',
      dataset: 'injuries',
      changed_partitions: [{ season: '2025' }],
      upstream_file: { url: `${server.baseUrls['nflverse']}/injuries/injuries_2025.parquet`, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), etag: expect.any(String), nflverse_timestamp: '2026-02-11 08:24:07 EST', season: 2025 },
    });
    const snapshot = await tableSnapshot(env.lake, resolveTable(env.lake, 'bronze.injuries'));
    expect(snapshot.txns.get('nfl-lakehouse/bronze.injuries/nflverse/injuries/injuries_2025.parquet')).toBe(1);
    expect(snapshot.metadata.configuration['delta.appendOnly']).toBe('true');
    const manifest = JSON.parse(readFileSync(path.join(env.dir, 'raw/manifest.json'), 'utf8')) as { assets: Record<string, { nflverseTimestamp?: string; committed?: { sequence: number } }> };
    expect(manifest.assets['nflverse/injuries/injuries_2025.parquet']).toMatchObject({ nflverseTimestamp: '2026-02-11 08:24:07 EST', committed: { sequence: 1 } });
  });

  it('a second run commits nothing and costs one conditional request per file', async () => {
    const before = await env.versions(tablesA);
    const requests = server.requests.length;
    const result = await env.run({ command: 'bootstrap', datasets: groupA.datasets, seasons: years(groupA.years) });
    expect(result.failures, failuresOf(result)).toBe(0);
    expect(result.commits).toBe(0);
    expect(await env.versions(tablesA)).toEqual(before);
    const made = server.requests.slice(requests);
    expect(made.length).toBe(result.datasets.reduce((n, d) => n + d.assets.length, 0));
    expect(made.every((r) => r.conditional && r.status === 304)).toBe(true);
  });

  it('a changed upstream file (new bytes and ETag) adds exactly one commit', async () => {
    const key = 'nflverse/nextgen_stats/ngs_passing.parquet';
    server.setFile(key, await server.renderParquet(key, { timestamp: '2026-11-26 04:10:00 EST' }));
    const before = await env.versions(tablesA);
    const result = await env.run({ command: 'bootstrap', datasets: groupA.datasets, seasons: years(groupA.years) });
    expect(result.failures, failuresOf(result)).toBe(0);
    expect(result.commits).toBe(1);
    const after = await env.versions(tablesA);
    expect(after).toEqual({ ...before, 'bronze.nextgen_stats': before['bronze.nextgen_stats']! + 1 });
    expect(await env.count('bronze.nextgen_stats')).toBe(sampleRowCounts()['nextgen_stats']! + 581);
    expect(await env.commitInfo('bronze.nextgen_stats')).toMatchObject({ upstream_version: '2026-11-26 04:10:00 EST', changed_partitions: [{ season: '2020', stat_type: 'passing' }] });
  });

  it('a replayed commit is skipped by its txn id (manifest lost its commit record)', async () => {
    const file = path.join(env.dir, 'raw/manifest.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as { assets: Record<string, Record<string, unknown>> };
    delete manifest.assets['nflverse/pbp/play_by_play_2020.parquet']!['committed'];
    writeFileSync(file, JSON.stringify(manifest));
    const before = await env.versions(['bronze.pbp']);
    const result = await env.run({ command: 'bootstrap', datasets: ['pbp'], seasons: years('2020') });
    expect(result.datasets[0]!.assets[0]!.status).toBe('unchanged');
    expect(await env.versions(['bronze.pbp'])).toEqual(before);
  });

  it('without any manifest, files are downloaded again and nothing is committed twice', async () => {
    rmSync(path.join(env.dir, 'raw'), { recursive: true, force: true });
    const before = await env.versions(['bronze.pbp', 'bronze.teams']);
    const result = await env.run({ command: 'bootstrap', datasets: ['pbp', 'teams'], seasons: years('2020') });
    expect(result.failures, failuresOf(result)).toBe(0);
    expect(result.commits).toBe(0);
    expect(await env.versions(['bronze.pbp', 'bronze.teams'])).toEqual(before);
  });

  it('writes a JSON-lines run log with per-dataset timings, bytes and rows', () => {
    const logs = readdirSync(path.join(env.dir, 'logs'));
    expect(logs.length).toBeGreaterThanOrEqual(SAMPLE_PLAN.length);
    const lines = logs.flatMap((f) => readFileSync(path.join(env.dir, 'logs', f), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>));
    const finished = lines.find((l) => l['msg'] === 'dataset finished' && l['dataset'] === 'pbp' && (l['rows'] as number) > 0);
    expect(finished).toMatchObject({ run_id: expect.any(String), status: 'ok', ms: expect.any(Number), bytes: expect.any(Number), rows: 2900, commits: 1 });
    expect(lines.some((l) => l['msg'] === 'commit written' && l['table'] === 'bronze.pbp')).toBe(true);
  });
});

describe('faults leave every table at its last good version', () => {
  let env: Env;
  const TEAMS = 'nflverse/teams/teams_colors_logos.parquet';
  const WINS = 'mrcaseb/data/historical_win_totals.csv';
  const tables = ['bronze.teams', 'bronze.win_totals'];
  const run = (extra: Partial<IngestRunOptions> = {}): Promise<IngestRunResult> => env.run({ datasets: ['teams', 'win_totals'], seasons: years('2020'), ...extra });
  let winsCsv: string;
  let stamp = 0;
  const newTeams = async (): Promise<Buffer> => server.renderParquet(TEAMS, { timestamp: `2026-12-0${++stamp} 01:00:00 EST` });

  beforeAll(async () => {
    env = await freshEnv('bronze-faults-');
    winsCsv = readFileSync('data/sample/betting/historical_win_totals.csv', 'utf8');
    const result = await run();
    expect(result.failures, failuresOf(result)).toBe(0);
  });

  it('retries 500 then 429 with Retry-After and commits the changed file once', async () => {
    server.setFile(TEAMS, await newTeams());
    server.fault(TEAMS, { status: 500 }, { status: 429, retryAfter: '3' });
    const before = await env.versions(tables);
    const clock = fakeClock();
    const result = await run({ clock });
    expect(result.failures, failuresOf(result)).toBe(0);
    expect(clock.sleeps).toHaveLength(2);
    expect(clock.sleeps[1]).toBe(3000);
    expect(result.datasets.find((d) => d.dataset === 'teams')!.assets[0]).toMatchObject({ status: 'committed', attempts: 3 });
    expect(await env.versions(tables)).toEqual({ ...before, 'bronze.teams': before['bronze.teams']! + 1 });
  });

  it('follows a redirect chain to the storage host', async () => {
    server.setFile(TEAMS, await newTeams());
    server.fault(TEAMS, { redirects: 4 });
    const before = await env.versions(tables);
    const result = await run();
    expect(result.failures, failuresOf(result)).toBe(0);
    expect(await env.versions(tables)).toEqual({ ...before, 'bronze.teams': before['bronze.teams']! + 1 });
    expect(await env.commitInfo('bronze.teams')).toMatchObject({ upstream_file: { url: `${server.baseUrls['nflverse']}/${TEAMS.slice('nflverse/'.length)}` } });
  });

  type Case = [string, string, () => Promise<void>, RegExp, number];
  it.each<Case>([
    ['an HTML error page served as .parquet', 'DATA_INVALID', async () => server.fault(TEAMS, { html: true }), /HTML page instead of parquet data/, 3],
    ['a truncated Parquet file', 'DATA_INVALID', async () => (server.setFile(TEAMS, await newTeams()), server.fault(TEAMS, { truncate: 2000 })), /truncated Parquet file: 2000 bytes/, 3],
    ['a response that always hangs', 'INGEST_UNREACHABLE', async () => server.fault(TEAMS, ...Array.from({ length: 5 }, () => ({ hang: 'headers' as const }))), /timed out .*gave up after 5 attempts/, 5],
    ['a 403', 'INGEST_HTTP_STATUS', async () => (server.setFile(TEAMS, await newTeams()), server.fault(TEAMS, { status: 403 })), /HTTP 403 is not retried/, 5],
    ['a CSV without a business-key column', 'SCHEMA_MISMATCH', async () => server.setFile(WINS, Buffer.from(winsCsv.replace(/^team,/, '').replace(/\n[^,\n]+,/g, '\n'))), /required column team \(business key or partition\) is missing/, 3],
    ['a CSV row with a missing field', 'DATA_INVALID', async () => server.setFile(WINS, Buffer.from(winsCsv.replace(/\nARI,2020,7\.5,-110,/, '\nARI,2020,7.5,'))), /cannot be read/, 3],
    ['a numeric column that turned into text', 'SCHEMA_MISMATCH', async () => server.setFile(WINS, Buffer.from(winsCsv.replace(/\nARI,2020,7\.5,/, '\nARI,2020,seven,'))), /column win_total is double in bronze but string upstream/, 3],
  ])('%s: %s, tables unchanged, then recovers', async (_name, code, inject, message, exitCode) => {
    await inject();
    const before = await env.versions(tables);
    const outcome = await runWithTimeout(code === 'INGEST_UNREACHABLE' ? 100 : 2000);
    const failed = outcome.datasets.filter((d) => d.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.error).toMatchObject({ code, exitCode });
    expect(failed[0]!.error!.message).toMatch(message);
    expect(outcome.exitCode).toBe(exitCode);
    expect(await env.versions(tables)).toEqual(before);
    // Once the upstream is good again, the run recovers.
    server.setFile(TEAMS, await server.content(TEAMS));
    server.setFile(WINS, Buffer.from(winsCsv));
    const recovered = await runWithTimeout(2000);
    expect(recovered.failures, failuresOf(recovered)).toBe(0);
  });

  async function runWithTimeout(timeoutMs: number): Promise<IngestRunResult> {
    const settings = resolveSettings(catalog, { LAKE_ROOT: path.join(env.dir, 'tables'), LAKE_RAW_DIR: path.join(env.dir, 'raw'), LAKE_LOGS_DIR: path.join(env.dir, 'logs'), ...server.env() });
    return runIngest({ catalog, settings: { ...settings, http: { ...settings.http, timeoutMs } }, command: 'update', datasets: ['teams', 'win_totals'], seasons: years('2020'), today: TODAY, clock: fakeClock(), lake: env.lake });
  }

  it('an additive upstream column evolves the bronze schema and is recorded as drift', async () => {
    const lines = winsCsv.trimEnd().split('\n');
    server.setFile(WINS, Buffer.from(`${lines.map((l, i) => `${l},${i === 0 ? 'book' : 'consensus'}`).join('\n')}\n`));
    const before = await env.versions(tables);
    const result = await run();
    expect(result.failures, failuresOf(result)).toBe(0);
    expect(await env.versions(tables)).toEqual({ ...before, 'bronze.win_totals': before['bronze.win_totals']! + 1 });
    expect(result.datasets.find((d) => d.dataset === 'win_totals')!.assets[0]!.drift).toEqual({ added: [{ name: 'book', type: 'string' }], missing: [], retyped: [] });
    expect(await env.commitInfo('bronze.win_totals')).toMatchObject({ schema_drift: { added: [{ name: 'book', type: 'string' }] } });
    const q = await runQuery(env.lake, 'SELECT count(*) FILTER (WHERE book IS NULL), count(*) FILTER (WHERE book = \'consensus\') FROM bronze.win_totals');
    expect(q.rows[0]).toEqual([989n, 989n]);
  });

  it('a 404 for a season not published yet is a notice; for a past season it is an error', async () => {
    const future = await env.run({ datasets: ['injuries'], seasons: years('2026') });
    expect(future.failures).toBe(0);
    expect(future.exitCode).toBe(0);
    expect(future.datasets[0]!.notices.join()).toMatch(/injuries\/injuries_2026\.parquet: not published upstream yet \(HTTP 404\)/);
    const past = await env.run({ datasets: ['injuries'], seasons: years('2024') });
    expect(past.datasets[0]!.error).toMatchObject({ code: 'INGEST_HTTP_STATUS', exitCode: 5 });
    const later = await env.run({ datasets: ['injuries'], seasons: years('2027') });
    expect(later.datasets[0]!.assets).toEqual([]);
    expect(later.datasets[0]!.notices.join()).toMatch(/season 2027 is not published yet \(current injuries season is 2026\)/);
  });
});
