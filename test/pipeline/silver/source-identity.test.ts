import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';
import { TODAY, routeKey, sampleLake, sampleYears, type SampleLake } from '../../helpers/sample-lake.js';

/**
 * The same upstream file served from another host or port (a mirror, a changed base URL; here the
 * local upstream restarted on a new port) is the same source: bronze appends it again (its URL is
 * new), but the promote's `latest_batch` dedupe keeps only its newest batch instead of both, so
 * silver keeps its rows (the partitions are found unchanged) instead of doubling them.
 */
let first: UpstreamServer;
let second: UpstreamServer;
const cleanup: (() => void)[] = [];
/** `latest_batch` datasets (whole-file batches) and a key-deduped one. */
const DATASETS = ['depth_charts', 'combine', 'trades', 'pbp'];
const TABLES = DATASETS.map((d) => `silver.${d}`);

beforeAll(async () => {
  first = await startUpstreamServer();
  second = await startUpstreamServer();
  expect(second.env()).not.toEqual(first.env());
});
afterAll(async () => {
  for (const c of cleanup) c();
  await first.close();
  await second.close();
});

async function counts(env: SampleLake, tables: readonly string[]): Promise<number[]> {
  return Promise.all(tables.map((t) => env.count(`SELECT count(*) FROM ${t}`)));
}

describe('a file served from a new base URL', () => {
  it('supersedes its batch from the old URL: silver rows unchanged, every dataset committed', async () => {
    const before = await sampleLake(first, 'source-id-a');
    cleanup.push(() => before.close());
    await before.ingest(DATASETS);
    expect((await before.promote({ datasets: DATASETS })).failures).toBe(0);
    const silverBefore = await counts(before, TABLES);
    const bronzeBefore = await counts(before, ['bronze.depth_charts']);

    // The same lake, now fed from the second server (another port), where every file was
    // re-published: the same rows, a new upstream version (and so a new ETag).
    for (const dataset of DATASETS) {
      const { from, to } = dataset === 'pbp' || dataset === 'depth_charts' ? sampleYears(dataset) : { from: undefined, to: undefined };
      const seasons = from === undefined ? [undefined] : Array.from({ length: to! - from + 1 }, (_, i) => from + i);
      for (const season of seasons) {
        const key = routeKey(dataset, season);
        const bytes = await second.renderParquet(key, { timestamp: '2026-11-26 08:00:00 EST' }).catch(() => undefined);
        if (bytes) second.setFile(key, bytes);
      }
    }
    const after = await sampleLake(second, 'source-id-b', before, TODAY.getTime() + 3_600_000);
    cleanup.push(() => after.close());
    await after.ingest(DATASETS);
    // Bronze took the files again under their new URLs.
    const sources = await after.count(`SELECT count(DISTINCT source) FROM bronze.depth_charts`);
    expect(await counts(after, ['bronze.depth_charts'])).toEqual([2 * bronzeBefore[0]!]);
    expect(sources).toBeGreaterThan(1);

    const result = await after.promote({ datasets: DATASETS });
    expect(result.datasets.map((d) => [d.dataset, d.status, d.error?.code])).toEqual(DATASETS.map((d) => [d, 'committed', undefined]));
    expect(await counts(after, TABLES)).toEqual(silverBefore);
    // Same rows as before: the promote leaves the partitions as they are (stamps of the batch that last changed them).
    const depth = result.datasets.find((d) => d.dataset === 'depth_charts')!;
    expect(depth.partitions.length).toBeGreaterThan(0);
    expect(depth.partitions.every((p) => p.contentUnchanged === true)).toBe(true);
  });
});
