import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLakeError } from '../../src/core/index.js';
import { loadSnapshot } from '../../src/delta/index.js';
import { writeCheckpoint } from '../../src/engine/index.js';
import { openLake, resolveTable, runQuery, writeTable, type Lake } from '../../src/table/index.js';

let lake: Lake;
let root: string;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'lake-cpstats-'));
  lake = await openLake({ root });
});
afterAll(() => {
  lake.close();
  rmSync(root, { recursive: true, force: true });
});

describe('snapshots loaded without file stats', () => {
  it('read the same files and rows, carry no stats from the checkpoint, and are never checkpointed', async () => {
    const table = resolveTable(lake, 'bronze.t');
    await writeTable(lake, { table, source: 'SELECT range::INT id, (range % 3)::INT p FROM range(9)', mode: 'append', partitionBy: ['p'] });
    await writeTable(lake, { table, source: 'SELECT 100 id, 1 p', mode: 'append' });
    const full = await loadSnapshot(table.tableRoot, lake.checkpoints);
    await writeCheckpoint(lake.engine, full);
    const lean = await loadSnapshot(table.tableRoot, lake.checkpoints, { stats: false });
    const withStats = await loadSnapshot(table.tableRoot, lake.checkpoints);
    expect(lean.statsLoaded).toBe(false);
    expect(withStats.statsLoaded).toBe(true);
    expect(lean.files.map((f) => f.path).sort()).toEqual(withStats.files.map((f) => f.path).sort());
    expect(lean.files.every((f) => f.stats === undefined)).toBe(true);
    expect(withStats.files.every((f) => typeof f.stats === 'string' && JSON.parse(f.stats).numRecords > 0)).toBe(true);
    const error = await writeCheckpoint(lake.engine, lean).catch((e: unknown) => e);
    expect(isLakeError(error, 'INTERNAL')).toBe(true);
    expect((await runQuery(lake, 'SELECT count(*), sum(id) FROM bronze.t')).rows).toEqual([[10n, 136n]]);
  });
});
