import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBronzeGc, tableLineage, type BronzeGcOutcome, type Catalog } from '../../../src/pipeline/index.js';
import { GC_OPERATION, optimizeTable, resolveTable, runQuery, tableHistory, vacuumTable } from '../../../src/table/index.js';
import { readCommit } from '../../../src/delta/index.js';
import { readRows } from '../../helpers/lake.js';
import { canonicalRows } from '../../helpers/rows.js';
import { catalog, routeKey, sampleLake, type SampleLake } from '../../helpers/sample-lake.js';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';

/**
 * Bronze GC on the real pbp sample (2900 plays, season 2020, dedupe by key): a stat correction
 * re-appends the whole season; GC keeps the batches the next promote reads and the ones holding
 * silver's rows, removes the rest in one dataChange:false commit, and silver, lineage, history
 * and time travel come out as without GC.
 */
const PBP = routeKey('pbp', 2020);
const gcCatalog: Catalog = { ...catalog, datasets: catalog.datasets.map((d) => (d.name === 'pbp' ? { ...d, bronzeRetention: { kind: 'latest_batches' as const, n: 1 } } : d)) };

let server: UpstreamServer;
let original: Buffer;
let env: SampleLake;
/** The same lake, never garbage-collected. */
let control: SampleLake;
const cleanup: (() => void)[] = [];

async function serve(timestamp: string, sql: string): Promise<void> {
  server.setFile(PBP, await server.renderParquet(PBP, { timestamp, sql }));
}

async function gc(lake: SampleLake, options: { dryRun?: boolean; beforeCommit?: () => Promise<void> } = {}): Promise<BronzeGcOutcome> {
  const result = await runBronzeGc({ catalog: gcCatalog, lake: lake.lake, datasets: ['pbp'], dryRun: options.dryRun, clock: lake.clock, beforeCommit: options.beforeCommit });
  expect(result.datasets).toHaveLength(1);
  return result.datasets[0]!;
}

async function silverRows(lake: SampleLake): Promise<string[]> {
  return canonicalRows(await readRows(lake.lake, resolveTable(lake.lake, 'silver.pbp').tableRoot));
}

const ingestRuns: string[] = [];

beforeAll(async () => {
  server = await startUpstreamServer();
  original = await server.content(PBP);
  env = await sampleLake(server, 'bronze-gc');
  cleanup.push(() => env.close());
  ingestRuns.push((await env.ingest(['pbp']))[0]!.runId); // batch A, bronze v0
  expect((await env.promote({ datasets: ['pbp'] })).failures).toBe(0);
  await serve('2026-11-24 08:00:00 EST', 'SELECT * REPLACE (yards_gained + 1 AS yards_gained) FROM {source}');
  ingestRuns.push((await env.ingest(['pbp']))[0]!.runId); // batch B (a stat correction of every play), bronze v1
  control = await sampleLake(server, 'bronze-gc-control', env);
  cleanup.push(() => control.close());
});
afterAll(async () => {
  for (const c of cleanup) c();
  server.setFile(PBP, original);
  await server.close();
});

