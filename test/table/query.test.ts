import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLake, resolveTable, runQuery, writeTable, type Lake } from '../../src/table/index.js';

let lake: Lake;
let root: string;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'lake-query-'));
  lake = await openLake({ root });
  const table = resolveTable(lake, 'silver.games');
  await writeTable(lake, {
    table,
    source: `SELECT * FROM (VALUES (1, 'São Paulo', 2020, {'home': 'KC', 'away': 'HOU'}), (2, 'Kansas City', 2020, {'home': 'KC', 'away': 'BUF'}), (3, 'Buffalo', 2021, {'home': 'BUF', 'away': 'KC'})) v(id, city, season, teams)`,
    mode: 'append',
    partitionBy: ['season'],
  });
  await writeTable(lake, { table, source: `SELECT 4 id, 'Mexico City' city, 2022 season, {'home': 'ARI', 'away': 'SF'} teams`, mode: 'append' });
});
afterAll(() => {
  lake.close();
  rmSync(root, { recursive: true, force: true });
});

async function rows(sql: string): Promise<unknown[][]> {
  return (await runQuery(lake, sql)).rows;
}

describe('lake SQL over inlined native scans', () => {
  it.each<[string, string, unknown[][]]>([
    ['unicode text before the reference (byte offsets)', "SELECT 'São Paulo 🏈' AS s, count(*) FROM silver.games", [['São Paulo 🏈', 4n]]],
    ['a star projection', 'SELECT * FROM silver.games WHERE id = 1', [[1, 'São Paulo', 2020, { home: 'KC', away: 'HOU' }]]],
    ['struct field access', "SELECT teams.home FROM silver.games g WHERE g.season = 2021", [['BUF']]],
    ['a self-join across versions', 'SELECT count(*) FROM silver.games AT (VERSION => 0) a JOIN silver.games b USING (id)', [[3n]]],
    ['a CTE and a subquery', 'WITH s AS (SELECT season, count(*) n FROM silver.games GROUP BY season) SELECT max(n) FROM s WHERE season IN (SELECT season FROM silver.games)', [[2n]]],
    ['an unaliased reference qualified by the view', "SELECT count(city) FROM silver.games WHERE city LIKE 'K%'", [[1n]]],
    ['a nested subquery', 'SELECT count(*) FROM (SELECT 1 FROM silver.games)', [[4n]]],
    ['COLUMNS(*) reaches every column', "SELECT max(COLUMNS('^c')) FROM silver.games", [['São Paulo']]],
  ])('answers with %s', async (_label, sql, expected) => {
    expect(await rows(sql)).toEqual(expected);
  });

  it('prunes partitions under EXPLAIN and EXPLAIN ANALYZE too', async () => {
    const plan = await runQuery(lake, 'EXPLAIN SELECT count(*) FROM silver.games WHERE season = 2020');
    expect(plan.rows.length).toBeGreaterThan(0);
    expect(plan.views[0]!.filesRead).toBe(1);
    const analyzed = await runQuery(lake, 'EXPLAIN ANALYZE SELECT count(*) FROM silver.games WHERE season = 2020');
    expect(analyzed.views[0]!.filesRead).toBe(1);
  });
});

describe('concurrent queries on one lake', () => {
  it('each read its own version', async () => {
    const versions = [0, 1, 0, 1, 1, 0];
    const results = await Promise.all(versions.map((v) => runQuery(lake, `SELECT count(*) FROM silver.games AT (VERSION => ${v}) WHERE id > 0 OR id IS NULL`)));
    expect(results.map((r) => r.rows[0]![0])).toEqual(versions.map((v) => (v === 0 ? 3n : 4n)));
    // statements DuckDB cannot serialize (here CREATE … AS) read through temp views instead
    await Promise.all(versions.map((v, i) => runQuery(lake, `CREATE TEMP TABLE concurrent_${i} AS SELECT count(*) AS n FROM silver.games AT (VERSION => ${v})`)));
    const viaViews = await Promise.all(versions.map((_v, i) => runQuery(lake, `SELECT n FROM concurrent_${i}`)));
    expect(viaViews.map((r) => r.rows[0]![0])).toEqual(versions.map((v) => (v === 0 ? 3n : 4n)));
  });
});
