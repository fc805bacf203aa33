/**
 * Data skipping: drop the files whose per-file statistics (PROTOCOL.md "Per-file Statistics":
 * `numRecords`, `minValues`, `maxValues`, `nullCount`) prove that no row can satisfy the query's
 * WHERE conjuncts. Each conjunct is rewritten into a "may match" predicate over one row of stats
 * per file, and DuckDB evaluates it (the same way partition pruning evaluates partition values).
 *
 * Soundness rules (a file is kept whenever we are not sure):
 * - a missing stat, a stat that does not parse as the column's type, or a predicate we do not
 *   understand keeps the file (every atomic test is `coalesce(…, true)`);
 * - string stats are compared byte-wise, as DuckDB compares VARCHAR; a stat holding a character
 *   at or above U+E000 is ignored (UTF-16 and UTF-8 orders disagree there); a max of 32 or more
 *   characters may be truncated (delta-rs and Spark cut string stats to 32) and is ignored; a min
 *   is a prefix at worst, which is still a lower bound;
 * - float/double max is ignored (NaN sorts above every number in DuckDB, and writers leave NaN
 *   out of min/max), a NaN min is ignored;
 * - timestamp stats have millisecond precision (truncated by some writers): widened by 1 ms;
 * - `nullCount == numRecords` means no row can match a comparison; `nullCount == 0` no IS NULL;
 * - with deletion vectors stats describe the physical file (wider bounds, more rows): still sound;
 * - with column mapping, stats are keyed by the physical column name.
 * Comparisons are only rewritten when the constant's type is of the column's family (numbers,
 * dates/timestamps, strings) or is a bare string literal (cast to the column's type, as DuckDB
 * does): then min/max bound the values in the type DuckDB compares them in.
 */
import { columnMappingMode, commitStats, fileKey, isArray, isMap, isStruct, logicalPartitionValues, parseDecimal, physicalName, type AddAction, type DataType, type Snapshot, type StructField } from '../delta/index.js';
import { checkpointStatsSql, ident, literal, partitionExprSql, sqlType, VARCHAR, type Engine } from '../engine/index.js';
import { isNode, serializeSql, unqualify, walk, type Node } from './pruning.js';

/** Characters a string max may have before it could be a truncated one (delta-rs, Spark). */
export const STRING_STAT_PREFIX = 32;

type Family = 'number' | 'temporal' | 'string';

/** The comparable family of a Delta type, or undefined when its stats are never used. */
function familyOf(type: DataType): Family | undefined {
  if (typeof type !== 'string') return undefined;
  switch (type) {
    case 'byte':
    case 'short':
    case 'integer':
    case 'long':
    case 'float':
    case 'double':
      return 'number';
    case 'date':
    case 'timestamp':
    case 'timestamp_ntz':
      return 'temporal';
    case 'string':
      return 'string';
    default:
      return parseDecimal(type) ? 'number' : undefined;
  }
}

/** Whether a DuckDB type name (from `typeof`) belongs to `family`. */
function typeInFamily(typeName: string, family: Family): boolean {
  const t = typeName.toUpperCase();
  if (family === 'string') return t === 'VARCHAR';
  if (family === 'temporal') return t === 'DATE' || t.startsWith('TIMESTAMP');
  return /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\))$/.test(t);
}

interface ColumnStats {
  field: StructField;
  family: Family;
  index: number;
}

