import { describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { upstreamPairForFile, type UpstreamServer } from '../../helpers/upstream-server.js';
import { TODAY, routeKey, sampleLake, type SampleLake } from '../../helpers/sample-lake.js';

/**
 * Bronze knows an upstream file by its path below the base URL (the manifest key and the txn
 * appId), never by its host: the same file from a mirror or a changed base URL (here the local
 * upstream on another port) is the same file. Unchanged bytes commit nothing, also when the
 * manifest is gone (the table's last commit of the file is found by its appId); changed bytes
 * commit one batch that continues the file's txn sequence.
 */
const DATASETS = ['combine', 'trades'];
const { servers, cleanup } = upstreamPairForFile();

async function lakeAt(server: UpstreamServer, prefix: string, copyOf?: SampleLake): Promise<SampleLake> {
  const env = await sampleLake(server, prefix, copyOf, copyOf ? TODAY.getTime() + 3_600_000 : undefined);
  cleanup.push(() => env.close());
  return env;
}

function statuses(results: Awaited<ReturnType<SampleLake['ingest']>>): [string, string, number][] {
  return results.flatMap((r) => r.datasets.flatMap((d) => d.assets.map((a): [string, string, number] => [d.dataset, a.status, a.version ?? -1])));
}

describe('bronze: the same upstream file from a new base URL', () => {
  it('unchanged bytes commit nothing, with or without the manifest; changed bytes commit one batch each', async () => {
    const { first, second, servedBy } = servers();
    expect(second.env()).not.toEqual(first.env());
    const before = await lakeAt(first, 'bronze-source-a');
    const committed = statuses(await before.ingest(DATASETS));
    expect(committed.map(([d, s]) => [d, s])).toEqual(DATASETS.map((d) => [d, 'committed']));
    const versions = await Promise.all(DATASETS.map((d) => before.version(`bronze.${d}`)));

    const moved = await lakeAt(second, 'bronze-source-b', before);
    expect(statuses(await moved.ingest(DATASETS)).map(([, s]) => s)).toEqual(['unchanged', 'unchanged']);
    // Without the manifest every file is downloaded again; the table's history still knows the bytes.
    rmSync(path.join(moved.dir, 'raw', 'manifest.json'));
    expect(statuses(await moved.ingest(DATASETS)).map(([, s]) => s)).toEqual(['unchanged', 'unchanged']);
    expect(await Promise.all(DATASETS.map((d) => moved.version(`bronze.${d}`)))).toEqual(versions);

    // Re-published on the new host (new bytes): one commit per file, the txn sequence continues.
    for (const d of DATASETS) second.setFile(routeKey(d), await second.renderParquet(routeKey(d), { timestamp: '2026-11-26 08:00:00 EST' }));
    const again = statuses(await moved.ingest(DATASETS));
    expect(again.map(([d, s, v]) => [d, s, v])).toEqual(DATASETS.map((d, i) => [d, 'committed', versions[i]! + 1]));
    for (const d of DATASETS) {
      const info = await moved.commitInfo(`bronze.${d}`);
      const file = info['upstream_file'] as { url: string; sequence: number; app_id: string };
      expect(servedBy(second, file.url)).toBe(true);
      expect(file.app_id).toBe(`nfl-lakehouse/bronze.${d}/${routeKey(d)}`);
      expect(file.sequence).toBe(2);
    }
  });
});
