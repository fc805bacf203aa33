import { existsSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCommit } from '../../../src/delta/index.js';
import { resolveTable, tableSnapshot } from '../../../src/table/index.js';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';
import { routeKey, sampleLake, type SampleLake } from '../../helpers/sample-lake.js';

let server: UpstreamServer;
let env: SampleLake;
const LEGACY_2024 = routeKey('player_stats_legacy', 2024);

beforeAll(async () => {
  server = await startUpstreamServer();
  env = await sampleLake(server, 'promote');
  await env.ingest(['pbp', 'player_stats_legacy', 'schedules']);
});
afterAll(async () => {
  env.close();
  await server.close();
});

describe('lake promote on the real sample', () => {
  it('dry run: the partitions and row deltas, and nothing written', async () => {
    const plan = await env.promote({ dryRun: true, datasets: ['pbp', 'player_stats_legacy'] });
    expect(plan.commits).toBe(0);
    const legacy = plan.datasets.find((d) => d.dataset === 'player_stats_legacy')!;
    expect(legacy.status).toBe('planned');
    expect(legacy.partitions.map((p) => [p.partition, p.mode, p.rowsBefore, p.rowsAfter])).toEqual([
      [{ season: '2023' }, 'rebuild', null, expect.any(Number)],
      [{ season: '2024' }, 'rebuild', null, expect.any(Number)],
    ]);
    expect(legacy.partitions.reduce((n, p) => n + p.rowsAfter, 0)).toBe(await env.count('SELECT count(*) FROM bronze.player_stats_legacy'));
    expect(await env.version('silver.pbp')).toBeUndefined();
    expect(env.reports('pbp')).toEqual([]);
    expect(existsSync(path.join(env.lake.root, '.staging'))).toBe(false);
  });

  it('first promote: one commit per table with the rows of bronze, lineage in commitInfo, a report per dataset', async () => {
    const result = await env.promote({ datasets: ['pbp', 'player_stats_legacy', 'schedules'], runId: 'run-first' });
    expect(result.failures, JSON.stringify(result.datasets.map((d) => d.error))).toBe(0);
    expect(result.datasets.map((d) => [d.dataset, d.status, d.version])).toEqual([
      ['pbp', 'committed', 0],
      ['player_stats_legacy', 'committed', 0],
      ['schedules', 'committed', 0],
    ]);
    for (const t of ['pbp', 'player_stats_legacy', 'schedules']) {
      expect(await env.count(`SELECT count(*) FROM silver.${t}`)).toBe(await env.count(`SELECT count(*) FROM bronze.${t}`));
    }
    const info = await env.commitInfo('silver.pbp');
    expect(info).toMatchObject({ run_id: 'run-first', pipeline_version: '0.1.0', dataset: 'pbp', source_versions: { 'bronze.pbp': 0 }, operation: 'CREATE TABLE' });
    const promote = info['promote'] as Record<string, unknown>;
    expect(promote).toMatchObject({ bronze_version: 0, bronze_from_version: null, mode: 'full', key: ['game_id', 'play_id'], dedupe: 'key', rows_last_batch: 2900, changed_partitions: [{ season: '2020' }] });
    const [partition] = promote['partitions'] as Record<string, unknown>[];
    expect(partition).toMatchObject({ partition: { season: '2020' }, rows_after: 2900, rows_in_batch: 2900, sha256_fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(partition!['min_ingested_at']).toBe(partition!['max_ingested_at']);
    // The fingerprint is the sha256 over the sorted keys, recomputable from the table.
    const fp = await env.lake.engine.rows<{ fp: string }>(
      `SELECT sha256(string_agg(k, chr(10) ORDER BY k)) AS fp FROM (SELECT to_json([CAST(game_id AS VARCHAR), CAST(play_id AS VARCHAR)]) AS k FROM read_parquet('${resolveTable(env.lake, 'silver.pbp').tableRoot}/*/*.parquet'))`,
    );
    expect(partition!['sha256_fingerprint']).toBe(fp[0]!.fp);
    const [report] = env.reports('pbp');
    expect(report).toMatchObject({ run_id: 'run-first', dataset: 'pbp', status: 'committed', silver_version_before: null, silver_version_after: 0, bronze_version: 0 });
    expect((report!['checks'] as { status: string }[]).every((c) => c.status === 'pass')).toBe(true);
  });

  it('removes staging left by a killed run a day ago, not a fresh one', async () => {
    const staging = path.join(env.lake.root, '.staging');
    for (const name of ['promote-killed', 'promote-running']) {
      mkdirSync(path.join(staging, name, 'pbp'), { recursive: true });
      writeFileSync(path.join(staging, name, 'pbp', 'g0.parquet'), 'x');
    }
    const dayAgo = new Date(Date.now() - 25 * 3_600_000);
    utimesSync(path.join(staging, 'promote-killed'), dayAgo, dayAgo);
    await env.promote({ datasets: ['schedules'] });
    expect([existsSync(path.join(staging, 'promote-killed')), existsSync(path.join(staging, 'promote-running'))]).toEqual([false, true]);
    rmSync(staging, { recursive: true });
  });

  it('promoting again with no new bronze commit commits nothing (and still reports)', async () => {
    const result = await env.promote({ datasets: ['pbp', 'player_stats_legacy', 'schedules'], runId: 'run-again' });
    expect(result.commits).toBe(0);
    expect(result.datasets.map((d) => d.status)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(await env.version('silver.pbp')).toBe(0);
    expect(env.reports('schedules').map((r) => [r['run_id'], r['status']])).toEqual(
      expect.arrayContaining([
        ['run-again', 'unchanged'],
        ['run-first', 'committed'],
      ]),
    );
  });

  it('a new upstream file for one season rewrites only that partition, in one commit that removes exactly its files', async () => {
    const before = await tableSnapshot(env.lake, resolveTable(env.lake, 'silver.player_stats_legacy'));
    const files2023 = before.files.filter((f) => f.partitionValues['season'] === '2023').map((f) => f.path);
    // A stat correction: one player's 2024 receiving yards change upstream.
    server.setFile(LEGACY_2024, await server.renderParquet(LEGACY_2024, { timestamp: '2026-11-20 08:00:00 EST', sql: "SELECT * REPLACE (CASE WHEN player_display_name = 'Justin Jefferson' THEN receiving_yards + 1 ELSE receiving_yards END AS receiving_yards) FROM {source} WHERE season = 2024" }));
    await env.ingest(['player_stats_legacy']);
    const result = await env.promote({ datasets: ['player_stats_legacy', 'pbp'] });
    const legacy = result.datasets[0]!;
    expect([legacy.status, legacy.version, legacy.mode, legacy.bronzeFromVersion]).toEqual(['committed', 1, 'incremental', 1]);
    expect(legacy.partitions.map((p) => [p.partition, p.mode, p.rowsBefore, p.rowsAfter])).toEqual([[{ season: '2024' }, 'merge', expect.any(Number), expect.any(Number)]]);
    expect(legacy.partitions[0]!.rowsAfter).toBe(legacy.partitions[0]!.rowsBefore);
    expect(result.datasets[1]!.status).toBe('unchanged');
    const actions = await readCommit(before.tableRoot, 1);
    const removed = actions.flatMap((a) => (a.kind === 'remove' ? [a.remove.partitionValues?.['season']] : []));
    const added = actions.flatMap((a) => (a.kind === 'add' ? [a.add.partitionValues['season']] : []));
    expect([removed, added]).toEqual([['2024'], ['2024']]);
    const after = await tableSnapshot(env.lake, resolveTable(env.lake, 'silver.player_stats_legacy'));
    expect(after.files.filter((f) => f.partitionValues['season'] === '2023').map((f) => f.path)).toEqual(files2023);
    const info = await env.commitInfo('silver.player_stats_legacy');
    expect(info.operationParameters).toMatchObject({ predicate: "season = '2024'", mode: 'Overwrite' });
    // The corrected value is in silver, every row of 2024 comes from the newest batch, 2023 is untouched.
    const old = await env.count(`SELECT receiving_yards FROM silver.player_stats_legacy AT (VERSION => 0) WHERE player_display_name = 'Justin Jefferson' AND season = 2024 AND week = 1`);
    const now = await env.count(`SELECT receiving_yards FROM silver.player_stats_legacy WHERE player_display_name = 'Justin Jefferson' AND season = 2024 AND week = 1`);
    expect(now).toBe(old + 1);
    expect(await env.count(`SELECT count(DISTINCT ingested_at) FROM silver.player_stats_legacy WHERE season = 2024`)).toBe(1);
    expect(await env.count(`SELECT count(*) FROM silver.player_stats_legacy WHERE season = 2023 AND ingested_at > (SELECT min(ingested_at) FROM silver.player_stats_legacy)`)).toBe(0);
  });

  it('team codes are canonical and weekly stats call recent_team team', async () => {
    const cols = await env.lake.engine.rows<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet('${resolveTable(env.lake, 'silver.player_stats_legacy').tableRoot}/*/*.parquet')`);
    expect(cols.map((c) => c.column_name)).toContain('team');
    expect(cols.map((c) => c.column_name)).not.toContain('recent_team');
    // Bronze pbp has LA and LV; the aliases map to them: check the macro on the aliases the issue names.
    const mapped = await env.lake.engine.rows<{ m: string[] }>("SELECT [team_code(x) FOR x IN ['JAC', 'LAR', 'OAK', 'SD', 'STL', 'WSH', 'jax ', 'GNB', 'KCC']] AS m");
    expect(mapped[0]!.m).toEqual(['JAX', 'LA', 'LV', 'LAC', 'LA', 'WAS', 'JAX', 'GB', 'KC']);
    const era = await env.lake.engine.rows<{ m: string[] }>("SELECT [team_code('STL', 1985), team_code('STL', 2010), team_code('HOU', 1995), team_code('HOU', 2010)] AS m");
    expect(era[0]!.m).toEqual(['ARI', 'LA', 'TEN', 'HOU']);
  });
});
