/**
 * The expected facts of test/fixtures/delta-conformance/MANIFEST.md, one entry per table (the
 * `section` number is the MANIFEST heading). Values are written as DuckDB renders them with
 * `::VARCHAR` (the form the golden files use): `'1.00'` for decimal(5,2), `'2020-01-01 08:09:10.001+00'`
 * for a UTC timestamp, `'2021-11-18 02:30:00.123456'` for timestamp_ntz.
 *
 * `rows` are exact row sets; a row may name only some columns, and then only those columns are
 * compared (MANIFEST does not always list every column). Lines MANIFEST marks "computed here"
 * are included as cross-checks, as MANIFEST suggests.
 */
export type FactRow = Record<string, string | null>;

export interface TableFacts {
  section: number;
  /** Logical column names in order; per version when the schema changes. */
  columns: string[] | Record<number, string[]>;
  /** Commit versions present in `_delta_log`. */
  versions: number[];
  /** Rows per version, for versions whose data can be read. */
  counts: Record<number, number>;
  rows?: Record<number, FactRow[]>;
  /** Versions whose data files are gone: reading fails with DATA_FILE_MISSING; the log still lists `activeFiles`. */
  missingData?: Record<number, { activeFiles: number | undefined }>;
  /** Where MANIFEST.md and the data disagree, and what the test asserts instead. */
  note?: string;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const ids = (values: number[], column = 'id'): FactRow[] => values.map((v) => ({ [column]: String(v) }));
const versions = (from: number, to: number): number[] => range(from, to);
const countsOf = (rows: Record<number, FactRow[]>): Record<number, number> => Object.fromEntries(Object.entries(rows).map(([v, r]) => [v, r.length]));

/** A UTC instant in µs since the epoch as DuckDB prints TIMESTAMPTZ (UTC session): fraction trimmed, `+00`. */
export function tsUtc(micros: number): string {
  return `${tsNtz(micros)}+00`;
}

/** A timestamp_ntz in µs as DuckDB prints TIMESTAMP. */
export function tsNtz(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const fraction = String(((micros % 1_000_000) + 1_000_000) % 1_000_000).padStart(6, '0').replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction === '' ? '' : `.${fraction}`}`;
}

// §7: five appends of 10 ids, five DELETEs of 5-id blocks, three appends, then DELETE id >= 66.
function insertsDeletes(version: number): number[] {
  let live: number[] = [];
  for (let v = 0; v <= version; v++) {
    if (v <= 4) live = [...live, ...range(10 * v, 10 * v + 9)];
    else if (v <= 9) live = live.filter((id) => !(id >= 10 * (v - 5) + 5 && id <= 10 * (v - 5) + 9));
    else if (v <= 12) live = [...live, ...range(50 + 10 * (v - 10), 59 + 10 * (v - 10))];
    else live = live.filter((id) => id < 66);
  }
  return live;
}

// §18: x = 0…49 with part = x mod 10, col1 = x, col2 = "foo" + (x mod 5); version k >= 1 deleted col1 = 0, 2, …, 2(k-1).
function dvPartitioned(version: number): FactRow[] {
  return range(0, 49)
    .filter((x) => !(x % 2 === 0 && x < 2 * version))
    .map((x) => ({ part: String(x % 10), col1: String(x), col2: `foo${x % 5}` }));
}

// §13: rows i = 0…4 as DTRS "table with `name` column mapping mode" lists them, plus a row of nulls.
const CM_COLUMNS = [
  'ByteType', 'ShortType', 'IntegerType', 'LongType', 'FloatType', 'DoubleType', 'decimal', 'BooleanType', 'StringType', 'BinaryType', 'DateType',
  'TimestampType', 'nested_struct', 'array_of_prims', 'array_of_arrays', 'array_of_map_of_arrays', 'array_of_structs', 'struct_of_arrays_maps_of_structs',
  'map_of_prims', 'map_of_rows', 'map_of_arrays', 'map_of_maps',
];
function cmRow(i: number): FactRow {
  return {
    ByteType: String(i), ShortType: String(i), IntegerType: String(i), LongType: String(i),
    FloatType: `${i}.0`, DoubleType: `${i}.0`, decimal: `${i}.00`, BooleanType: String(i % 2 === 0), StringType: String(i),
    BinaryType: String(i), // the bytes of the string "i", printable
    DateType: '2021-11-18', TimestampType: tsUtc(i * 1000),
    nested_struct: `{'aa': ${i}, 'ac': {'aca': ${i}}}`,
    array_of_prims: `[${i}, ${i + 1}]`,
    array_of_arrays: `[[${i}, ${i + 1}], [${i + 2}, ${i + 3}]]`,
    map_of_prims: `{${i}=${i + 1}, ${i + 2}=${i + 3}}`,
    map_of_rows: `{${i + 1}={'ab': ${i * 20}}}`,
    map_of_arrays: `{${i}=[${i}, NULL, ${i + 1}], ${i + 1}=[]}`,
  };
}

const PARTITION_VALUE_COLUMNS = ['as_int', 'as_long', 'as_byte', 'as_short', 'as_boolean', 'as_float', 'as_double', 'as_string', 'as_string_lit_null', 'as_date', 'as_timestamp', 'as_big_decimal'];
function partitionValuesRow(i: number): FactRow {
  return {
    as_int: String(i), as_long: String(i), as_byte: String(i), as_short: String(i), as_boolean: String(i % 2 === 0),
    as_float: `${i}.0`, as_double: `${i}.0`, as_string: String(i), as_string_lit_null: 'null', as_date: '2021-09-08',
    // Zone-less partition value "2021-09-08 11:11:11" read as UTC (MANIFEST §4: pick a policy; both kernels use UTC).
    as_timestamp: '2021-09-08 11:11:11+00',
    as_big_decimal: String(i),
    as_list_of_records: `[{'val': ${i}}, {'val': ${i}}, {'val': ${i}}]`,
    as_nested_struct: `{'aa': ${i}, 'ab': ${i}, 'ac': {'aca': ${i}, 'acb': ${i}}}`,
    value: String(i),
  };
}

const A = 1637202600123456; // 2021-11-18 02:30:00.123456
const B = 1373043660123456; // 2013-07-05 17:01:00.123456
const ntz = (id: number, ts: number | null, part: number | null): FactRow => ({ id: String(id), tsNtz: ts === null ? null : tsNtz(ts), tsNtzPartition: part === null ? null : tsNtz(part) });

const simpleRows: Record<number, FactRow[]> = { 0: ids(range(0, 4)), 1: ids(range(0, 19)), 2: ids(range(5, 9)), 3: ids([5, 7, 9, 106, 108]), 4: ids([5, 7, 9]) };
const cdfRows: Record<number, FactRow[]> = {
  0: ids(range(0, 9), 'value'), 1: ids(range(1, 8), 'value'), 2: ids(range(0, 9), 'value'), 3: ids([2, 3, 6, 7, 8, 9], 'value'),
  4: ids([1, 2, 3, 4, 6, 7, 8, 9], 'value'), 5: ids([0, 1, 2, 4, 5, 6, 7, 8, 9], 'value'), 6: ids(range(0, 9), 'value'),
};
const compactedCounts = [1, 5, 4, 4, 5, 3, 3, 4, 5, 5, 4, 4, 4, 4, 6, 8, 6, 6, 8, 8, 8, 8, 8, 8, 2, 5];

export const MANIFEST_FACTS: Record<string, TableFacts> = {
  simple_table: { section: 1, columns: ['id'], versions: versions(0, 4), counts: countsOf(simpleRows), rows: simpleRows },
  'delta-0.8-empty': { section: 2, columns: ['column'], versions: versions(0, 1), counts: { 0: 1, 1: 0 }, rows: { 0: ids([1], 'column'), 1: [] } },
  basic_partitioned: {
    section: 3,
    columns: ['letter', 'number', 'a_float'],
    versions: versions(0, 1),
    counts: { 0: 3, 1: 6 },
    rows: {
      0: [{ letter: 'a', number: '1' }, { letter: 'b', number: '2' }, { letter: 'c', number: '3' }],
      1: [
        { letter: null, number: '6', a_float: '6.6' },
        { letter: 'a', number: '1', a_float: '1.1' },
        { letter: 'a', number: '4', a_float: '4.4' },
        { letter: 'b', number: '2', a_float: '2.2' },
        { letter: 'c', number: '3', a_float: '3.3' },
        { letter: 'e', number: '5', a_float: '5.5' },
      ],
    },
  },
  'data-reader-partition-values': {
    section: 4,
    columns: [...PARTITION_VALUE_COLUMNS, 'as_list_of_records', 'as_nested_struct', 'value'],
    versions: [0],
    counts: { 0: 3 },
    rows: {
      0: [
        partitionValuesRow(0),
        partitionValuesRow(1),
        { ...Object.fromEntries(PARTITION_VALUE_COLUMNS.map((c) => [c, null])), as_list_of_records: "[{'val': 2}, {'val': 2}, {'val': 2}]", as_nested_struct: "{'aa': 2, 'ab': 2, 'ac': {'aca': 2, 'acb': 2}}", value: '2' },
      ],
    },
  },
  'deltatbl-special-chars-in-partition-column': {
    section: 5,
    columns: ['c1', 'c2'],
    versions: [0],
    counts: { 0: 10 },
    rows: { 0: range(0, 9).map((i) => ({ c1: String(i), c2: `+ =%${i % 2}` })) },
  },
  'delta-0.8.0-special-partition': {
    section: 6,
    columns: ['x', 'y'],
    versions: [0],
    counts: { 0: 2 },
    rows: { 0: [{ x: 'A/A', y: '1' }, { x: 'B B', y: '2' }] },
  },
  'basic-with-inserts-deletes-checkpoint': {
    section: 7,
    columns: ['id'],
    versions: versions(0, 13),
    counts: { 0: 10, 1: 20, 2: 30, 3: 40, 4: 50, 5: 45, 6: 40, 7: 35, 8: 30, 9: 25, 10: 35, 11: 45, 12: 55, 13: 41 },
    rows: Object.fromEntries(versions(0, 13).map((v) => [v, ids(insertsDeletes(v))])),
  },
  'basic-with-inserts-overwrite-restore': {
    section: 8,
    columns: ['id'],
    versions: versions(0, 3),
    counts: { 0: 100, 1: 200, 2: 500, 3: 200 },
    rows: { 0: ids(range(0, 99)), 1: ids(range(0, 199)), 2: ids(range(500, 999)), 3: ids(range(0, 199)) },
  },
  'multi-part-checkpoint': { section: 9, columns: ['id'], versions: versions(0, 1), counts: { 0: 1, 1: 31 }, rows: { 0: ids([0]), 1: ids([0, ...range(0, 29)]) } },
  checkpoints_vacuumed: {
    section: 10,
    columns: ['some_struct', 'value', 'ts', 'date'],
    versions: versions(5, 12),
    counts: {},
    missingData: Object.fromEntries(versions(5, 12).map((v) => [v, { activeFiles: v }])),
  },
  'snapshot-vacuumed': {
    section: 11,
    columns: ['col1', 'col2'],
    versions: versions(0, 5),
    counts: { 5: 20 },
    rows: { 5: range(0, 19).map((i) => ({ col1: String(i), col2: `data-3-${i}` })) },
    missingData: { 0: { activeFiles: undefined }, 1: { activeFiles: undefined }, 2: { activeFiles: undefined }, 3: { activeFiles: undefined }, 4: { activeFiles: undefined } },
  },
  'compacted-log-files-table': {
    section: 12,
    columns: ['id', 'comment'],
    versions: versions(0, 25),
    counts: Object.fromEntries(compactedCounts.map((n, v) => [v, n])),
    rows: {
      25: [
        { id: '0', comment: 'new' },
        { id: '1', comment: 'after-large-delete' },
        { id: '2', comment: '' },
        { id: '10', comment: 'merge1-insert' },
        { id: '12', comment: 'merge2-insert' },
      ],
    },
    note:
      'MANIFEST §12 lists (2, null); the source it cites (KR-read) prints Arrow tables, where null and the empty string look alike. ' +
      'The data file holds the empty string, and KR-cdf lists the same row\'s comment as "". The test asserts "".',
  },
  'table-with-columnmapping-mode-name': {
    section: 13,
    columns: CM_COLUMNS,
    versions: [0],
    counts: { 0: 6 },
    rows: { 0: [...range(0, 4).map(cmRow), Object.fromEntries(CM_COLUMNS.map((c) => [c, null]))] },
  },
  table_with_column_mapping: {
    section: 14,
    columns: ['Company Very Short', 'Super Name'],
    versions: [0],
    counts: { 0: 5 },
    rows: {
      0: [
        { 'Company Very Short': 'BME', 'Super Name': 'Timothy Lamb' },
        { 'Company Very Short': 'BMS', 'Super Name': 'Anthony Johnson' },
        { 'Company Very Short': 'BMS', 'Super Name': 'Mr. Daniel Ferguson MD' },
        { 'Company Very Short': 'BMS', 'Super Name': 'Nathan Bennett' },
        { 'Company Very Short': 'BMS', 'Super Name': 'Stephanie Mcgrath' },
      ],
    },
  },
  'table-with-dv-small': { section: 15, columns: ['value'], versions: versions(0, 1), counts: { 0: 10, 1: 8 }, rows: { 0: ids(range(0, 9), 'value'), 1: ids(range(1, 8), 'value') } },
  'with-short-dv': {
    section: 16,
    columns: ['id', 'value', 'timestamp', 'rand'],
    versions: [0],
    counts: { 0: 7 },
    rows: {
      0: ['0.7918174793484931', '0.9281049271981882', '0.27796520310701633', '0.15263801464228832', '0.1981143710215575', '0.3069439236599195', '0.5175919190815845'].map((rand, i) => ({
        id: String(i + 3),
        value: String(i + 3),
        timestamp: '2023-05-31 18:58:33.633+00',
        rand,
      })),
    },
  },
  'cdf-table-with-dv': { section: 17, columns: ['value'], versions: versions(0, 6), counts: countsOf(cdfRows), rows: cdfRows },
  'dv-partitioned-with-checkpoint': {
    section: 18,
    columns: ['part', 'col1', 'col2'],
    versions: versions(0, 15),
    counts: Object.fromEntries(versions(0, 15).map((v) => [v, 50 - v])),
    rows: Object.fromEntries(versions(0, 15).map((v) => [v, dvPartitioned(v)])),
  },
  'data-reader-primitives': {
    section: 19,
    columns: ['as_int', 'as_long', 'as_byte', 'as_short', 'as_boolean', 'as_float', 'as_double', 'as_string', 'as_binary', 'as_big_decimal'],
    versions: [0],
    counts: { 0: 11 },
    rows: {
      0: [
        { as_int: null, as_long: null, as_byte: null, as_short: null, as_boolean: null, as_float: null, as_double: null, as_string: null, as_binary: null, as_big_decimal: null },
        ...range(0, 9).map((i) => ({
          as_int: String(i), as_long: String(i), as_byte: String(i), as_short: String(i), as_boolean: String(i % 2 === 0),
          as_float: `${i}.0`, as_double: `${i}.0`, as_string: String(i), as_binary: `\\x0${i}\\x0${i}`, as_big_decimal: String(i),
        })),
      ],
    },
  },
  'basic-decimal-table': {
    section: 20,
    columns: ['part', 'col1', 'col2', 'col3'],
    versions: [0],
    counts: { 0: 4 },
    rows: {
      0: [
        { part: '234.00000', col1: '1.00', col2: '2.00000', col3: '3.0000000000' },
        { part: '2342222.23454', col1: '111.11', col2: '22222.22222', col3: '3333333333.3333333333' },
        { part: '0.00004', col1: '0.00', col2: '0.00000', col3: '0.0000000000' }, // MANIFEST writes 0E-10 (Java BigDecimal)
        { part: '-2342342.23423', col1: '-999.99', col2: '-99999.99999', col3: '-9999999999.9999999999' },
      ],
    },
  },
  'kernel-timestamp-INT96': {
    section: 21,
    columns: ['id', 'part', 'time'],
    versions: [0],
    counts: { 0: 5 },
    rows: {
      0: [
        { id: '0', part: tsUtc(1577866150001000), time: tsUtc(1580544550000000) },
        { id: '1', part: tsUtc(1633075760000000), time: tsUtc(915181200000000) },
        { id: '2', part: tsUtc(1633075760000000), time: tsUtc(946717200000000) },
        { id: '3', part: tsUtc(-31536000000000), time: tsUtc(-31536000000000) },
        { id: '4', part: null, time: null },
      ],
    },
  },
  'data-reader-timestamp_ntz': {
    section: 22,
    columns: ['id', 'tsNtz', 'tsNtzPartition'],
    versions: versions(0, 1),
    counts: { 0: 0, 1: 9 },
    rows: { 0: [], 1: [ntz(0, A, A), ntz(1, B, A), ntz(2, null, A), ntz(3, A, B), ntz(4, B, B), ntz(5, null, B), ntz(6, A, null), ntz(7, B, null), ntz(8, null, null)] },
  },
  'time-travel-schema-changes-b': {
    section: 23,
    columns: { 0: ['id'], 1: ['id', 'part'] },
    versions: versions(0, 1),
    counts: { 0: 10, 1: 20 },
    rows: { 0: ids(range(0, 9)), 1: range(0, 19).map((i) => ({ id: String(i), part: i < 10 ? null : String(i) })) },
  },
  'v2-checkpoint-parquet': { section: 24, columns: ['id'], versions: versions(0, 2), counts: { 0: 0, 1: 0, 2: 10 }, rows: { 0: [], 1: [], 2: ids(range(0, 9)) } },
  'v1-single-part-struct-stats-only': {
    section: 25,
    columns: ['id', 'value'],
    versions: versions(0, 5),
    counts: Object.fromEntries(versions(0, 5).map((v) => [v, v])),
    rows: Object.fromEntries(versions(0, 5).map((v) => [v, range(1, v).map((i) => ({ id: String(i), value: `value_${i}` }))])),
  },
};

export function columnsAt(facts: TableFacts, version: number): string[] {
  return Array.isArray(facts.columns) ? facts.columns : (facts.columns[version] ?? []);
}