const COMPARISONS: Record<string, string> = {
  COMPARE_EQUAL: '=',
  COMPARE_NOTEQUAL: '<>',
  COMPARE_LESSTHAN: '<',
  COMPARE_LESSTHANOREQUALTO: '<=',
  COMPARE_GREATERTHAN: '>',
  COMPARE_GREATERTHANOREQUALTO: '>=',
};
const FLIPPED: Record<string, string> = { '=': '=', '<>': '<>', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** Marks fragment k in predicate text as `<PLACEHOLDER>k<PLACEHOLDER>`; SQL text never holds it. */
const PLACEHOLDER = '\u0000';

const SEPARATOR = '\u0001';
const NULL_MARK = '\u0002';

/** More IN-list items than this are tested as one range (least … greatest) instead of one by one. */
const IN_ITEMS = 64;

/** The fragments (constants and partition-only subtrees) a translation refers to, rendered later by DuckDB. */
interface Fragment {
  node: Node;
  /** For constants: the family the constant must belong to (checked with `typeof`), and whether it is a bare string literal. */
  family?: Family;
  stringLiteral?: boolean;
  column?: ColumnStats;
}

class Translator {
  readonly fragments: Fragment[] = [];
  readonly used = new Map<string, ColumnStats>();
  readonly partitionsUsed = new Set<string>();

  constructor(
    private readonly columns: ReadonlyMap<string, StructField>,
    private readonly partitions: ReadonlySet<string>,
  ) {}

  private columnOf(node: unknown): string | undefined {
    if (!isNode(node) || node['class'] !== 'COLUMN_REF') return undefined;
    const parts = node['column_names'] as string[];
    return parts[parts.length - 1]!.toLowerCase();
  }

  /** Lower-case names of the columns a subtree references. */
  private refs(node: Node): Set<string> {
    const names = new Set<string>();
    walk(node, (n) => {
      const c = this.columnOf(n);
      if (c !== undefined) names.add(c);
    });
    return names;
  }

  private fragment(fragment: Fragment): string {
    this.fragments.push(fragment);
    return `${PLACEHOLDER}${this.fragments.length - 1}${PLACEHOLDER}`;
  }

  /** A data column whose stats can be used, registered for the stats table. */
  private statsColumn(node: unknown): ColumnStats | undefined {
    const name = this.columnOf(node);
    if (name === undefined || this.partitions.has(name)) return undefined;
    const field = this.columns.get(name);
    const family = field ? familyOf(field.type) : undefined;
    if (!field || !family) return undefined;
    let entry = this.used.get(name);
    if (!entry) {
      entry = { field, family, index: this.used.size };
      this.used.set(name, entry);
    }
    return entry;
  }

  private constant(node: unknown, column: ColumnStats): string | undefined {
    if (!isNode(node) || this.refs(node).size > 0) return undefined;
    const value = node['value'];
    const stringLiteral = node['class'] === 'CONSTANT' && isNode(value) && isNode(value['type']) && value['type']['id'] === 'VARCHAR' && value['is_null'] === false;
    return this.fragment({ node, family: column.family, stringLiteral, column });
  }

  private compare(column: ColumnStats, op: string, constant: string): string {
    const i = column.index;
    const [min, max, allNull] = [`__min_${i}`, `__max_${i}`, `__allnull_${i}`];
    const test = (sql: string): string => `coalesce(${sql}, true)`;
    switch (op) {
      case '=':
        return `(NOT ${allNull} AND ${test(`${min} <= ${constant}`)} AND ${test(`${max} >= ${constant}`)})`;
      case '<>':
        return `(NOT ${allNull} AND ${test(`NOT (${min} = ${constant} AND ${max} = ${constant})`)})`;
      case '<':
      case '<=':
        return `(NOT ${allNull} AND ${test(`${min} ${op} ${constant}`)})`;
      default:
        return `(NOT ${allNull} AND ${test(`${max} ${op} ${constant}`)})`;
    }
  }

  /** Whether a conjunct names partition columns only (it is then exact on the partition values). */
  onPartitions(node: Node): boolean {
    const refs = this.refs(node);
    return refs.size > 0 && [...refs].every((r) => this.partitions.has(r));
  }

  /** The "may match" predicate of a conjunct, or undefined when it cannot be used. */
  translate(node: Node): string | undefined {
    if (this.onPartitions(node)) {
      const refs = this.refs(node);
      for (const r of refs) this.partitionsUsed.add(r);
      return this.fragment({ node: unqualify(structuredClone(node)) });
    }
    const type = String(node['type']);
    if (type === 'CONJUNCTION_AND' || type === 'CONJUNCTION_OR') {
      const parts = (node['children'] as Node[]).map((c) => this.translate(c));
      if (type === 'CONJUNCTION_OR') return parts.every((p) => p !== undefined) ? `(${parts.join(' OR ')})` : undefined;
      const usable = parts.filter((p) => p !== undefined);
      return usable.length > 0 ? `(${usable.join(' AND ')})` : undefined;
    }
    if (node['class'] === 'COMPARISON' && COMPARISONS[type]) {
      const op = COMPARISONS[type]!;
      const leftColumn = this.statsColumn(node['left']);
      const column = leftColumn ?? this.statsColumn(node['right']);
      if (!column) return undefined;
      const constant = this.constant(leftColumn ? node['right'] : node['left'], column);
      return constant === undefined ? undefined : this.compare(column, leftColumn ? op : FLIPPED[op]!, constant);
    }
    if (type === 'COMPARE_BETWEEN') {
      const column = this.statsColumn(node['input']);
      if (!column) return undefined;
      const lower = this.constant(node['lower'], column);
      const upper = this.constant(node['upper'], column);
      if (lower === undefined || upper === undefined) return undefined;
      return `(${this.compare(column, '>=', lower)} AND ${this.compare(column, '<=', upper)})`;
    }
    if (type === 'COMPARE_IN') {
      const [input, ...items] = node['children'] as Node[];
      const column = this.statsColumn(input);
      if (!column || items.length === 0) return undefined;
      const constants = items.map((item) => this.constant(item, column));
      if (constants.some((c) => c === undefined)) return undefined;
      if (constants.length <= IN_ITEMS) return `(${constants.map((c) => this.compare(column, '=', c!)).join(' OR ')})`;
      return `(${this.compare(column, '>=', `least(${constants.join(', ')})`)} AND ${this.compare(column, '<=', `greatest(${constants.join(', ')})`)})`;
    }
    if (type === 'OPERATOR_IS_NULL' || type === 'OPERATOR_IS_NOT_NULL') {
      const column = this.statsColumn((node['children'] as Node[])[0]);
      if (!column) return undefined;
      return type === 'OPERATOR_IS_NULL' ? `__hasnull_${column.index}` : `(NOT __allnull_${column.index})`;
    }
    return undefined;
  }
}

/** JSON path of one column's entry in a stats object (`$.minValues."name"`); undefined when the name cannot be quoted. */
function statPath(section: string, key: string): string | undefined {
  return /["\\]/.test(key) ? undefined : `$.${section}."${key}"`;
}

/** SQL of one column's min or max stat from its raw JSON text `raw`, typed, or NULL where it cannot be trusted (see the module comment). */
function boundSql(raw: string, type: DataType, bound: 'min' | 'max'): string {
  const typed = `TRY_CAST(${raw} AS ${sqlType(type)})`;
  switch (familyOf(type)) {
    case 'string': {
      const exact = `NOT regexp_matches(${raw}, '[\\x{E000}-\\x{10FFFF}]')${bound === 'max' ? ` AND length(${raw}) < ${STRING_STAT_PREFIX}` : ''}`;
      return `CASE WHEN ${exact} THEN ${raw} END`;
    }
    case 'temporal':
      if (type === 'date') return typed;
      return `(${typed} ${bound === 'min' ? '-' : '+'} INTERVAL 1 MILLISECOND)`;
    default:
      if (type === 'float' || type === 'double') return bound === 'max' ? `CAST(NULL AS ${sqlType(type)})` : `CASE WHEN NOT isnan(${typed}) THEN ${typed} END`;
      return typed;
  }
}

/** Plain constants we write as SQL ourselves (no round trip): strings, and integers a JS number holds exactly. */
function directSql(node: Node): { sql: string; type: string } | undefined {
  const value = node['value'];
  if (node['class'] !== 'CONSTANT' || !isNode(value) || value['is_null'] !== false || !isNode(value['type'])) return undefined;
  const type = String(value['type']['id']);
  if (type === 'VARCHAR' && typeof value['value'] === 'string') return { sql: literal(value['value']), type };
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT)$/.test(type) && Number.isSafeInteger(value['value'])) return { sql: String(value['value']), type };
  return undefined;
}

