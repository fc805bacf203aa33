import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/program.js';
import { resolveTable, restoreTable } from '../../../src/table/index.js';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';
import { catalog, routeKey, sampleLake, type SampleLake } from '../../helpers/sample-lake.js';
import { profileLayer, tableLineage, type TableLineage } from '../../../src/pipeline/index.js';

/** `lake lineage` and `lake profile`, derived from the Delta log (and the table) alone. */
let server: UpstreamServer;
let env: SampleLake;
const LEGACY_2024 = routeKey('player_stats_legacy', 2024);
const runs: string[] = [];

beforeAll(async () => {
  server = await startUpstreamServer();
  env = await sampleLake(server, 'lineage');
  await env.ingest(['pbp', 'player_stats_legacy']);
  runs.push((await env.promote({ datasets: ['pbp', 'player_stats_legacy'], runId: 'promote-1' })).runId);
  server.setFile(LEGACY_2024, await server.renderParquet(LEGACY_2024, { timestamp: '2026-11-20 08:00:00 EST', sql: 'SELECT * REPLACE (fantasy_points + 1 AS fantasy_points) FROM {source} WHERE season = 2024' }));
  await env.ingest(['player_stats_legacy']);
  runs.push((await env.promote({ datasets: ['player_stats_legacy'], runId: 'promote-2' })).runId);
});
afterAll(async () => {
  env.close();
  await server.close();
});

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = { ...process.env };
  process.env['LAKE_ROOT'] = env.settings.root;
  try {
    const code = await runCli(['node', 'lake', ...args], { out: (t) => out.push(t), err: (t) => err.push(t) });
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    process.env = saved;
  }
}

function fingerprintAt(lineage: TableLineage, season: string): string | null {
  return lineage.partitions.find((p) => p.partition['season'] === season)!.sha256_fingerprint;
}

