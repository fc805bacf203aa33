import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquetTree, resolveFields, type StructField } from '../../src/delta/index.js';
import { openLake, runQuery, type Lake } from '../../src/table/index.js';

/**
 * Column mapping mode `id` (PROTOCOL.md "Reader Requirements for Column Mapping"): no conformance
 * table uses it, so this builds one. Its Parquet files name the columns differently from the
 * schema's physical names; only the field ids match, so a reader that resolves by name reads NULLs.
 */
let root: string;
let lake: Lake;

const field = (name: string, type: StructField['type'], id: number, physical: string): StructField => ({
  name,
  type,
  nullable: true,
  metadata: { 'delta.columnMapping.id': id, 'delta.columnMapping.physicalName': physical },
});

const schema = {
  type: 'struct' as const,
  fields: [
    field('id', 'long', 1, 'col-id'),
    field('info', { type: 'struct', fields: [field('name', 'string', 3, 'col-name')] }, 2, 'col-info'),
    field('items', { type: 'array', elementType: { type: 'struct', fields: [field('qty', 'integer', 5, 'col-qty')] }, containsNull: true }, 4, 'col-items'),
    field('attrs', { type: 'map', keyType: 'string', valueType: { type: 'struct', fields: [field('score', 'integer', 8, 'col-score')] }, valueContainsNull: true }, 6, 'col-attrs'),
    field('late', 'string', 10, 'col-late'),
    field('part', 'string', 11, 'col-part'),
  ],
};

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'lake-cm-'));
  lake = await openLake({ root });
  const table = path.join(root, 'id-mode');
  mkdirSync(path.join(table, '_delta_log'), { recursive: true });
  mkdirSync(path.join(table, 'x'), { recursive: true });
  // File 1: every column but `late`, under names unrelated to the schema.
  await lake.engine.run(
    `COPY (SELECT 1::BIGINT AS a1, {'x9': 'hello'} AS s1, [{'y7': 1}, {'y7': 2}] AS lst, MAP {'k': {'z3': 5}} AS m) TO '${path.join(table, 'x', 'one.parquet')}' ` +
      `(FORMAT parquet, FIELD_IDS {a1: 1, s1: {__duckdb_field_id: 2, x9: 3}, lst: {__duckdb_field_id: 4, element: {y7: 5}}, m: {__duckdb_field_id: 6, key: 7, value: {z3: 8}}})`,
  );
  // File 2: a different name for id 1, and `late` (id 10); the nested columns are absent.
  await lake.engine.run(`COPY (SELECT 'late!' AS zz, 2::BIGINT AS other_name) TO '${path.join(table, 'x', 'two.parquet')}' (FORMAT parquet, FIELD_IDS {zz: 10, other_name: 1})`);
  // File 3: no field ids at all: in id mode every data column reads as NULL (the protocol allows NULLs or a refusal).
  await lake.engine.run(`COPY (SELECT 3::BIGINT AS id) TO '${path.join(table, 'x', 'three.parquet')}' (FORMAT parquet)`);
  const add = (file: string) => ({ add: { path: `x/${file}`, partitionValues: { 'col-part': 'p1' }, size: 1, modificationTime: 0, dataChange: true } });
  const log = [
    { commitInfo: { timestamp: 0, operation: 'WRITE' } },
    { protocol: { minReaderVersion: 2, minWriterVersion: 5 } },
    {
      metaData: {
        id: 'cm-id',
        format: { provider: 'parquet', options: {} },
        schemaString: JSON.stringify(schema),
        partitionColumns: ['part'],
        configuration: { 'delta.columnMapping.mode': 'id', 'delta.columnMapping.maxColumnId': '11' },
      },
    },
    add('one.parquet'),
    add('two.parquet'),
    add('three.parquet'),
  ];
  writeFileSync(path.join(table, '_delta_log', '00000000000000000000.json'), log.map((a) => JSON.stringify(a)).join('\n') + '\n');
});

afterAll(() => {
  lake.close();
  rmSync(root, { recursive: true, force: true });
});

describe('column mapping mode id', () => {
  it('resolves top-level and nested columns by Parquet field_id, per file, with NULL for ids a file lacks', async () => {
    const result = await runQuery(lake, `SELECT COLUMNS(*)::VARCHAR FROM delta_scan('${path.join(root, 'id-mode')}') ORDER BY 1 NULLS LAST`);
    expect(result.columns).toEqual(['id', 'info', 'items', 'attrs', 'late', 'part']);
    expect(result.rows).toEqual([
      ['1', "{'name': hello}", "[{'qty': 1}, {'qty': 2}]", "{k={'score': 5}}", null, 'p1'],
      ['2', null, null, null, 'late!', 'p1'],
      [null, null, null, null, null, 'p1'],
    ]);
    const types = await runQuery(lake, `SELECT * FROM delta_scan('${path.join(root, 'id-mode')}') LIMIT 0`);
    expect(types.types.map((t) => t.replace(/"/g, ''))).toEqual(['BIGINT', 'STRUCT(name VARCHAR)', 'STRUCT(qty INTEGER)[]', 'MAP(VARCHAR, STRUCT(score INTEGER))', 'VARCHAR', 'VARCHAR']);
  });

  it('filters and projects nested logical names', async () => {
    const result = await runQuery(lake, `SELECT info.name, items[2].qty, attrs['k'].score FROM delta_scan('${path.join(root, 'id-mode')}') WHERE id = 1`);
    expect(result.rows).toEqual([['hello', 2, 5]]);
  });
});

describe('resolveFields', () => {
  const tree = parquetTree([
    { name: 'schema', numChildren: 2, fieldId: undefined },
    { name: 'col-a', numChildren: 0, fieldId: 7 },
    { name: 'col-s', numChildren: 1, fieldId: 8 },
    { name: 'col-inner', numChildren: 0, fieldId: 9 },
  ]);
  const fields = [field('a', 'long', 7, 'col-a'), field('s', { type: 'struct', fields: [field('inner', 'string', 9, 'col-inner'), field('gone', 'string', 12, 'col-gone')] }, 8, 'col-s')];

  it('maps physical to logical names in name mode, nested fields included, and marks absent ones', () => {
    const resolved = resolveFields(fields, 'name', tree);
    expect(resolved.map((r) => [r.logical, r.physical])).toEqual([
      ['a', 'col-a'],
      ['s', 'col-s'],
    ]);
    expect(resolved[1]!.resolution).toMatchObject({ kind: 'struct', fields: [{ logical: 'inner', physical: 'col-inner' }, { logical: 'gone', physical: undefined }] });
  });

  it('reads logical names in mode none, ignoring the mapping metadata', () => {
    expect(resolveFields(fields, 'none', tree).map((r) => r.physical)).toEqual([undefined, undefined]);
    expect(resolveFields(fields, 'none', undefined).map((r) => r.physical)).toEqual(['a', 's']);
  });
});
