import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { READER_CHILD, describeChild, jsonLines, requireBuild, startTogether } from '../../helpers/child.js';
import { subdir } from '../../helpers/temp-dir.js';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';
import { routeKey, sampleLake, type SampleLake } from '../../helpers/sample-lake.js';

/**
 * Atomicity of a promote (docs/design.md decision 8): a reader in a second process queries silver in
 * a loop while promotes replace one partition again and again; every read sees one whole version
 * (the other partition unchanged, the replaced one entirely from one bronze batch), never a mix
 * or a missing partition.
 */
let server: UpstreamServer;
let env: SampleLake;
const LEGACY_2024 = routeKey('player_stats_legacy', 2024);

beforeAll(async () => {
  requireBuild();
  server = await startUpstreamServer();
  env = await sampleLake(server, 'promote-atomic');
  await env.ingest(['player_stats_legacy']);
  expect((await env.promote({ datasets: ['player_stats_legacy'] })).failures).toBe(0);
});
afterAll(async () => {
  env.close();
  await server.close();
});

interface Read {
  version: number;
  row: { n2023: number; n2024: number; batches2024: number; batch2024: number; batches2023: number };
}

it('a reader in another process never sees a mix of old and new rows or a missing partition', async () => {
  const rows2023 = await env.count('SELECT count(*) FROM silver.player_stats_legacy WHERE season = 2023');
  const rows2024 = await env.count('SELECT count(*) FROM silver.player_stats_legacy WHERE season = 2024');
  const stopFile = path.join(env.dir, 'stop');
  const sql = `SELECT count(*) FILTER (WHERE season = 2023) AS n2023, count(*) FILTER (WHERE season = 2024) AS n2024,
    count(DISTINCT ingested_at) FILTER (WHERE season = 2024) AS batches2024, epoch_ms(max(ingested_at) FILTER (WHERE season = 2024)) AS batch2024,
    count(DISTINCT ingested_at) FILTER (WHERE season = 2023) AS batches2023 FROM silver.player_stats_legacy`;
  const [reader] = await startTogether(READER_CHILD, [{ id: 'reader', args: [JSON.stringify({ lakeRoot: env.lake.root, sql, stopFile })] }], await subdir(env.dir, 'barrier'));
  const committed = new Map<number, string>();
  try {
    for (let round = 1; round <= 3; round++) {
      // A stat correction for 2024: same rows, new values, a new upstream version.
      server.setFile(LEGACY_2024, await server.renderParquet(LEGACY_2024, { timestamp: `2026-11-2${round} 08:00:00 EST`, sql: `SELECT * REPLACE (fantasy_points + ${round} AS fantasy_points) FROM {source} WHERE season = 2024` }));
      await env.ingest(['player_stats_legacy']);
      const result = await env.promote({ datasets: ['player_stats_legacy'] });
      const d = result.datasets[0]!;
      expect([d.status, d.partitions.map((p) => p.partition['season'])]).toEqual(['committed', ['2024']]);
      committed.set(d.version!, d.partitions[0]!.maxIngestedAt!);
    }
  } finally {
    writeFileSync(stopFile, '');
  }
  const done = await reader!.done;
  expect(done.code, describeChild(done)).toBe(0);
  const reads = jsonLines<Read>(done.stdout);
  expect(reads.length).toBeGreaterThan(3);
  for (const r of reads) {
    expect(r.row, `read of version ${r.version}`).toMatchObject({ n2023: rows2023, n2024: rows2024, batches2024: 1, batches2023: 1 });
    const batch = committed.get(r.version);
    if (batch) expect(r.row.batch2024, `read of version ${r.version}`).toBe(Date.parse(batch));
  }
  // The reader overlapped the promotes: it saw more than one version.
  expect(new Set(reads.map((r) => r.version)).size).toBeGreaterThan(1);
});
