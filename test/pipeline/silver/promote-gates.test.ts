import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveTable, restoreTable, tableSnapshot } from '../../../src/table/index.js';
import { runCli } from '../../../src/cli/program.js';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';
import { routeKey, sampleLake, type SampleLake } from '../../helpers/sample-lake.js';

/**
 * A bad bronze batch is stopped by the quality gates: silver keeps its version, the report
 * names the check, the partition and example rows, the other datasets go on, exit code 3.
 */
let server: UpstreamServer;
let original: Buffer;
/** pbp and schedules ingested and promoted once; each test starts from a copy. */
let base: SampleLake;
const PBP = routeKey('pbp', 2020);
const cleanup: (() => void)[] = [];

beforeAll(async () => {
  server = await startUpstreamServer();
  original = await server.content(PBP);
  base = await sampleLake(server, 'gates-base');
  cleanup.push(() => base.close());
  await base.ingest(['pbp', 'schedules']);
  expect((await base.promote({ datasets: ['pbp', 'schedules'] })).failures).toBe(0);
});
afterAll(async () => {
  for (const c of cleanup) c();
  await server.close();
});

async function freshLake(prefix: string): Promise<SampleLake> {
  server.setFile(PBP, original);
  const env = await sampleLake(server, prefix, base);
  cleanup.push(() => env.close());
  return env;
}

async function serve(timestamp: string, sql: string): Promise<void> {
  server.setFile(PBP, await server.renderParquet(PBP, { timestamp, sql }));
}

function fingerprint(env: SampleLake, version: number): Promise<string> {
  return env.commitInfo('silver.pbp', version).then((info) => ((info['promote'] as { partitions: { sha256_fingerprint: string }[] }).partitions[0]!.sha256_fingerprint));
}

