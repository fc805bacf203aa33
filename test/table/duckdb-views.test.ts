import { existsSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAddPath } from '../../src/delta/index.js';
import { defaultDuckdbPath, openLake, refreshDuckdbViews, resolveTable, tableSnapshot, writeDuckdbViews, writeTable, type Lake } from '../../src/table/index.js';
import { readRows } from '../helpers/lake.js';
import { canonicalRows, rowObjects } from '../helpers/rows.js';
import { tempDirs } from '../helpers/temp-dir.js';

/**
 * `lake duckdb`: the database file is opened by a separate DuckDB instance (default settings, its
 * own time zone, no lake code involved) and must answer exactly like the lake.
 */
const dirs = tempDirs('lake-duckdb-views');
let lake: Lake;

beforeAll(async () => {
  lake = await openLake({ root: await dirs.make('lake'), threads: 2 });
  await writeTable(lake, { table: resolveTable(lake, 'bronze.pbp'), source: "SELECT i AS play_id, 2020 + i % 2 AS season, 'p' || i AS descr FROM range(0, 40) r(i)", mode: 'append', partitionBy: ['season'] });
  await writeTable(lake, {
    table: resolveTable(lake, 'silver.pbp'),
    source: "SELECT i AS play_id, 2020 + i % 2 AS season, DATE '2020-09-10' + (i % 3)::INTEGER AS game_date, i * 1.5 AS epa FROM range(0, 40) r(i)",
    mode: 'append',
    partitionBy: ['season', 'game_date'],
  });
  await writeTable(lake, { table: resolveTable(lake, 'gold.team_week'), source: "SELECT 'KC' AS team, 1 AS week, 30 AS points", mode: 'append' });
  await writeTable(lake, {
    table: resolveTable(lake, 'gold.kickoffs'),
    source: "SELECT 'KC' AS team, TIMESTAMPTZ '2024-09-06 00:20:00.5+00' AS kickoff UNION ALL SELECT 'BUF', NULL",
    mode: 'append',
    partitionBy: ['kickoff'],
  });
});
afterAll(async () => {
  lake.close();
  await dirs.cleanup();
});

/** Rows of `sql` run by a fresh DuckDB instance on the database file, read-only. */
async function stockQuery(file: string, sql: string, timeZone?: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    if (timeZone) await connection.run(`SET TimeZone = '${timeZone}'`);
    const reader = await connection.runAndReadAll(sql);
    return rowObjects(reader.columnNames(), reader.getRowsJS() as unknown[][]);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('writeDuckdbViews', () => {
  it('writes one view per table in schemas bronze/silver/gold that a separate DuckDB reads exactly like the lake', async () => {
    const result = await writeDuckdbViews(lake);
    expect(result.path).toBe(path.join(lake.root, 'lake.duckdb'));
    expect(result.views.map((v) => [v.view, v.version, v.error])).toEqual([
      ['bronze.pbp', 0, undefined],
      ['gold.kickoffs', 0, undefined],
      ['gold.team_week', 0, undefined],
      ['silver.pbp', 0, undefined],
    ]);
    for (const name of ['bronze.pbp', 'silver.pbp', 'gold.team_week', 'gold.kickoffs']) {
      const expected = canonicalRows(await readRows(lake, resolveTable(lake, name).tableRoot));
      expect(canonicalRows(await stockQuery(result.path, `SELECT * FROM ${name}`)), name).toEqual(expected);
    }
    // A timestamp partition value means the same instant whatever the reader's time zone.
    const kickoff = "SELECT team, epoch_ms(kickoff) AS ms FROM gold.kickoffs ORDER BY team";
    expect(await stockQuery(result.path, kickoff, 'America/New_York')).toEqual([
      { team: 'BUF', ms: null },
      { team: 'KC', ms: Date.parse('2024-09-06T00:20:00.500Z') },
    ]);
    const catalog = await stockQuery(result.path, 'SELECT view, version, files FROM main.lake_tables ORDER BY view');
    expect(catalog).toEqual([
      { view: 'bronze.pbp', version: 0, files: 2 },
      { view: 'gold.kickoffs', version: 0, files: 2 },
      { view: 'gold.team_week', version: 0, files: 1 },
      { view: 'silver.pbp', version: 0, files: 6 },
    ]);
    const types = await stockQuery(result.path, "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'silver' ORDER BY ordinal_position");
    expect(types.map((t) => [t['column_name'], t['data_type']])).toEqual([
      ['play_id', 'BIGINT'],
      ['season', 'BIGINT'],
      ['game_date', 'DATE'],
      ['epa', 'DECIMAL(21,1)'],
    ]);
  });

  it('refreshDuckdbViews refreshes an existing file after a commit, and creates none unless asked', async () => {
    const elsewhere = path.join(await dirs.make('out'), 'views.duckdb');
    expect(await refreshDuckdbViews(lake, { out: elsewhere })).toBeUndefined();
    expect(existsSync(elsewhere)).toBe(false);
    await writeDuckdbViews(lake, { out: elsewhere });
    const table = resolveTable(lake, 'silver.pbp');
    await writeTable(lake, { table, source: "SELECT 999 AS play_id, 2021 AS season, DATE '2020-09-11' AS game_date, 0.5 AS epa", mode: 'replace' });
    const refreshed = await refreshDuckdbViews(lake, { out: elsewhere });
    expect(refreshed?.views.find((v) => v.view === 'silver.pbp')?.version).toBe(1);
    expect(canonicalRows(await stockQuery(elsewhere, 'SELECT * FROM silver.pbp'))).toEqual(canonicalRows(await readRows(lake, table.tableRoot)));
    expect(existsSync(`${elsewhere}.wal`)).toBe(false);
  });

  it('a table that does not read gets no view (with its error); the other views are written', async () => {
    const table = resolveTable(lake, 'gold.broken');
    await writeTable(lake, { table, source: 'SELECT 1 AS x', mode: 'append' });
    const snapshot = await tableSnapshot(lake, table);
    await unlink(path.join(table.tableRoot, decodeAddPath(snapshot.files[0]!.path)));
    const out = path.join(await dirs.make('broken'), 'lake.duckdb');
    const result = await writeDuckdbViews(lake, { out });
    expect(result.views.find((v) => v.view === 'gold.broken')?.error).toMatchObject({ code: 'DATA_FILE_MISSING' });
    expect(result.views.filter((v) => !v.error).map((v) => v.view)).toEqual(['bronze.pbp', 'gold.kickoffs', 'gold.team_week', 'silver.pbp']);
    const views = await stockQuery(out, "SELECT schema_name || '.' || view_name AS v FROM duckdb_views() WHERE NOT internal ORDER BY 1");
    expect(views.map((v) => v['v'])).toEqual(['bronze.pbp', 'gold.kickoffs', 'gold.team_week', 'silver.pbp']);
    expect(defaultDuckdbPath(lake)).toBe(path.join(lake.root, 'lake.duckdb'));
  });
});
