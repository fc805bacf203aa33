import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GC_OPERATION, resolveTable, tableHistory } from '../../src/table/index.js';
import { cliError, describeChild, requireBuild, runCliProcess, type ChildResult } from '../helpers/child.js';
import { routeKey, sampleLake, TODAY, type SampleLake } from '../helpers/sample-lake.js';
import { startUpstreamServer, type UpstreamServer } from '../helpers/upstream-server.js';

/**
 * `lake gc` and `lake update --optimize` as real child processes on the sample lake: the ingest
 * appends a stat correction of pbp, then GC removes the superseded batch and OPTIMIZE runs on
 * the run's tables; `lake gc --dry-run` lists, `lake gc silver.pbp` is a usage error, and with the
 * shipped catalog (bronze_retention all) gc does nothing and says so.
 */
requireBuild();
const PBP = routeKey('pbp', 2020);
let server: UpstreamServer;
let original: Buffer;
let env: SampleLake;
let catalogFile: string;

beforeAll(async () => {
  server = await startUpstreamServer();
  original = await server.content(PBP);
  env = await sampleLake(server, 'gc-cli');
  await env.ingest(['pbp']);
  expect((await env.promote({ datasets: ['pbp'] })).failures).toBe(0);
  server.setFile(PBP, await server.renderParquet(PBP, { timestamp: '2026-11-24 08:00:00 EST', sql: 'SELECT * REPLACE (yards_gained + 1 AS yards_gained) FROM {source}' }));
  const text = readFileSync('catalog/datasets.yml', 'utf8');
  const pbpKey = /(\n {2}pbp:\n(?: {4}.*\n)*? {4}business_key: \[game_id, play_id\]\n)/;
  expect(text).toMatch(pbpKey);
  catalogFile = path.join(env.dir, 'datasets.yml');
  writeFileSync(catalogFile, text.replace(pbpKey, '$1    bronze_retention: { latest_batches: 1 }\n'));
});
afterAll(async () => {
  env?.close();
  server.setFile(PBP, original);
  await server.close();
});

function lake(...args: string[]): Promise<ChildResult> {
  return runCliProcess(args, {
    env: { LAKE_ROOT: env.settings.root, LAKE_RAW_DIR: env.settings.rawDir, LAKE_LOGS_DIR: env.settings.logsDir, LAKE_READER: 'native', LAKE_TODAY: TODAY.toISOString(), ...server.env() },
  });
}

function lastJson(r: ChildResult): Record<string, unknown> {
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

describe('lake gc (CLI)', () => {
  it('with the shipped catalog (bronze_retention all) does nothing for pbp and says so', async () => {
    const r = await lake('gc', 'bronze.pbp');
    expect(r.code, describeChild(r)).toBe(0);
    expect(r.stdout).toMatch(/bronze\.pbp: skipped: bronze_retention: all/);
  });

  it('refuses a table that is not bronze: USAGE, exit 2', async () => {
    const r = await lake('gc', 'silver.pbp', '--json', '--catalog', catalogFile);
    expect(r.code).toBe(2);
    expect(cliError(r).code).toBe('USAGE');
  });

  it('update --optimize: the ingest, then gc of the superseded batch, then optimize; a dry run afterwards has nothing to remove', async () => {
    const r = await lake('update', '--season', '2020', '--datasets', 'pbp', '--optimize', '--json', '--catalog', catalogFile);
    expect(r.code, describeChild(r)).toBe(0);
    const after = lastJson(r) as { gc: { datasets: { table: string; status: string; batches_removed: number; rows_removed: number }[] }; optimize: { table: string }[] };
    expect(after.gc.datasets).toEqual([expect.objectContaining({ table: 'bronze.pbp', status: 'committed', batches_removed: 1, rows_removed: 2900 })]);
    expect(after.optimize.map((m) => m.table)).toEqual(['bronze.pbp']);
    const history = await tableHistory(env.lake, resolveTable(env.lake, 'bronze.pbp'));
    expect(history.map((h) => h.operation)).toContain(GC_OPERATION);
    expect(await env.count('SELECT count(*) FROM bronze.pbp')).toBe(2900);

    const dry = await lake('gc', '--dry-run', '--catalog', catalogFile);
    expect(dry.code, describeChild(dry)).toBe(0);
    expect(dry.stdout).toMatch(/dry run/);
    expect(dry.stdout).toMatch(/bronze\.pbp\s+│\s+noop/);
  });

  it('dry run lists what would go with the reason once a newer batch is promoted', async () => {
    server.setFile(PBP, await server.renderParquet(PBP, { timestamp: '2026-11-25 08:00:00 EST', sql: 'SELECT * REPLACE (yards_gained + 2 AS yards_gained) FROM {source}' }));
    const up = await lake('update', '--season', '2020', '--datasets', 'pbp', '--build-gold', '--catalog', catalogFile);
    expect(up.code, describeChild(up)).toBe(0);
    const r = await lake('gc', 'pbp', '--dry-run', '--catalog', catalogFile);
    expect(r.code, describeChild(r)).toBe(0);
    expect(r.stdout).toMatch(/would remove bronze\.pbp season=2020: \S+ @ \S+ \(run \S+, 2900 rows, 1 file\): superseded: older than the newest 1 batch of its source/);
    expect(r.stdout).toMatch(/keep bronze\.pbp season=2020: .*: silver, retention/);
    const json = await lake('gc', 'pbp', '--json', '--catalog', catalogFile);
    expect(json.code, describeChild(json)).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ datasets: [{ status: 'committed', batches_removed: 1 }] });
  });
});