const templates = new WeakMap<Engine, Promise<{ statements: { node: Node }[] } | undefined>>();

/**
 * The SQL text of every fragment (DuckDB's own deparser for anything but plain constants), with
 * each constant checked against its column's family (`typeof`); undefined when a constant does
 * not fit, or DuckDB cannot render or type one.
 */
async function renderFragments(engine: Engine, fragments: readonly Fragment[]): Promise<string[] | undefined> {
  const texts: (string | undefined)[] = fragments.map((f) => directSql(f.node)?.sql);
  const types: (string | undefined)[] = fragments.map((f) => directSql(f.node)?.type);
  const pending = fragments.map((f, i) => ({ f, i })).filter(({ i }) => texts[i] === undefined);
  if (pending.length > 0) {
    let template = templates.get(engine);
    if (!template) templates.set(engine, (template = serializeSql(engine, 'SELECT 1') as Promise<{ statements: { node: Node }[] } | undefined>));
    const shape = await template;
    if (!shape) return undefined;
    const renders = pending.map(({ f }) => {
      const statement = structuredClone(shape);
      statement.statements[0]!.node['select_list'] = [{ ...f.node, alias: '' }];
      return `json_deserialize_sql(${literal(JSON.stringify(statement))})`;
    });
    const rendered = await engine.rows<Record<string, string>>(`SELECT ${renders.map((r, k) => `${r} AS f${k}`).join(', ')}`).catch(() => undefined);
    if (!rendered?.[0]) return undefined;
    pending.forEach(({ i }, k) => (texts[i] = rendered[0]![`f${k}`]!.replace(/^SELECT /, '')));
    const untyped = pending.filter(({ f }) => f.family !== undefined);
    if (untyped.length > 0) {
      const typed = await engine.rows<Record<string, string>>(`SELECT ${untyped.map(({ i }, k) => `typeof(${texts[i]}) AS t${k}`).join(', ')}`).catch(() => undefined);
      if (!typed?.[0]) return undefined;
      untyped.forEach(({ i }, k) => (types[i] = typed[0]![`t${k}`]));
    }
  }
  for (const [i, f] of fragments.entries()) {
    if (f.family === undefined) continue;
    if (f.stringLiteral && f.family !== 'string') texts[i] = `CAST(${texts[i]} AS ${sqlType(f.column!.field.type)})`;
    else if (!typeInFamily(types[i]!, f.family)) return undefined;
  }
  return texts as string[];
}