describe('lake gc on bronze.pbp', () => {
  it('with bronze_retention all (the catalog default) does nothing and says so', async () => {
    const result = await runBronzeGc({ catalog, lake: env.lake, datasets: ['pbp'] });
    expect(result.datasets[0]).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/bronze_retention: all/) });
    expect(await env.version('bronze.pbp')).toBe(1);
  });

  it('dry run: lists the superseded batch with its reason and the pending one as kept; writes nothing', async () => {
    const outcome = await gc(env, { dryRun: true });
    expect(outcome).toMatchObject({ status: 'dry-run', last_promote_bronze_version: 0, batches_removed: 1, rows_removed: 2900, version: null });
    const [batches] = outcome.partitions.map((p) => p.batches);
    expect(outcome.partitions[0]!.partition).toEqual({ season: '2020' });
    expect(batches).toHaveLength(2);
    expect(batches![0]).toMatchObject({ run_id: ingestRuns[0], rows: 2900, keep: false, reasons: [expect.stringMatching(/^superseded: .*every key it holds has a newer row/)] });
    expect(batches![1]).toMatchObject({ run_id: ingestRuns[1], rows: 2900, keep: true, reasons: ['pending', 'silver', 'retention'] });
    expect(await env.version('bronze.pbp')).toBe(1);
  });

  it('removes the superseded batch in ONE commit of dataChange:false removes; a second gc is a no-op', async () => {
    const outcome = await gc(env);
    expect(outcome).toMatchObject({ status: 'committed', version: 2, batches_removed: 1, rows_removed: 2900, files_rewritten: 0, files_added: 0 });
    const actions = await readCommit(resolveTable(env.lake, 'bronze.pbp').tableRoot, 2);
    const info = actions.find((a) => a.kind === 'commitInfo');
    expect(info?.kind === 'commitInfo' && info.commitInfo.operation).toBe(GC_OPERATION);
    const removes = actions.flatMap((a) => (a.kind === 'remove' ? [a.remove] : []));
    expect(removes.length).toBeGreaterThan(0);
    expect(removes.every((r) => r.dataChange === false)).toBe(true);
    expect(actions.some((a) => a.kind === 'add')).toBe(false);
    expect(await env.count('SELECT count(*) FROM bronze.pbp')).toBe(2900);
    expect(await env.count(`SELECT count(*) FROM bronze.pbp WHERE run_id = '${ingestRuns[1]}'`)).toBe(2900);
    expect((await gc(env)).status).toBe('noop');
    expect(await env.version('bronze.pbp')).toBe(2);
  });

  it('the next promote merges only the pending batch and gives the silver of the lake without gc; a full rebuild from what gc kept does too', async () => {
    const promoted = await env.promote({ datasets: ['pbp'] });
    expect(promoted.datasets[0]).toMatchObject({ status: 'committed', mode: 'incremental' });
    expect(promoted.datasets[0]!.partitions.map((p) => p.mode)).toEqual(['merge']);
    await control.promote({ datasets: ['pbp'] });
    const withGc = await silverRows(env);
    expect(withGc).toHaveLength(2900);
    expect(withGc).toEqual(await silverRows(control));
    const rebuilt = await sampleLake(server, 'bronze-gc-rebuild', env);
    cleanup.push(() => rebuilt.close());
    rmSync(resolveTable(rebuilt.lake, 'silver.pbp').tableRoot, { recursive: true, force: true });
    const full = await rebuilt.promote({ datasets: ['pbp'] });
    expect(full.datasets[0]).toMatchObject({ status: 'committed', mode: 'full' });
    expect(await silverRows(rebuilt)).toEqual(withGc);
  });

  it('keeps an older batch that still holds rows silver keeps, removes the one fully superseded', async () => {
    // C and D drop the first plays: their newest rows stay in B.
    await serve('2026-11-25 08:00:00 EST', 'SELECT * REPLACE (yards_gained + 2 AS yards_gained) FROM {source} WHERE play_id > 150');
    ingestRuns.push((await env.ingest(['pbp']))[0]!.runId); // C
    expect((await env.promote({ datasets: ['pbp'] })).failures).toBe(0);
    await serve('2026-11-26 08:00:00 EST', 'SELECT * REPLACE (yards_gained + 3 AS yards_gained) FROM {source} WHERE play_id > 150');
    ingestRuns.push((await env.ingest(['pbp']))[0]!.runId); // D
    const noGc = await sampleLake(server, 'bronze-gc-nogc', env);
    cleanup.push(() => noGc.close());
    const outcome = await gc(env, { dryRun: true });
    const batches = outcome.partitions[0]!.batches;
    expect(batches.map((b) => [b.run_id, b.keep, b.reasons.filter((r) => !r.startsWith('superseded'))])).toEqual([
      [ingestRuns[1], true, ['silver']],
      [ingestRuns[2], false, []],
      [ingestRuns[3], true, ['pending', 'silver', 'retention']],
    ]);
    expect((await gc(env)).status).toBe('committed');
    expect((await env.promote({ datasets: ['pbp'] })).failures).toBe(0);
    expect((await noGc.promote({ datasets: ['pbp'] })).failures).toBe(0);
    expect(await silverRows(env)).toEqual(await silverRows(noGc));
  });

  it('a batch appended between the plan and the commit goes through and is kept (conflict rule)', async () => {
    await serve('2026-11-27 08:00:00 EST', 'SELECT * REPLACE (yards_gained + 4 AS yards_gained) FROM {source}');
    ingestRuns.push((await env.ingest(['pbp']))[0]!.runId); // E: every play again
    expect((await env.promote({ datasets: ['pbp'] })).failures).toBe(0);
    await serve('2026-11-28 08:00:00 EST', 'SELECT * REPLACE (yards_gained + 5 AS yards_gained) FROM {source}');
    let racer: string | undefined;
    const outcome = await gc(env, {
      beforeCommit: async () => {
        racer = (await env.ingest(['pbp']))[0]!.runId; // F, committed while gc holds its plan
      },
    });
    expect(outcome.status).toBe('committed');
    expect(racer).toBeTruthy();
    const runs = await runQuery(env.lake, 'SELECT run_id, count(*) AS n FROM bronze.pbp GROUP BY ALL ORDER BY ALL');
    const byRun = new Map(runs.rows.map((r) => [String(r[0]), Number(r[1])]));
    expect(byRun.get(racer!)).toBe(2900);
    expect(byRun.get(ingestRuns[4]!)).toBe(2900);
    expect(byRun.has(ingestRuns[1]!)).toBe(false);
    ingestRuns.push(racer!);
  });

  it('lake lineage and lake history still name every run with its upstream identity and rows, from the log', async () => {
    const bronze = resolveTable(env.lake, 'bronze.pbp');
    const lineage = await tableLineage(env.lake, bronze);
    const runIds = lineage.runs.map((r) => r.run_id);
    for (const run of ingestRuns) expect(runIds).toContain(run);
    expect(lineage.runs.filter((r) => r.operations.includes(GC_OPERATION))).toHaveLength(3);
    expect(lineage.datasets[0]!.run_id).toBe(ingestRuns[ingestRuns.length - 1]);
    const history = await tableHistory(env.lake, bronze);
    const ingests = history.filter((h) => h.commitInfo?.['upstream_file'] !== undefined);
    expect(ingests.map((h) => h.runId).sort()).toEqual([...ingestRuns].sort());
    for (const h of ingests) {
      expect(h.rowsAdded).toBeGreaterThan(2700);
      expect(h.commitInfo!['upstream_file']).toMatchObject({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(Object.keys(h.commitInfo!['upstream_file'] as object)).toEqual(expect.arrayContaining(['etag', 'last_modified', 'nflverse_timestamp']));
      expect(h.commitInfo!).toHaveProperty('upstream_version');
    }
    const gcs = history.filter((h) => h.operation === GC_OPERATION);
    expect(gcs.every((h) => (h.commitInfo?.['gc'] as { removed_batches: { run_id: string }[] }).removed_batches.length > 0)).toBe(true);
  });

  it('time travel to a version before the gc reads the old rows until vacuum removes their files after the retention', async () => {
    expect(await env.count('SELECT count(*) FROM bronze.pbp AT (VERSION => 1)')).toBe(5800);
    const bronze = resolveTable(env.lake, 'bronze.pbp');
    const soon = await vacuumTable(env.lake, { table: bronze });
    expect(soon.filesDeleted).toBe(0);
    expect(await env.count('SELECT count(*) FROM bronze.pbp AT (VERSION => 1)')).toBe(5800);
    const later = { now: () => Date.now() + 8 * 24 * 3_600_000, sleep: async () => undefined };
    const vacuumed = await vacuumTable(env.lake, { table: bronze, clock: later });
    expect(vacuumed.filesDeleted).toBeGreaterThan(0);
    await expect(env.count('SELECT count(*) FROM bronze.pbp AT (VERSION => 1)')).rejects.toMatchObject({ code: 'DATA_FILE_MISSING' });
    expect(await env.count('SELECT count(*) FROM bronze.pbp')).toBe(await env.count(`SELECT count(*) FROM bronze.pbp WHERE run_id IN ('${ingestRuns.slice(-2).join("','")}') OR run_id = '${ingestRuns[3]}'`));
  });
});

