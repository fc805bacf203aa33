import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCommit } from '../../src/delta/index.js';
import { openLake, optimizeTable, resolveTable, writeTable, type Lake } from '../../src/table/index.js';
import { canonical, type Answer } from './normalize.js';
import { announceSkip, oracleReadAll, oracleWrite, type OracleAnswer } from './oracle.js';
import { ourAnswer, rowsSql } from './tables.js';

/**
 * OPTIMIZE interop: a table we write and then optimize (twice, once with a partition predicate)
 * is read by delta-rs and by DuckDB's delta extension at EVERY version exactly as our reader reads
 * it, and the optimized versions hold the same rows as the versions before them; a table delta-rs
 * writes and we optimize still reads the same in delta-rs, at every version.
 */
const skip = announceSkip('optimized tables, read by delta-rs and the DuckDB delta extension');

let root: string;
let lake: Lake;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'lake-interop-optimize-'));
  lake = await openLake({ root });
});

afterAll(() => {
  lake?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

function expectSame(reader: string, version: number, got: Answer, want: Answer): void {
  const a = canonical(got);
  const b = canonical(want);
  expect.soft(a.columns, `${reader} columns v${version}`).toEqual(b.columns);
  expect.soft(a.rows.length, `${reader} row count v${version}`).toBe(b.rows.length);
  expect.soft(a.rows, `${reader} rows v${version}`).toEqual(b.rows);
}

async function ourAnswers(tableRoot: string, latest: number): Promise<Answer[]> {
  const out: Answer[] = [];
  for (let v = 0; v <= latest; v++) out.push(await ourAnswer(lake, tableRoot, v));
  return out;
}

describe('a table we write and optimize', () => {
  let tableRoot: string;
  let latest: number;
  const optimizeVersions: number[] = [];
  let ours: Answer[];
  let oracle: { deltalake: OracleAnswer[]; duckdb: OracleAnswer[] } | undefined;

  beforeAll(async () => {
    tableRoot = path.join(root, 'ours');
    const table = resolveTable(lake, tableRoot);
    const configuration = { 'delta.checkpointInterval': '3' };
    await writeTable(lake, { table, source: rowsSql(0, 48), mode: 'append', partitionBy: ['p'], configuration });
    await writeTable(lake, { table, source: rowsSql(100, 30), mode: 'append' });
    await writeTable(lake, { table, source: rowsSql(200, 24), mode: 'append' });
    const first = await optimizeTable(lake, { table, sortBy: ['id'] });
    expect(first.status).toBe('committed');
    optimizeVersions.push(first.version!);
    await writeTable(lake, { table, source: rowsSql(300, 12), mode: 'append' });
    await writeTable(lake, { table, source: rowsSql(400, 12, ['a b', '=', null]), mode: 'replace' });
    await writeTable(lake, { table, source: rowsSql(500, 24), mode: 'append' });
    const second = await optimizeTable(lake, { table, sortBy: ['id'], where: "p IS NULL OR p IN ('a b', '=', '%')" });
    expect(second.partitionsOptimized).toBe(4);
    expect(second.status).toBe('committed');
    optimizeVersions.push(second.version!);
    latest = second.version!;
    ours = await ourAnswers(tableRoot, latest);
    if (!skip) {
      const [deltalake, duckdb] = await Promise.all([oracleReadAll(tableRoot, 'deltalake'), oracleReadAll(tableRoot, 'duckdb')]);
      oracle = { deltalake, duckdb };
    }
  });

  it('holds the same rows after each optimize as before it', () => {
    for (const v of optimizeVersions) expectSame('our reader (optimize vs the version before)', v, ours[v]!, ours[v - 1]!);
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

describe.skipIf(skip)('a table delta-rs writes and we optimize', () => {
  let tableRoot: string;
  let before: number;
  let after: number;
  let theirs: OracleAnswer[];

  beforeAll(async () => {
    const write = await oracleWrite(path.join(root, 'theirs'), 'partitioned-string');
    tableRoot = write.path;
    before = write.commits[write.commits.length - 1]!.version;
    const table = resolveTable(lake, tableRoot);
    // More small files first (our appends), then the optimize rewrites delta-rs's files and ours together.
    await writeTable(lake, { table, source: `SELECT * FROM delta_scan('${tableRoot}') LIMIT 5`, mode: 'append' });
    await writeTable(lake, { table, source: `SELECT * FROM delta_scan('${tableRoot}') LIMIT 7`, mode: 'append' });
    const metrics = await optimizeTable(lake, { table });
    expect(metrics.status).toBe('committed');
    after = metrics.version!;
    theirs = await oracleReadAll(tableRoot, 'deltalake');
  });

  it('commits an OPTIMIZE delta-rs reads: every version, before and after, equals our reader, and the optimized version equals the one before', async () => {
    expect(theirs.map((a) => a.version)).toEqual(Array.from({ length: after + 1 }, (_, v) => v));
    for (const a of theirs) expectSame('delta-rs', a.version, a, await ourAnswer(lake, tableRoot, a.version));
    expectSame('delta-rs (optimized vs before)', after, theirs[after]!, theirs[after - 1]!);
    expect(before).toBeLessThan(after);
    const actions = await readCommit(tableRoot, after);
    expect(actions.filter((a) => a.kind === 'add' || a.kind === 'remove').every((a) => (a.kind === 'add' ? a.add.dataChange : a.kind === 'remove' ? a.remove.dataChange : true) === false)).toBe(true);
  });
});
