import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCommit } from '../../src/delta/index.js';
import { listBatches, openLake, optimizeTable, removeBatches, resolveTable, writeTable, type Lake, type TableRef } from '../../src/table/index.js';
import { canonical, type Answer } from './normalize.js';
import { announceSkip, oracleReadAll, type OracleAnswer } from './oracle.js';
import { ourAnswer } from './tables.js';

/**
 * Bronze GC interop: an append-only table (`delta.appendOnly`, checkpoints every 3 commits) gets
 * batch appends, an OPTIMIZE that merges batches into one file, and two GCs (one removing whole
 * files, one rewriting the merged file). delta-rs and DuckDB's delta extension read EVERY version
 * exactly as our reader does; the GC commits carry only dataChange:false actions.
 */
const skip = announceSkip('garbage-collected bronze tables, read by delta-rs and the DuckDB delta extension');

let root: string;
let lake: Lake;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'lake-interop-gc-'));
  lake = await openLake({ root });
});
afterAll(() => {
  lake?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

function batchSql(source: string, minute: number, ids: number[], seasons: number[]): string {
  const at = Date.UTC(2026, 8, 1, 10, minute);
  const rows = seasons.flatMap((s) => ids.map((id) => `(${s}, ${id}, 'v${id}-${minute}', '${source}', ${at})`));
  return `SELECT CAST(season AS INTEGER) AS season, CAST(id AS BIGINT) AS id, val, source, make_timestamptz(CAST(ts AS BIGINT) * 1000) AS ingested_at FROM (VALUES ${rows.join(', ')}) AS v(season, id, val, source, ts)`;
}

/** Removes, per partition, every batch but the newest of each source. */
async function gcAllButNewest(table: TableRef): Promise<number | undefined> {
  const listed = await listBatches(lake, table);
  const drop = new Map<string, Set<string>>();
  for (const p of listed.partitions) {
    const newest = new Map<string, number>();
    for (const b of p.batches) newest.set(String(b.source), Math.max(newest.get(String(b.source)) ?? -Infinity, b.ingestedAt ?? -Infinity));
    const gone = new Set(p.batches.filter((b) => (b.ingestedAt ?? -Infinity) < newest.get(String(b.source))!).map((b) => b.key));
    if (gone.size > 0) drop.set(p.key, gone);
  }
  return (await removeBatches(lake, { table, batches: listed, drop, sortBy: ['id'] })).version;
}

function expectSame(reader: string, version: number, got: Answer, want: Answer): void {
  const a = canonical(got);
  const b = canonical(want);
  expect.soft(a.columns, `${reader} columns v${version}`).toEqual(b.columns);
  expect.soft(a.rows, `${reader} rows v${version}`).toEqual(b.rows);
}

describe('a bronze table we garbage-collect', () => {
  let tableRoot: string;
  let latest: number;
  const gcVersions: number[] = [];
  let ours: Answer[];
  let oracle: { deltalake: OracleAnswer[]; duckdb: OracleAnswer[] } | undefined;

  beforeAll(async () => {
    tableRoot = path.join(root, 'bronze');
    const table = resolveTable(lake, tableRoot);
    const configuration = { 'delta.appendOnly': 'true', 'delta.checkpointInterval': '3' };
    await writeTable(lake, { table, source: batchSql('https://x/a.parquet', 0, [1, 2, 3], [2023, 2024]), mode: 'append', partitionBy: ['season'], configuration });
    await writeTable(lake, { table, source: batchSql('https://x/a.parquet', 1, [1, 2, 3], [2024]), mode: 'append' });
    await writeTable(lake, { table, source: batchSql('https://x/b.parquet', 2, [7], [2024]), mode: 'append' });
    const first = await gcAllButNewest(table);
    expect(first).toBeDefined();
    gcVersions.push(first!);
    await writeTable(lake, { table, source: batchSql('https://x/a.parquet', 3, [1, 2], [2023, 2024]), mode: 'append' });
    expect((await optimizeTable(lake, { table, sortBy: ['id'] })).status).toBe('committed');
    await writeTable(lake, { table, source: batchSql('https://x/a.parquet', 4, [1, 2, 3], [2023]), mode: 'append' });
    const second = await gcAllButNewest(table);
    expect(second).toBeDefined();
    gcVersions.push(second!);
    const actions = await readCommit(tableRoot, second!);
    expect(actions.some((a) => a.kind === 'add')).toBe(true); // the merged file was rewritten
    for (const v of gcVersions) {
      const files = (await readCommit(tableRoot, v)).filter((a) => a.kind === 'add' || a.kind === 'remove');
      expect(files.every((a) => (a.kind === 'add' ? a.add.dataChange : a.kind === 'remove' ? a.remove.dataChange : true) === false)).toBe(true);
    }
    latest = second!;
    ours = [];
    for (let v = 0; v <= latest; v++) ours.push(await ourAnswer(lake, tableRoot, v));
    if (!skip) {
      const [deltalake, duckdb] = await Promise.all([oracleReadAll(tableRoot, 'deltalake'), oracleReadAll(tableRoot, 'duckdb')]);
      oracle = { deltalake, duckdb };
    }
  });

  it('each gc removes exactly the superseded batches: the newest batch of each source stays', () => {
    const last = canonical(ours[latest]!);
    expect(last.rows.length).toBe(6); // 2023: a@4 (ids 1,2,3); 2024: a@3 (ids 1,2) + b@2 (id 7)
  });

  it.skipIf(skip)('is read by delta-rs at every version with the rows our reader reads', () => {
    expect(oracle!.deltalake.map((a) => a.version)).toEqual(ours.map((_a, v) => v));
    for (const a of oracle!.deltalake) expectSame('delta-rs', a.version, a, ours[a.version]!);
  });

  it.skipIf(skip)("is read by DuckDB's delta extension at every version with the rows our reader reads", () => {
    expect(oracle!.duckdb.map((a) => a.version)).toEqual(ours.map((_a, v) => v));
    for (const a of oracle!.duckdb) expectSame('duckdb delta extension', a.version, a, ours[a.version]!);
  });
});