describe('quality gates on a bad bronze batch', () => {
  it('half the rows of a partition missing: row_count fails, silver keeps its version; the next good pull promotes', async () => {
    const env = await freshLake('gates-half');
    await serve('2026-11-24 08:00:00 EST', 'SELECT * FROM {source} WHERE hash(play_id) % 2 = 0');
    await env.ingest(['pbp', 'schedules']);
    const bronzeRows = await env.count('SELECT count(*) FROM bronze.pbp');
    const result = await env.promote({ datasets: ['pbp', 'schedules'], runId: 'run-half' });
    const pbp = result.datasets.find((d) => d.dataset === 'pbp')!;
    expect(pbp.status).toBe('failed');
    expect(pbp.error).toMatchObject({ code: 'QUALITY_GATE_FAILED', exitCode: 3 });
    expect(pbp.error!.message).toMatch(/quality gate row_count failed on season=2020: .* newest bronze batch has \d+ rows against 2900/);
    expect(pbp.error!.message).toMatch(/silver\.pbp stays at version 0/);
    expect(result.exitCode).toBe(3);
    expect(await env.version('silver.pbp')).toBe(0);
    expect(await env.count('SELECT count(*) FROM silver.pbp')).toBe(2900);
    const report = env.reports('pbp').find((r) => r['run_id'] === 'run-half')!;
    expect(report).toMatchObject({ status: 'failed', silver_version_before: 0, silver_version_after: 0, error: { code: 'QUALITY_GATE_FAILED' } });
    const failed = (report['checks'] as { check: string; status: string; partition: unknown }[]).filter((c) => c.status === 'fail');
    expect(failed).toEqual([expect.objectContaining({ check: 'row_count', partition: { season: '2020' } })]);

    // The next good pull: the newest batch is whole again, the merge keeps one row per key.
    await serve('2026-11-25 08:00:00 EST', 'SELECT * FROM {source}');
    await env.ingest(['pbp']);
    expect(await env.count('SELECT count(*) FROM bronze.pbp')).toBe(bronzeRows + 2900);
    const next = await env.promote({ datasets: ['pbp'] });
    expect(next.datasets[0]).toMatchObject({ status: 'committed', version: 1, mode: 'incremental' });
    expect(await env.count('SELECT count(*) FROM silver.pbp')).toBe(2900);
    expect(await fingerprint(env, 1)).toBe(await fingerprint(env, 0));
  });

  it('a NULL key: not_null fails with example rows; after the bronze run is restored away, the partition is rebuilt as before', async () => {
    const env = await freshLake('gates-null');
    const bronzeBefore = (await env.version('bronze.pbp'))!;
    await serve('2026-11-24 09:00:00 EST', 'SELECT * REPLACE (CASE WHEN play_id < 40 THEN NULL ELSE game_id END AS game_id) FROM {source}');
    await env.ingest(['pbp']);
    const result = await env.promote({ datasets: ['pbp'], runId: 'run-null' });
    const pbp = result.datasets[0]!;
    expect(pbp.error).toMatchObject({ code: 'QUALITY_GATE_FAILED' });
    // 16 plays lost their game_id; NULL keys collapse in the dedupe, and repeat inside the batch.
    expect(pbp.error!.message).toMatch(/quality gate not_null \(game_id\) failed on season=2020: pbp season=2020: \d+ rows? where game_id must not be NULL \(and 1 more failing check\)/);
    const report = env.reports('pbp').find((r) => r['run_id'] === 'run-null')!;
    const check = (report['checks'] as { check: string; column?: string; status: string; examples: Record<string, unknown>[] }[]).find((c) => c.check === 'not_null' && c.column === 'game_id')!;
    expect(check.status).toBe('fail');
    expect(check.examples.length).toBeGreaterThan(0);
    const failing = (report['checks'] as { check: string; status: string }[]).filter((c) => c.status === 'fail').map((c) => c.check);
    expect(failing).toEqual(['not_null', 'unique']);
    expect(check.examples[0]).toMatchObject({ game_id: null, season: 2020, play_id: expect.any(Number) });
    expect(await env.version('silver.pbp')).toBe(0);

    // Undo the bad pull in bronze (a RESTORE removes its file): the promote rebuilds the partition.
    await restoreTable(env.lake, { table: resolveTable(env.lake, 'bronze.pbp'), version: bronzeBefore });
    const next = await env.promote({ datasets: ['pbp'] });
    expect(next.datasets[0]).toMatchObject({ status: 'committed', version: 1 });
    expect(next.datasets[0]!.partitions.map((p) => p.mode)).toEqual(['rebuild']);
    expect(await fingerprint(env, 1)).toBe(await fingerprint(env, 0));
    expect(await env.count('SELECT count(*) FROM silver.pbp WHERE game_id IS NULL')).toBe(0);
  });

  it('the CLI exits 3 with QUALITY_GATE_FAILED while the other datasets commit', async () => {
    const env = await freshLake('gates-cli');
    await serve('2026-11-24 10:00:00 EST', 'SELECT * FROM {source} WHERE hash(play_id) % 2 = 0');
    const schedules = routeKey('schedules');
    server.setFile(schedules, await server.renderParquet(schedules, { timestamp: '2026-11-24 10:00:00 EST', sql: 'SELECT * REPLACE (coalesce(temp, 0) + 1 AS temp) FROM {source}' }));
    await env.ingest(['pbp', 'schedules']);
    const out: string[] = [];
    const err: string[] = [];
    const saved = { ...process.env };
    Object.assign(process.env, { LAKE_ROOT: env.settings.root, LAKE_LOGS_DIR: env.settings.logsDir, LAKE_RAW_DIR: env.settings.rawDir });
    let code: number;
    try {
      code = await runCli(['node', 'lake', 'promote', '--datasets', 'pbp,schedules', '--quality-dir', env.reportDir, '--json'], { out: (t) => out.push(t), err: (t) => err.push(t) });
    } finally {
      process.env = saved;
    }
    expect(code).toBe(3);
    const printed = JSON.parse(out.join('')) as { datasets: { dataset: string; status: string }[] };
    expect(printed.datasets.map((d) => [d.dataset, d.status])).toEqual([
      ['pbp', 'failed'],
      ['schedules', 'committed'],
    ]);
    expect(JSON.parse(err.join('')).error).toMatchObject({ code: 'QUALITY_GATE_FAILED', exitCode: 3 });
    expect((await tableSnapshot(env.lake, resolveTable(env.lake, 'silver.schedules'))).version).toBe(1);
    expect(await env.version('silver.pbp')).toBe(0);
  });
});