describe('lake gc after an OPTIMIZE merged batches into one file', () => {
  it('rewrites the merged file with the kept rows (dataChange:false), and silver stays as without gc', async () => {
    server.setFile(PBP, original);
    const lake = await sampleLake(server, 'bronze-gc-optimized');
    cleanup.push(() => lake.close());
    await lake.ingest(['pbp']);
    expect((await lake.promote({ datasets: ['pbp'] })).failures).toBe(0);
    await serve('2026-11-24 08:00:00 EST', 'SELECT * REPLACE (yards_gained + 1 AS yards_gained) FROM {source}');
    await lake.ingest(['pbp']);
    const bronze = resolveTable(lake.lake, 'bronze.pbp');
    expect((await optimizeTable(lake.lake, { table: bronze })).status).toBe('committed');
    expect((await lake.promote({ datasets: ['pbp'] })).failures).toBe(0);
    const silverBefore = await silverRows(lake);
    const outcome = await gc(lake);
    expect(outcome).toMatchObject({ status: 'committed', batches_removed: 1, rows_removed: 2900, files_rewritten: 1, files_added: 1 });
    const actions = await readCommit(bronze.tableRoot, outcome.version!);
    expect(actions.filter((a) => a.kind === 'add' || a.kind === 'remove').every((a) => (a.kind === 'add' ? a.add.dataChange : a.kind === 'remove' ? a.remove.dataChange : true) === false)).toBe(true);
    expect(await lake.count('SELECT count(*) FROM bronze.pbp')).toBe(2900);
    expect(await lake.count(`SELECT count(*) FROM bronze.pbp AT (VERSION => ${outcome.version! - 1})`)).toBe(5800);
    const next = await lake.promote({ datasets: ['pbp'] });
    expect(next.datasets[0]!.status).toBe('unchanged');
    expect(await silverRows(lake)).toEqual(silverBefore);
  });
});
