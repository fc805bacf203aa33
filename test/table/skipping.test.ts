import { describe, expect, it, beforeAll } from 'vitest';
import { resolveTable, runQuery, tableSnapshot, writeTable } from '../../src/table/index.js';
import { writeCheckpoint } from '../../src/engine/index.js';
import { tempLake } from '../helpers/temp-lake.js';

const t = tempLake('lake-skipping-');

/** Four appends to one season partition plus one to another: five files with disjoint ranges. */
beforeAll(async () => {
  const table = resolveTable(t.lake, 'silver.plays');
  const batches = [
    `SELECT * FROM (VALUES ('2023_01_ARI_WAS', 1, 2023, 0.5::DOUBLE, TIMESTAMPTZ '2023-09-10 17:00:00+00', NULL::VARCHAR), ('2023_01_BUF_NYJ', 1, 2023, -1.0, TIMESTAMPTZ '2023-09-11 20:15:00.123456+00', 'a')) v(game_id, week, season, epa, kickoff, note)`,
    `SELECT * FROM (VALUES ('2023_02_DET_SEA', 2, 2023, 'NaN'::DOUBLE, TIMESTAMPTZ '2023-09-17 17:00:00+00', NULL::VARCHAR), ('2023_02_KC_JAX', 2, 2023, 2.0, TIMESTAMPTZ '2023-09-17 17:00:00.000999+00', NULL)) v(game_id, week, season, epa, kickoff, note)`,
    `SELECT * FROM (VALUES ('2023_03_CHI_KC', 3, 2023, NULL::DOUBLE, TIMESTAMPTZ '2023-09-24 20:25:00+00', 'b')) v(game_id, week, season, epa, kickoff, note)`,
    `SELECT * FROM (VALUES (NULL::VARCHAR, NULL::INTEGER, 2023, NULL::DOUBLE, NULL::TIMESTAMPTZ, NULL::VARCHAR)) v(game_id, week, season, epa, kickoff, note)`,
    `SELECT * FROM (VALUES ('2022_01_BAL_NYJ', 1, 2022, 0.1::DOUBLE, TIMESTAMPTZ '2022-09-11 17:00:00+00', 'c')) v(game_id, week, season, epa, kickoff, note)`,
  ];
  for (const source of batches) await writeTable(t.lake, { table, source, mode: 'append', partitionBy: ['season'] });
});

async function both(sql: string): Promise<{ rows: unknown[][]; filesRead: number; skipped: number }> {
  const on = await runQuery(t.lake, sql);
  const off = await runQuery(t.lake, sql, { dataSkipping: false });
  expect(on.rows).toEqual(off.rows);
  return { rows: on.rows, filesRead: on.views[0]!.filesRead!, skipped: on.views[0]!.filesSkippedByStats! };
}

describe('data skipping by file stats', () => {
  it.each<[string, string, number]>([
    ['a point lookup on a string column', "SELECT game_id FROM silver.plays WHERE game_id = '2023_02_KC_JAX'", 1],
    ['the literal on the left', "SELECT game_id FROM silver.plays WHERE '2023_02_KC_JAX' = game_id", 1],
    ['a BETWEEN range', 'SELECT count(*) FROM silver.plays WHERE week BETWEEN 2 AND 3', 2],
    ['an IN list', "SELECT count(*) FROM silver.plays WHERE game_id IN ('2023_01_ARI_WAS', '2022_01_BAL_NYJ')", 2],
    ['a string literal compared with an integer column', "SELECT count(*) FROM silver.plays WHERE week = '3'", 1],
    ['IS NULL (files without nulls skipped)', 'SELECT count(*) FROM silver.plays WHERE week IS NULL', 1],
    ['IS NOT NULL (the all-null file skipped)', 'SELECT count(*) FROM silver.plays WHERE game_id IS NOT NULL', 4],
    ['a partition conjunct with a stats conjunct', 'SELECT count(*) FROM silver.plays WHERE season = 2023 AND week >= 3', 1],
    ['an OR across a partition and a data column', 'SELECT count(*) FROM silver.plays WHERE season = 2022 OR week = 3', 2],
    ['a timestamp range (stats widened to whole milliseconds)', "SELECT count(*) FROM silver.plays WHERE kickoff >= TIMESTAMPTZ '2023-09-17 17:00:00.000999+00'", 2],
    ['a double lower bound (NaN never skips by max)', 'SELECT count(*) FROM silver.plays WHERE epa > 1.5', 3],
    ['a double upper bound (all-null files skipped, NaN files keep no bounds)', 'SELECT count(*) FROM silver.plays WHERE epa < -0.5', 2],
  ])('%s reads only files that can match', async (_label, sql, files) => {
    const result = await both(sql);
    expect(result.filesRead).toBe(files);
  });

  it.each<[string, string]>([
    ['LIKE', "SELECT count(*) FROM silver.plays WHERE game_id LIKE '2023_02%'"],
    ['a function of the column', 'SELECT count(*) FROM silver.plays WHERE week + 0 = 3'],
    ['NOT IN', 'SELECT count(*) FROM silver.plays WHERE week NOT IN (1, 2)'],
    ['an OR with an unusable side', "SELECT count(*) FROM silver.plays WHERE week = 3 OR game_id LIKE '%KC%'"],
  ])('keeps every file for %s', async (_label, sql) => {
    const result = await both(sql);
    expect(result.skipped).toBe(0);
    expect(result.filesRead).toBe(5);
  });

  it('reads the stats back from the JSON commits a read left them out of, at the latest version and in time travel', async () => {
    const ref = resolveTable(t.lake, 'silver.plays');
    const lean = await tableSnapshot(t.lake, ref, { stats: false });
    expect(lean.statsLoaded).toBe(false);
    expect(lean.files.every((f) => f.stats === undefined)).toBe(true);
    expect(lean.statsCommits).toEqual([0, 1, 2, 3, 4]);
    const latest = await both("SELECT game_id FROM silver.plays WHERE game_id = '2023_02_KC_JAX'");
    expect(latest).toMatchObject({ rows: [['2023_02_KC_JAX']], filesRead: 1, skipped: 4 });
    // Version 2 holds the first three files; a predicate on a data column still skips by stats.
    const old = await both('SELECT count(*)::INT FROM silver.plays AT (VERSION => 2) WHERE week >= 3');
    expect(old).toMatchObject({ rows: [[1]], filesRead: 1, skipped: 2 });
  });

  it('reads the stats from the checkpoint when the snapshot was loaded without them', async () => {
    const ref = resolveTable(t.lake, 'silver.plays');
    await writeCheckpoint(t.lake.engine, await tableSnapshot(t.lake, ref));
    const lean = await tableSnapshot(t.lake, ref, { stats: false });
    expect(lean.statsLoaded).toBe(false);
    expect(lean.checkpointFiles?.length).toBe(1);
    const result = await both("SELECT game_id FROM silver.plays WHERE game_id = '2023_03_CHI_KC'");
    expect(result.rows).toEqual([['2023_03_CHI_KC']]);
    expect(result.filesRead).toBe(1);
  });

  it('reports the files under EXPLAIN', async () => {
    const plan = await runQuery(t.lake, "EXPLAIN SELECT count(*) FROM silver.plays WHERE game_id = '2023_02_KC_JAX'");
    expect(plan.views[0]).toMatchObject({ filesTotal: 5, filesPrunedByPartition: 0, filesSkippedByStats: 4, filesRead: 1 });
  });
});
