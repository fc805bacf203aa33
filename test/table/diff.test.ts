import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { literal } from '../../src/engine/index.js';
import { diffTable, resolveTable, tableHistory, writeTable, type TableRef } from '../../src/table/index.js';
import { REPO_ROOT } from '../helpers/child.js';
import { tempLake } from '../helpers/temp-lake.js';

/**
 * lake diff: the stat-correction ledger. The pbp case uses the shipped real nflverse sample
 * (2020 week 1, 372 columns); the others small tables that isolate one rule each.
 */
const PBP = literal(path.join(REPO_ROOT, 'data/sample/pbp/play_by_play_2020_week01.parquet'));
const env = tempLake('lake-diff', { threads: 2 });

async function write(table: TableRef, sql: string, mode: 'append' | 'replace' | 'overwrite', extra: Partial<Parameters<typeof writeTable>[1]> = {}): Promise<number> {
  const result = await writeTable(env.lake, { table, source: sql, mode, partitionBy: ['season'], ...extra });
  if (result.status !== 'committed') throw new Error('not committed');
  return result.version;
}

describe('diffTable', () => {
  it('a stat correction on real pbp shows exactly the changed play and column, in its partition', async () => {
    const table = resolveTable(env.lake, 'silver.pbp');
    const v0 = await write(table, `SELECT * FROM read_parquet(${PBP})`, 'append');
    // Thursday's re-pull: one play's yards corrected, the season replaced as a whole.
    const [play] = (await env.lake.engine.rows<{ game_id: string; play_id: number; yards_gained: number }>(
      `SELECT game_id, play_id, yards_gained FROM read_parquet(${PBP}) WHERE play_type = 'run' AND yards_gained = 3 ORDER BY game_id, play_id LIMIT 1`,
    ))!;
    const corrected = `SELECT * REPLACE (CASE WHEN game_id = ${literal(play!.game_id)} AND play_id = ${play!.play_id} THEN yards_gained + 2 ELSE yards_gained END AS yards_gained) FROM read_parquet(${PBP})`;
    const v1 = await write(table, corrected, 'replace');
    const diff = await diffTable(env.lake, { table, from: { version: v0 }, to: { version: v1 }, key: ['game_id', 'play_id'] });
    expect(diff).toMatchObject({ from: 0, to: 1, key: ['game_id', 'play_id'], keySource: 'option', added: 0, removed: 0, changed: 1, duplicateKeys: 0, columnsAdded: [], columnsRemoved: [] });
    expect(diff.partitions).toEqual([{ partition: { season: '2020' }, added: 0, removed: 0, changed: 1 }]);
    expect(diff.changes).toEqual([
      { change: 'changed', partition: { season: '2020' }, key: { game_id: play!.game_id, play_id: `${play!.play_id}.0` }, columns: [{ column: 'yards_gained', from: '3.0', to: '5.0' }] },
    ]);
    // The catalog's key (as the CLI passes it) gives the same answer; no key compares whole rows.
    const catalog = await diffTable(env.lake, { table, from: { version: 0 }, to: { version: 1 }, fallbackKey: ['game_id', 'play_id'] });
    expect([catalog.keySource, catalog.changed]).toEqual(['catalog', 1]);
    const rows = await diffTable(env.lake, { table, from: { version: 0 }, to: { version: 1 } });
    expect([rows.keySource, rows.added, rows.removed, rows.changed]).toEqual(['row', 1, 1, 0]);
    expect(rows.changes.map((c) => [c.change, c.row?.['yards_gained']])).toEqual([
      ['added', '5.0'],
      ['removed', '3.0'],
    ]);
  });

  it('counts added, removed and changed keys per partition; unchanged partitions are absent', async () => {
    const table = resolveTable(env.lake, 'silver.games');
    const base = "SELECT i AS id, 2020 + (i % 3) AS season, i * 10 AS pts, 'team' || i AS team FROM range(0, 30) r(i)";
    await write(table, base, 'append');
    // Season 2021: id 1 dropped, id 100 added, id 4 changed; 2022: id 2 changed; 2020 untouched.
    await write(
      table,
      `SELECT id, season, CASE WHEN id IN (4, 2) THEN pts + 1 ELSE pts END AS pts, team FROM (${base}) WHERE season IN (2021, 2022) AND id <> 1
       UNION ALL SELECT 100, 2021, 0, 'new'`,
      'replace',
    );
    const diff = await diffTable(env.lake, { table, from: { version: 0 }, to: { version: 1 }, key: ['id'] });
    expect([diff.added, diff.removed, diff.changed]).toEqual([1, 1, 2]);
    expect(diff.partitions).toEqual([
      { partition: { season: '2021' }, added: 1, removed: 1, changed: 1 },
      { partition: { season: '2022' }, added: 0, removed: 0, changed: 1 },
    ]);
    expect(diff.changes.map((c) => [c.change, c.key?.['id'], c.columns?.map((x) => `${x.column}:${x.from}->${x.to}`)])).toEqual([
      ['removed', '1', undefined],
      ['changed', '4', ['pts:40->41']],
      ['added', '100', undefined],
      ['changed', '2', ['pts:20->21']],
    ]);
    // --to defaults to the latest version; --limit 0 keeps only the counts.
    const latest = await diffTable(env.lake, { table, from: { version: 0 }, key: ['id'], limit: 0 });
    expect([latest.to, latest.changed, latest.changes]).toEqual([1, 2, []]);
  });

  it('takes the business key recorded in commitInfo (business_key, or promote.key), else the table property', async () => {
    const recorded = resolveTable(env.lake, 'silver.recorded');
    await write(recorded, 'SELECT i AS id, 2020 AS season, i AS v FROM range(0, 5) r(i)', 'append', { commitMetadata: { business_key: ['id'] } });
    await write(recorded, 'SELECT i AS id, 2020 AS season, i * i AS v FROM range(0, 5) r(i)', 'replace');
    expect(await diffTable(env.lake, { table: recorded, from: { version: 0 }, to: { version: 1 } })).toMatchObject({ key: ['id'], keySource: 'commitInfo', changed: 3 });

    const promoted = resolveTable(env.lake, 'silver.promoted');
    await write(promoted, 'SELECT i AS id, 2020 AS season, i AS v FROM range(0, 5) r(i)', 'append', { commitMetadata: { promote: { key: ['id', 'season'] } } });
    await write(promoted, 'SELECT i AS id, 2020 AS season, i * i AS v FROM range(0, 5) r(i)', 'replace', { commitMetadata: { promote: { key: ['id', 'season'] } } });
    expect(await diffTable(env.lake, { table: promoted, from: { version: 0 }, to: { version: 1 } })).toMatchObject({ key: ['id', 'season'], keySource: 'commitInfo', changed: 3 });

    const property = resolveTable(env.lake, 'silver.property');
    await write(property, 'SELECT i AS id, 2020 AS season, i AS v FROM range(0, 5) r(i)', 'append', { configuration: { 'nfl_lakehouse.businessKey': 'id, season' } });
    await write(property, 'SELECT i AS id, 2020 AS season, i + 1 AS v FROM range(1, 5) r(i)', 'replace');
    expect(await diffTable(env.lake, { table: property, from: { version: 0 }, to: { version: 1 } })).toMatchObject({ key: ['id', 'season'], keySource: 'metadata', removed: 1, changed: 4 });
  });

  it('resolves timestamps, reports schema changes, ignores columns, and counts duplicate keys', async () => {
    const table = resolveTable(env.lake, 'silver.evolving');
    const t0 = Date.parse('2026-09-10T06:00:00Z');
    await write(table, "SELECT i AS id, 2020 AS season, 'x' AS stamp FROM range(0, 4) r(i)", 'append', { now: () => t0 });
    await write(table, "SELECT i AS id, 2020 AS season, 'y' AS stamp, i AS extra FROM range(0, 4) r(i) UNION ALL SELECT 3, 2020, 'y', 9", 'replace', {
      schemaMode: 'merge',
      now: () => t0 + 60_000,
    });
    const history = await tableHistory(env.lake, table);
    const diff = await diffTable(env.lake, { table, from: { timestamp: history[1]!.timestamp }, to: { timestamp: t0 + 120_000 }, key: ['id'], ignoreColumns: ['stamp'] });
    expect(diff).toMatchObject({ from: 0, to: 1, columnsAdded: ['extra'], columnsRemoved: [], compared: ['id', 'season'], changed: 1, duplicateKeys: 1 });
    expect(diff.changes).toEqual([{ change: 'changed', partition: { season: '2020' }, key: { id: '3' } }]);
    const withStamp = await diffTable(env.lake, { table, from: { version: 0 }, to: { version: 1 }, key: ['id'] });
    expect(withStamp.changed).toBe(4);
  });

  it('refuses a key column that one of the versions lacks (USAGE)', async () => {
    const table = resolveTable(env.lake, 'silver.evolving');
    await expect(diffTable(env.lake, { table, from: { version: 0 }, to: { version: 1 }, key: ['extra'] })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(diffTable(env.lake, { table, from: { version: 0 }, to: { version: 7 } })).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND' });
  });
});
