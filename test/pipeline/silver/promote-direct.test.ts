import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetPromoteOutcome } from '../../../src/pipeline/index.js';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';
import { routeKey, sampleLake, type SampleLake } from '../../helpers/sample-lake.js';

/**
 * A first promote writes its single-batch groups straight into the final files (promote-direct.ts)
 * and measures them in fewer scans (the fingerprint scan also gives the batch's rows and upstream
 * versions; one duplicate count serves both sides of the `unique` gate). A dry run measures the
 * same rows through the staging path: both must report the same partitions and the same checks,
 * for clean data and for a batch with repeated keys.
 */
let server: UpstreamServer;
const cleanup: (() => void)[] = [];
/** Key-deduped (pbp, schedules, nextgen_stats, officials) and latest_batch (combine, trades, contracts) datasets. */
const DATASETS = ['pbp', 'schedules', 'nextgen_stats', 'officials', 'combine', 'trades', 'contracts'];

beforeAll(async () => {
  server = await startUpstreamServer();
});
afterAll(async () => {
  for (const c of cleanup) c();
  await server.close();
});

async function freshLake(prefix: string): Promise<SampleLake> {
  const env = await sampleLake(server, prefix);
  cleanup.push(() => env.close());
  await env.ingest(DATASETS);
  return env;
}

/** What a promote measured, without what only a commit or the clock sets. */
function measured(d: DatasetPromoteOutcome): unknown {
  return {
    dataset: d.dataset,
    partitions: d.partitions.map((p) => ({ ...p, contentUnchanged: undefined })),
    checks: d.checks.map((c) => ({ ...c, examples: c.examples.map((e) => JSON.stringify(e)).sort() })),
  };
}

describe('a direct (single-batch) promote measures what the staging path measures', () => {
  it('clean batches: the same partitions (rows, batch rows, fingerprints, upstream versions) and checks as a dry run', async () => {
    const env = await freshLake('direct-clean');
    const dry = await env.promote({ datasets: DATASETS, dryRun: true, runId: 'dry' });
    const real = await env.promote({ datasets: DATASETS, runId: 'real' });
    expect(real.failures).toBe(0);
    for (const d of real.datasets) expect(d.status, d.dataset).toBe('committed');
    expect(real.datasets.map(measured)).toEqual(dry.datasets.map(measured));
    // What the single scan took over is really there.
    const pbp = real.datasets.find((d) => d.dataset === 'pbp')!;
    expect(pbp.partitions.length).toBeGreaterThan(0);
    for (const p of pbp.partitions) {
      expect(p.rowsInBatch).toBe(p.rowsAfter);
      expect(p.rowsInBatch).toBeGreaterThan(0);
      expect(p.upstreamVersions.length).toBe(1);
    }
    expect(pbp.checks.filter((c) => c.check === 'unique').every((c) => c.status === 'pass')).toBe(true);
  });

  it('a batch with repeated keys: the unique gate fails on the direct path (it wrote the rows undeduplicated, then discarded them), with the batch counts of a dry run; nothing is committed', async () => {
    const key = routeKey('pbp', 2020);
    const original = await server.content(key);
    server.setFile(key, await server.renderParquet(key, { timestamp: '2026-11-24 08:00:00 EST', sql: 'SELECT * FROM {source} UNION ALL SELECT * FROM {source} WHERE play_id < 100' }));
    try {
      const env = await freshLake('direct-dups');
      const dry = await env.promote({ datasets: ['pbp'], dryRun: true, runId: 'dry' });
      const real = await env.promote({ datasets: ['pbp'], runId: 'real' });
      const pbp = real.datasets[0]!;
      expect(pbp.status).toBe('failed');
      expect(pbp.error).toMatchObject({ code: 'QUALITY_GATE_FAILED' });
      const unique = pbp.checks.find((c) => c.check === 'unique' && c.status === 'fail')!;
      // Each repeated key counts once inside the batch and once in the promoted partition.
      // The direct path wrote the batch as it came (then discarded it): each repeated key counts
      // inside the batch and in the partition it would have left; the dry run deduplicated it.
      const repeated = (message: string): number[] => /is not unique: (\d+) keys? repeated inside one bronze batch, (\d+) in the promoted partition/.exec(message)!.slice(1).map(Number);
      const dryUnique = dry.datasets[0]!.checks.find((c) => c.check === 'unique')!;
      const [batch, result] = repeated(unique.message);
      expect(batch).toBeGreaterThan(0);
      expect([batch, result]).toEqual([repeated(dryUnique.message)[0], batch]);
      expect(unique.failing).toBe(2 * batch!);
      expect(unique.examples.length).toBeGreaterThan(0);
      // Everything else measured the same: batch rows, upstream versions, the other checks.
      const others = (d: DatasetPromoteOutcome): unknown => ({
        batches: d.partitions.map((p) => [p.partition, p.rowsInBatch, p.upstreamVersions]),
        checks: d.checks.filter((c) => c.check !== 'unique').map((c) => [c.check, c.column, c.status, c.failing]),
      });
      expect(others(pbp)).toEqual(others(dry.datasets[0]!));
      expect(await env.version('silver.pbp')).toBeUndefined();
    } finally {
      server.setFile(key, original);
    }
  });
});