describe('lake lineage', () => {
  it('runs, dataset and partitions of a silver table, from its log', async () => {
    const lineage = await tableLineage(env.lake, resolveTable(env.lake, 'silver.player_stats_legacy'));
    expect(lineage.version).toBe(1);
    expect(lineage.runs.map((r) => [r.run_id, r.versions, r.status, r.pipeline_version])).toEqual([
      ['promote-2', [1], 'committed', '0.1.0'],
      ['promote-1', [0], 'committed', '0.1.0'],
    ]);
    expect(lineage.runs[0]!.upstream_version).toBe('2026-11-20 08:00:00 EST');
    expect(lineage.runs[0]!.source_versions).toEqual({ 'bronze.player_stats_legacy': 2 });
    expect(lineage.datasets).toEqual([
      {
        dataset: 'player_stats_legacy',
        version: 1,
        run_id: 'promote-2',
        last_ingest_utc: expect.stringMatching(/^2026-11-25T12:/),
        rows_last_batch: await env.count('SELECT count(*) FROM silver.player_stats_legacy WHERE season = 2024'),
        changed_partitions: [{ season: '2024' }],
        bronze_version: 2,
        bronze_from_version: 1,
      },
    ]);
    const v0 = (await env.commitInfo('silver.player_stats_legacy', 0))['promote'] as { partitions: { partition: { season: string }; sha256_fingerprint: string }[] };
    expect(lineage.partitions.map((p) => [p.partition, p.version, p.run_id, p.files])).toEqual([
      [{ season: '2023' }, 0, 'promote-1', 1],
      [{ season: '2024' }, 1, 'promote-2', 1],
    ]);
    expect(fingerprintAt(lineage, '2023')).toBe(v0.partitions.find((p) => p.partition.season === '2023')!.sha256_fingerprint);
    // A stat correction changes values, not keys: the key fingerprint of 2024 is the same.
    expect(fingerprintAt(lineage, '2024')).toBe(v0.partitions.find((p) => p.partition.season === '2024')!.sha256_fingerprint);
    for (const p of lineage.partitions) {
      expect(p.row_count).toBe(await env.count(`SELECT count(*) FROM silver.player_stats_legacy WHERE season = ${p.partition['season']}`));
      expect(p.min_ingested_at).toMatch(/^2026-11-25T/);
    }
  });

  it('after a restore, partitions trace back to the commit that wrote their files; the next promote re-applies newer bronze', async () => {
    const table = resolveTable(env.lake, 'silver.player_stats_legacy');
    await restoreTable(env.lake, { table, version: 0 });
    const lineage = await tableLineage(env.lake, table);
    expect(lineage.version).toBe(2);
    expect(lineage.partitions.map((p) => [p.partition['season'], p.version, p.run_id])).toEqual([
      ['2023', 0, 'promote-1'],
      ['2024', 0, 'promote-1'],
    ]);
    const next = await env.promote({ datasets: ['player_stats_legacy'] });
    expect(next.datasets[0]).toMatchObject({ status: 'committed', version: 3, mode: 'incremental', bronzeFromVersion: 1 });
    expect(next.datasets[0]!.partitions.map((p) => p.partition)).toEqual([{ season: '2024' }]);
  });

  it('a bronze table: runs and the last batch from ingest commits, row counts from log stats, no fingerprints', async () => {
    const lineage = await tableLineage(env.lake, resolveTable(env.lake, 'bronze.pbp'));
    expect(lineage.runs).toHaveLength(1);
    expect(lineage.datasets[0]).toMatchObject({ dataset: 'pbp', rows_last_batch: 2900, changed_partitions: [{ season: '2020' }], bronze_version: null });
    expect(lineage.partitions).toEqual([expect.objectContaining({ partition: { season: '2020' }, row_count: 2900, sha256_fingerprint: null })]);
  });

  it('the CLI prints it, as a table or JSON; an unknown table is exit 2', async () => {
    const text = await cli(['lineage', 'silver.pbp']);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/^silver\.pbp at version 0/);
    expect(text.out).toContain('promote-1');
    expect(text.out).toMatch(/season=2020 +│ 2900/);
    const json = await cli(['lineage', 'silver.pbp', '--json']);
    expect(JSON.parse(json.out)).toMatchObject({ table: 'silver.pbp', version: 0, runs: [{ run_id: 'promote-1' }] });
    const missing = await cli(['lineage', 'silver.nothing_here']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/TABLE_NOT_FOUND/);
  });
});

describe('lake profile', () => {
  it('per partition: rows, NULLs per column and distinct keys', async () => {
    const run = await profileLayer(env.lake, catalog, 'silver', ['pbp', 'schedules']);
    expect(run.missing).toEqual(['schedules']);
    const [pbp] = run.tables;
    expect(pbp).toMatchObject({ table: 'silver.pbp', key: ['game_id', 'play_id'] });
    expect(pbp!.partitions).toHaveLength(1);
    const p = pbp!.partitions[0]!;
    expect([p.partition, p.rows, p.distinct_keys]).toEqual([{ season: '2020' }, 2900, 2900]);
    expect(p.nulls['xpass']).toBe(2900);
    expect(p.nulls['game_id']).toBe(0);
    expect(p.nulls['down']).toBe(await env.count('SELECT count(*) FROM silver.pbp WHERE down IS NULL'));
    const cliRun = await cli(['profile', '--layer', 'silver', '--datasets', 'player_stats_legacy', '--json']);
    expect(cliRun.code, cliRun.err).toBe(0);
    const printed = JSON.parse(cliRun.out) as { tables: { partitions: { partition: { season: string }; rows: number; distinct_keys: number }[] }[] };
    expect(printed.tables[0]!.partitions.map((x) => [x.partition.season, x.rows === x.distinct_keys])).toEqual([
      ['2023', true],
      ['2024', true],
    ]);
    const text = await cli(['profile', '--datasets', 'pbp']);
    expect(text.out).toMatch(/silver\.pbp \(version 0, 377 columns, key game_id, play_id\)/);
  });
});
