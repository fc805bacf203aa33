import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openEngine, literal } from '../../../src/engine/index.js';
import { decideBatches, runBronzeGc, sourceId, sourceIdSql, type Catalog } from '../../../src/pipeline/index.js';
import { resolveTable } from '../../../src/table/index.js';
import { catalog, routeKey, sampleLake, TODAY } from '../../helpers/sample-lake.js';
import { upstreamPairForFile } from '../../helpers/upstream-server.js';

/**
 * Bronze GC counts a source by its URL path (upstream/source-id.ts), as silver's latest_batch
 * dedupe does: the batch of a file fetched from an old host is an older batch of the same source,
 * not the newest batch of another one, so `latest_batches: 1` removes it once silver keeps the
 * new host's batch.
 */
const gcCatalog: Catalog = { ...catalog, datasets: catalog.datasets.map((d) => (d.name === 'combine' ? { ...d, bronzeRetention: { kind: 'latest_batches' as const, n: 1 } } : d)) };
const { servers, cleanup } = upstreamPairForFile();
const SOURCES: [string, string][] = [
  ['http://127.0.0.1:4001/nflverse/nflverse-data/releases/download/pbp/play_by_play_2024.parquet', '/nflverse/nflverse-data/releases/download/pbp/play_by_play_2024.parquet'],
  ['https://github.com/nflverse/nflverse-data/releases/download/x.csv', '/nflverse/nflverse-data/releases/download/x.csv'],
  ['s3+http://mirror.example:9000', ''],
  ['/data/raw/x.parquet', '/data/raw/x.parquet'],
  ['relative/x.parquet', 'relative/x.parquet'],
];

describe('source identity in bronze GC', () => {
  it.each(SOURCES)('sourceId(%s) is %s', (source, id) => {
    expect(sourceId(source)).toBe(id);
  });

  it('sourceIdSql gives the same identities in DuckDB', async () => {
    const engine = await openEngine({});
    try {
      const values = SOURCES.map(([source], i) => `(${i}, ${literal(source)})`).join(', ');
      const rows = await engine.rows<{ id: string }>(`SELECT ${sourceIdSql('s')} AS id FROM (VALUES ${values}) AS v(i, s) ORDER BY i`);
      expect(rows.map((r) => r.id)).toEqual(SOURCES.map(([, id]) => id));
    } finally {
      engine.close();
    }
  });

  it('decideBatches: the same path from two hosts is one source (only its newest batch is kept by retention)', () => {
    const batches = [
      { key: 'a', source: 'http://127.0.0.1:4001/f/x.parquet', ingestedAt: 1 },
      { key: 'b', source: 'http://127.0.0.1:4002/f/x.parquet', ingestedAt: 2 },
      { key: 'c', source: 'http://127.0.0.1:4001/f/y.parquet', ingestedAt: 1 },
      { key: 'd', source: null, ingestedAt: 3 },
    ];
    const decisions = decideBatches({ batches, pending: new Set(), needed: undefined, latestBatches: 1, removal: 'superseded' });
    expect(Object.fromEntries([...decisions].map(([k, d]) => [k, d.keep]))).toEqual({ a: false, b: true, c: true, d: true });
  });

  it('lake gc removes the old host batches of a re-fetched file, keeps the new ones; silver is unchanged', async () => {
    const { first, second, servedBy } = servers();
    const before = await sampleLake(first, 'gc-source-a');
    cleanup.push(() => before.close());
    await before.ingest(['combine']);
    expect((await before.promote({ datasets: ['combine'] })).failures).toBe(0);
    const bronzeRows = await before.count('SELECT count(*) FROM bronze.combine');

    const env = await sampleLake(second, 'gc-source-b', before, TODAY.getTime() + 3_600_000);
    cleanup.push(() => env.close());
    second.setFile(routeKey('combine'), await second.renderParquet(routeKey('combine'), { timestamp: '2026-11-26 08:00:00 EST' }));
    await env.ingest(['combine']);
    expect((await env.promote({ datasets: ['combine'] })).failures).toBe(0);
    const silver = await env.count('SELECT count(*) FROM silver.combine');
    expect(await env.count('SELECT count(*) FROM bronze.combine')).toBe(2 * bronzeRows);

    const result = await runBronzeGc({ catalog: gcCatalog, lake: env.lake, datasets: ['combine'], clock: env.clock });
    const outcome = result.datasets[0]!;
    expect([outcome.status, outcome.error?.code]).toEqual(['committed', undefined]);
    const decisions = outcome.partitions.flatMap((p) => p.batches);
    expect(decisions.length).toBeGreaterThan(0);
    expect(decisions.filter((b) => !b.keep).every((b) => servedBy(first, b.source))).toBe(true);
    expect(decisions.filter((b) => b.keep).every((b) => servedBy(second, b.source))).toBe(true);
    expect(outcome.batches_removed).toBe(outcome.partitions.length);
    expect(await env.count('SELECT count(*) FROM bronze.combine')).toBe(bronzeRows);
    // Silver as before, also after a full rebuild from what gc kept.
    expect(await env.count('SELECT count(*) FROM silver.combine')).toBe(silver);
    rmSync(resolveTable(env.lake, 'silver.combine').tableRoot, { recursive: true, force: true });
    expect((await env.promote({ datasets: ['combine'] })).datasets[0]).toMatchObject({ status: 'committed', mode: 'full' });
    expect(await env.count('SELECT count(*) FROM silver.combine')).toBe(silver);
  });
});