export interface SkipResult {
  files: AddAction[];
  /** Files dropped by their stats. */
  skipped: number;
}

/**
 * The files of `snapshot` that may hold rows satisfying `conjuncts` (OR over references, AND
 * within one), judged by their stats. Conjuncts on partition columns are evaluated exactly on the
 * partition values, so mixed predicates (`season = 2023 OR week = 1`) work too. Anything that
 * cannot be judged keeps every file.
 */
export async function skipFiles(engine: Engine, snapshot: Snapshot, conjuncts: Node[][], options: { partitionsApplied?: boolean } = {}): Promise<SkipResult> {
  const all = { files: snapshot.files, skipped: 0 };
  if (snapshot.files.length === 0) return all;
  const columns = new Map(snapshot.schema.fields.map((f) => [f.name.toLowerCase(), f]));
  const partitions = new Set(snapshot.partitionColumns.map((c) => c.toLowerCase()));
  const translator = new Translator(columns, partitions);
  // With one reference, its partition-only conjuncts were applied exactly by partition pruning.
  if (options.partitionsApplied && conjuncts.length === 1) conjuncts = [conjuncts[0]!.filter((c) => !translator.onPartitions(c))];
  const branches = conjuncts.map((list) => translator.translate({ class: 'CONJUNCTION', type: 'CONJUNCTION_AND', children: list }));
  if (branches.some((b) => b === undefined) || translator.used.size === 0) return all;
  const predicate = branches.length === 1 ? branches[0]! : `(${branches.join(' OR ')})`;

  const texts = await renderFragments(engine, translator.fragments);
  if (!texts) return all;
  const where = predicate.replace(new RegExp(`${PLACEHOLDER}(\\d+)${PLACEHOLDER}`, 'g'), (_m, k: string) => `(${texts[Number(k)]})`);

  // One stats row per file: partition values from the log, stats JSON from the log or the checkpoint.
  const mode = columnMappingMode(snapshot.metadata.configuration);
  const partitionFields = snapshot.partitionColumns.map((c) => snapshot.schema.fields.find((f) => f.name === c)!).filter((f) => partitions.has(f.name.toLowerCase()) && translator.partitionsUsed.has(f.name.toLowerCase()));
  // Level 1 parses each file's stats once (one list of JSON paths); level 2 types the values and
  // derives the flags. Unparsable stats count as missing (`try`).
  const paths = ['$.numRecords'];
  const statsColumns: string[] = [];
  for (const { field, index } of translator.used.values()) {
    const key = physicalName(field, mode);
    const [minPath, maxPath, nullPath] = [statPath('minValues', key), statPath('maxValues', key), statPath('nullCount', key)];
    if (!minPath || !maxPath || !nullPath || isStruct(field.type) || isArray(field.type) || isMap(field.type)) return all;
    const at = paths.push(minPath, maxPath, nullPath) - 2;
    const nulls = `TRY_CAST(__v[${at + 2}] AS BIGINT)`;
    statsColumns.push(
      `${boundSql(`__v[${at}]`, field.type, 'min')} AS __min_${index}`,
      `${boundSql(`__v[${at + 1}]`, field.type, 'max')} AS __max_${index}`,
      `coalesce(${nulls} >= TRY_CAST(__v[1] AS BIGINT), false) AS __allnull_${index}`,
      `coalesce(${nulls} > 0, true) AS __hasnull_${index}`,
    );
  }
  // The per-file values travel as parameters, one string per column joined by U+0001 (never in a
  // path, a JSON text or a partition value; if one holds it, nothing is skipped), U+0002 for NULL:
  // a query, so concurrent queries on the connection are unaffected, and cheap to split.
  // Stats a read left out of the JSON commits (SnapshotOptions.stats) are read back here, only when a query needs them.
  const fromCommits = snapshot.statsCommits ? await commitStats(snapshot) : undefined;
  const perFile = [
    snapshot.files.map((f) => (typeof f.stats === 'string' ? f.stats : (fromCommits?.get(fileKey(f)) ?? NULL_MARK))),
    snapshot.files.map((f) => f.path),
    ...partitionFields.map((field) => snapshot.files.map((f) => logicalPartitionValues([field], mode, f.partitionValues)[field.name] ?? NULL_MARK)),
  ];
  if (perFile.some((list) => list.some((v) => v.includes(SEPARATOR) || (v !== NULL_MARK && v.includes(NULL_MARK))))) return all;
  const names = ['__raw', '__path', ...partitionFields.map((_f, i) => `__p${i}`)];
  const lists = names.map((_n, i) => `string_split($${i + 1}, chr(1)) AS __l${i}`).join(', ');
  const unnested = `SELECT generate_subscripts(__l0, 1) - 1 AS __gid, ${names.map((n, i) => `unnest(__l${i}) AS ${n}`).join(', ')} FROM (SELECT ${lists})`;
  const table = `(SELECT __gid, ${names.map((n) => `nullif(${n}, chr(2)) AS ${n}`).join(', ')} FROM (${unnested}))`;
  const needCheckpoint = !snapshot.statsLoaded && snapshot.checkpointFiles !== undefined;
  const fromCheckpoint = needCheckpoint ? await checkpointStatsSql(engine, snapshot.checkpointFiles!).catch(() => undefined) : undefined;
  const source = fromCheckpoint ? `${table} t LEFT JOIN ${fromCheckpoint} c ON t.__raw IS NULL AND c.path = t.__path` : `${table} t`;
  const text = fromCheckpoint ? 'coalesce(t.__raw, c.stats)' : 't.__raw';
  const level1 = `SELECT t.*, try(json_extract_string(${text}, [${paths.map(literal).join(', ')}])) AS __v FROM ${source}`;
  const level2 = `SELECT __gid, ${[...partitionFields.map((f, i) => `${partitionExprSql(`__p${i}`, f.type)} AS ${ident(f.name)}`), ...statsColumns].join(', ')} FROM (${level1})`;
  const params = perFile.map((list) => list.join(SEPARATOR));
  const reader = await engine.connection.runAndReadAll(`SELECT DISTINCT __gid FROM (${level2}) WHERE ${where}`, params, params.map(() => VARCHAR)).catch(() => undefined);
  if (!reader) return all;
  const kept = (reader.getColumnsJS()[0] ?? []) as number[];
  const files = kept.map(Number).sort((a, b) => a - b).map((gid) => snapshot.files[gid]!);
  return { files, skipped: snapshot.files.length - files.length };
}
