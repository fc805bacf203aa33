import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog, resolveSettings, runIngest } from '../../../src/pipeline/index.js';
import { openLake, resolveTable, tableSnapshot } from '../../../src/table/index.js';
import { tempDirs } from '../../helpers/temp-dir.js';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';

/**
 * The Delta log is the truth, not the download manifest: a manifest that records files as
 * committed (to another lake, or to a lake since deleted) never suppresses a commit.
 */
const dirs = tempDirs('manifest-truth');
let server: UpstreamServer;
const catalog = loadCatalog('catalog/datasets.yml');
const TODAY = new Date('2026-11-25T12:00:00Z');

beforeAll(async () => {
  server = await startUpstreamServer();
});
afterAll(async () => {
  await server.close();
  await dirs.cleanup();
});

async function ingestInto(root: string, raw: string): Promise<string[]> {
  const settings = resolveSettings(catalog, { LAKE_ROOT: root, LAKE_RAW_DIR: raw, LAKE_LOGS_DIR: path.join(raw, '..', 'logs'), ...server.env() });
  const result = await runIngest({ catalog, settings, command: 'update', datasets: ['schedules', 'teams'], seasons: { from: 2020, to: 2020 }, today: TODAY });
  expect(result.failures).toBe(0);
  return result.datasets.flatMap((d) => d.assets.map((a) => a.status));
}

describe('the download manifest never outlives the lake it describes', () => {
  it('a new lake root with the same raw folder gets every file committed; a rerun commits nothing; a deleted lake is rebuilt', async () => {
    const base = await dirs.make('lakes');
    const raw = path.join(base, 'raw');
    const first = path.join(base, 'lake-a');
    expect(await ingestInto(first, raw)).toEqual(['committed', 'committed']);
    expect(await ingestInto(first, raw)).toEqual(['unchanged', 'unchanged']);

    const second = path.join(base, 'lake-b');
    expect(await ingestInto(second, raw)).toEqual(['committed', 'committed']);

    rmSync(first, { recursive: true, force: true });
    expect(await ingestInto(first, raw)).toEqual(['committed', 'committed']);
    const lake = await openLake({ root: first });
    try {
      for (const t of ['bronze.schedules', 'bronze.teams']) expect((await tableSnapshot(lake, resolveTable(lake, t))).version).toBe(0);
    } finally {
      lake.close();
    }
  });
});
