import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../../../src/engine/index.js';
import { dedupeSql, parseCatalog } from '../../../src/pipeline/index.js';
import { catalog, sampleLake, type SampleLake } from '../../helpers/sample-lake.js';
import { SAMPLE_DIR, startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';
import { thingsCatalog } from '../../helpers/things-catalog.js';

/**
 * Keyless datasets (README "Promote (silver)…", catalog `silver.exact_duplicates`): trades and
 * contracts have no business key, and their upstream files repeat some rows exactly (7 and 580 in
 * the sample). With `exact_duplicates: drop` silver keeps each such row once and the promote commit
 * and report count what was dropped; counts are checked against the raw CSVs read by a separate DuckDB.
 */
const FILES: Record<string, string> = {
  trades: 'trades/trades.csv',
  contracts: 'contracts/historical_contracts_2022snapshot_signed_2020plus.csv',
};

let server: UpstreamServer;
let env: SampleLake;
let raw: Engine;

beforeAll(async () => {
  raw = await openEngine({ threads: 2 });
  server = await startUpstreamServer();
  env = await sampleLake(server, 'exact-dups');
  await env.ingest(['trades', 'contracts']);
  const promoted = await env.promote();
  expect(promoted.failures, JSON.stringify(promoted.datasets.map((d) => d.error))).toBe(0);
}, 60_000);
afterAll(async () => {
  raw?.close();
  env?.close();
  await server?.close();
});

describe('exact duplicates of keyless datasets', () => {
  it.each([
    ['trades', 7],
    ['contracts', 580],
  ])('silver.%s keeps every distinct row of the upstream file once; the commit and the report count the %i repeats dropped', async (dataset, repeats) => {
    const file = `read_csv('${path.join(SAMPLE_DIR, FILES[dataset]!)}')`;
    const [counts] = await raw.rows<{ rows: bigint; distinct_rows: bigint }>(`SELECT (SELECT count(*) FROM ${file}) AS rows, (SELECT count(*) FROM (SELECT DISTINCT * FROM ${file})) AS distinct_rows`);
    expect(Number(counts!.rows - counts!.distinct_rows)).toBe(repeats);
    expect(await env.count(`SELECT count(*) FROM bronze.${dataset}`)).toBe(Number(counts!.rows));
    expect(await env.count(`SELECT count(*) FROM silver.${dataset}`)).toBe(Number(counts!.distinct_rows));
    const info = await env.commitInfo(`silver.${dataset}`);
    const promote = info['promote'] as { exact_duplicates: string; exact_duplicates_removed: number; partitions: { exact_duplicates_removed: number; rows_in_batch: number; row_count: number }[] };
    expect(promote).toMatchObject({ dedupe: 'latest_batch', exact_duplicates: 'drop', exact_duplicates_removed: repeats });
    for (const p of promote.partitions) expect(p.row_count).toBe(p.rows_in_batch - p.exact_duplicates_removed);
    const [report] = env.reports(dataset);
    const partitions = report!['partitions'] as { exact_duplicates_removed: number }[];
    expect(partitions.reduce((n, p) => n + p.exact_duplicates_removed, 0)).toBe(repeats);
  });

  it('a dataset that keeps exact duplicates (the default) records nothing about them', async () => {
    const sql = dedupeSql({ columns: [{ name: 'a', type: 'INTEGER' }, { name: 'source', type: 'VARCHAR' }, { name: 'ingested_at', type: 'TIMESTAMPTZ' }], key: [], dedupe: 'latest_batch' }, [], 'SELECT 1 AS a');
    expect(sql).not.toContain('DISTINCT');
    const rows = await raw.rows<{ a: number }>(
      dedupeSql({ columns: [{ name: 'a', type: 'INTEGER' }, { name: 'source', type: 'VARCHAR' }, { name: 'ingested_at', type: 'TIMESTAMPTZ' }], key: [], dedupe: 'latest_batch', exactDuplicates: 'drop' }, [], `SELECT * FROM (VALUES (1, 's', TIMESTAMPTZ '2026-01-01'), (1, 's', TIMESTAMPTZ '2026-01-01'), (2, 's', TIMESTAMPTZ '2026-01-01'), (3, 's', TIMESTAMPTZ '2025-01-01')) AS t(a, "source", ingested_at)`),
    );
    // Only the newest batch survives (latest_batch), and its repeated row once.
    expect(rows.map((r) => r.a).sort()).toEqual([1, 2]);
    expect(catalog.datasets.find((d) => d.name === 'pbp')!.silver?.exactDuplicates ?? 'keep').toBe('keep');
  });

  it('the catalog accepts exact_duplicates: keep | drop and refuses anything else, naming the line', () => {
    expect(parseCatalog(thingsCatalog('    silver: { exact_duplicates: drop }\n'), 'c.yml').datasets[0]!.silver!.exactDuplicates).toBe('drop');
    expect(() => parseCatalog(thingsCatalog('    silver: { exact_duplicates: remove }\n'), 'c.yml')).toThrow(/datasets\.things\.silver\.exact_duplicates \(line \d+\)/);
  });
});
