import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLakeError } from '../../src/core/index.js';
import { listLog, parseSchemaString } from '../../src/delta/index.js';
import { openLake, resolveTable, runQuery, tableHistory, tableSnapshot, writeTable, type Lake } from '../../src/table/index.js';

let lake: Lake;
let root: string;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'lake-write-'));
  lake = await openLake({ root });
});
afterAll(() => {
  lake.close();
  rmSync(root, { recursive: true, force: true });
});

async function rows(sql: string): Promise<unknown[][]> {
  return (await runQuery(lake, sql)).rows;
}

describe('writeTable', () => {
  it('maps every nflverse type to a Delta type and reads the values back unchanged', async () => {
    const table = resolveTable(lake, 'bronze.types');
    const source = `SELECT 'a'::VARCHAR s, 1::BIGINT l, 2::INTEGER i, 3::SMALLINT sh, 4::TINYINT b, 1.5::DOUBLE d, 2.5::FLOAT f, true bo,
      DATE '2024-09-05' dt, TIMESTAMPTZ '2024-09-05 20:20:00.123456+00' ts, TIMESTAMP '2024-09-06 01:00:00' naive, 12.34::DECIMAL(10,2) dc,
      '\\xAA\\xBB'::BLOB bin, [1, 2]::INTEGER[] arr, {'x': 1, 'y': 'z'} st, 2024 season`;
    const result = await writeTable(lake, { table, source, mode: 'append', partitionBy: ['season'] });
    expect(result).toMatchObject({ status: 'committed', version: 0, filesAdded: 1, rowsAdded: 1 });
    const snapshot = await tableSnapshot(lake, table);
    const schema = parseSchemaString(snapshot.metadata.schemaString, 'test');
    expect(schema.fields.map((f) => [f.name, f.type])).toEqual([
      ['s', 'string'],
      ['l', 'long'],
      ['i', 'integer'],
      ['sh', 'short'],
      ['b', 'byte'],
      ['d', 'double'],
      ['f', 'float'],
      ['bo', 'boolean'],
      ['dt', 'date'],
      ['ts', 'timestamp'],
      ['naive', 'timestamp'],
      ['dc', 'decimal(10,2)'],
      ['bin', 'binary'],
      ['arr', { type: 'array', elementType: 'integer', containsNull: true }],
      ['st', { type: 'struct', fields: [{ name: 'x', type: 'integer', nullable: true, metadata: {} }, { name: 'y', type: 'string', nullable: true, metadata: {} }] }],
      ['season', 'integer'],
    ]);
    const [row] = await rows(
      "SELECT s, l, i, sh, b, d, f, bo, CAST(dt AS VARCHAR), CAST(ts AS VARCHAR), CAST(naive AS VARCHAR), CAST(dc AS VARCHAR), hex(bin), arr, st.y, season FROM bronze.types",
    );
    expect(row).toEqual(['a', 1n, 2, 3, 4, 1.5, 2.5, true, '2024-09-05', '2024-09-05 20:20:00.123456+00', '2024-09-06 01:00:00+00', '12.34', 'AABB', [1, 2], 'z', 2024]);
  });

  it('appends, replaces only the partitions present in the input, and overwrites, one commit each', async () => {
    const table = resolveTable(lake, 'bronze.games');
    await writeTable(lake, { table, source: "SELECT * FROM (VALUES (2023, 'g1', 10), (2023, 'g2', 20), (2024, 'g3', 30)) v(season, game_id, pts)", mode: 'append', partitionBy: ['season'] });
    await writeTable(lake, { table, source: "SELECT * FROM (VALUES (2024, 'g4', 40)) v(season, game_id, pts)", mode: 'append' });
    const replaced = await writeTable(lake, { table, source: "SELECT * FROM (VALUES (2024, 'g9', 99)) v(season, game_id, pts)", mode: 'replace' });
    expect(replaced).toMatchObject({ status: 'committed', version: 2, filesAdded: 1, filesRemoved: 2 });
    expect(await rows('SELECT season, game_id FROM bronze.games ORDER BY game_id')).toEqual([
      [2023, 'g1'],
      [2023, 'g2'],
      [2024, 'g9'],
    ]);
    await writeTable(lake, { table, source: "SELECT 2025 season, 'g10' game_id, 1 pts", mode: 'overwrite' });
    expect(await rows('SELECT game_id FROM bronze.games')).toEqual([['g10']]);
    // every version stays readable
    expect(await rows('SELECT count(*) FROM bronze.games AT (VERSION => 0)')).toEqual([[3n]]);
    expect(await rows('SELECT count(*) FROM bronze.games AT (VERSION => 1)')).toEqual([[4n]]);
    expect(await rows('SELECT count(*) FROM bronze.games AT (VERSION => 2)')).toEqual([[3n]]);
    const history = await tableHistory(lake, table);
    expect(history.map((h) => [h.version, h.operation, h.operationParameters['mode']])).toEqual([
      [3, 'WRITE', 'Overwrite'],
      [2, 'WRITE', 'Overwrite'],
      [1, 'WRITE', 'Append'],
      [0, 'CREATE TABLE', 'Append'],
    ]);
    expect(history[1]!.operationParameters['predicate']).toBe("season = '2024'");
  });

  it('records caller metadata and a txn, and skips a replayed idempotent write', async () => {
    const table = resolveTable(lake, 'bronze.idem');
    const first = await writeTable(lake, {
      table,
      source: 'SELECT 1 id',
      mode: 'append',
      txn: { appId: 'ingest:pbp', version: 5 },
      commitMetadata: { run_id: 'run-1', upstream_version: 'etag-1' },
    });
    expect(first.status).toBe('committed');
    const again = await writeTable(lake, { table, source: 'SELECT 1 id', mode: 'append', txn: { appId: 'ingest:pbp', version: 5 } });
    expect(again).toMatchObject({ status: 'skipped', version: 0 });
    const log = readFileSync(path.join(table.tableRoot, '_delta_log', '00000000000000000000.json'), 'utf8');
    const info = JSON.parse(log.split('\n')[0]!).commitInfo;
    expect(info).toMatchObject({ run_id: 'run-1', upstream_version: 'etag-1', operation: 'CREATE TABLE', engineInfo: expect.stringMatching(/^nfl-lakehouse\//) });
    expect(log).toContain('"txn":{"appId":"ingest:pbp","version":5');
    expect((await listLog(table.tableRoot)).maxCommit).toBe(0);
  });

  it.each([
    ['an extra column', 'SELECT 1 id, 2 extra', 'SCHEMA_MISMATCH'],
    ['a narrowing type', "SELECT 'x' id", 'SCHEMA_MISMATCH'],
    ['a broken query', 'SELECT nope FROM nowhere', 'SQL_ERROR'],
  ])('refuses %s with a stable code and leaves the table untouched', async (_label, source, code) => {
    const table = resolveTable(lake, `bronze.strict_${code.toLowerCase()}_${_label.length}`);
    await writeTable(lake, { table, source: 'SELECT 1::INTEGER id', mode: 'append' });
    const before = readdirSync(table.tableRoot).sort();
    try {
      await writeTable(lake, { table, source, mode: 'append' });
      expect.unreachable();
    } catch (error) {
      expect(isLakeError(error) && error.code).toBe(code);
    }
    expect(readdirSync(table.tableRoot).sort()).toEqual(before);
    expect((await listLog(table.tableRoot)).maxCommit).toBe(0);
  });

  it('evolves the schema additively with schema mode merge; old files read the new column as NULL', async () => {
    const table = resolveTable(lake, 'bronze.evolve');
    await writeTable(lake, { table, source: 'SELECT 1 id', mode: 'append' });
    await writeTable(lake, { table, source: "SELECT 2 id, 'new' note", mode: 'append', schemaMode: 'merge' });
    expect(await rows('SELECT id, note FROM bronze.evolve ORDER BY id')).toEqual([
      [1, null],
      [2, 'new'],
    ]);
    expect(await rows('SELECT * FROM bronze.evolve AT (VERSION => 0)')).toEqual([[1]]);
  });

  it('stores partition values per the protocol: NULL and empty string as null, special characters URL-encoded in add.path', async () => {
    const table = resolveTable(lake, 'bronze.special');
    const values = ['a b', 'x=y', '50%', 'a/b', 'a+b', 'São Paulo', '🏈', ''];
    const source = `SELECT * FROM (VALUES ${values.map((v, i) => `(${i}, '${v}')`).join(', ')}, (99, NULL)) v(id, p)`;
    await writeTable(lake, { table, source, mode: 'append', partitionBy: ['p'] });
    const snapshot = await tableSnapshot(lake, table);
    const byValue = new Map(snapshot.files.map((f) => [f.partitionValues['p'], f.path]));
    expect([...byValue.keys()].sort()).toEqual([null, ...values.filter((v) => v !== '')].sort());
    expect(byValue.get('a/b')).toMatch(/^p=a%252Fb\//);
    expect(byValue.get(null)).toMatch(/^p=__HIVE_DEFAULT_PARTITION__\//);
    expect(byValue.get('São Paulo')).toMatch(/^p=S%25C3%25A3o%2520Paulo\//);
    expect(await rows('SELECT id, p FROM bronze.special ORDER BY id')).toEqual([
      ...values.map((v, i) => [i, v === '' ? null : v]),
      [99, null],
    ]);
  });
});

describe('partition pruning', () => {
  it('names only the files of matching partitions to DuckDB, and answers the same', async () => {
    const table = resolveTable(lake, 'bronze.pruned');
    await writeTable(lake, { table, source: 'SELECT range::INTEGER id, (2000 + range % 5)::INTEGER season FROM range(50)', mode: 'append', partitionBy: ['season'] });
    const cases: [string, number, bigint][] = [
      ['SELECT count(*) FROM bronze.pruned WHERE season = 2001', 1, 10n],
      ['SELECT count(*) FROM bronze.pruned t WHERE t.season IN (2001, 2003) AND id > 0', 2, 20n],
      ['SELECT count(*) FROM bronze.pruned WHERE season BETWEEN 2002 AND 2010', 3, 30n],
      // no partition pruning across the OR; data skipping drops 2003 and 2004 (their ids start at 3 and 4)
      ['SELECT count(*) FROM bronze.pruned WHERE season = 2001 OR id = 2', 3, 11n],
      ['SELECT count(*) FROM bronze.pruned', 5, 50n],
      ['SELECT count(*) FROM bronze.pruned a LEFT JOIN bronze.pruned b ON a.id = b.id WHERE b.season = 2001', 5, 10n],
    ];
    for (const [sql, files, count] of cases) {
      const result = await runQuery(lake, sql);
      expect(result.rows, sql).toEqual([[count]]);
      expect(Math.max(...result.views.map((v) => v.filesRead ?? -1)), sql).toBe(files);
    }
  });
});
