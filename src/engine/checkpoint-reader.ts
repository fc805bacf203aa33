import { LakeError } from '../core/index.js';
import { AddColumnsBuilder, addAt, parseAction, parseCommitText, toColumnarCheckpoint, type Action, type AddColumns, type CheckpointReader, type ColumnarCheckpoint, type RemoveAction } from '../delta/index.js';
import { readTextIfExists } from '../storage/index.js';
import type { DuckDBListVector, DuckDBMaterializedResult, DuckDBVarCharVector, DuckDBVector } from '@duckdb/node-api';
import { checkpointCacheFile, readCachedCheckpoint, writeCachedCheckpoint } from './checkpoint-cache.js';
import { ident, literal, traceSql, type Engine } from './session.js';

const ACTION_COLUMNS = ['protocol', 'metaData', 'add', 'remove', 'txn', 'checkpointMetadata', 'sidecar', 'domainMetadata'] as const;

type FieldKind = 'string' | 'number' | 'boolean' | 'json';

/**
 * File actions are most of a checkpoint and are read column-wise: every row becomes fields joined
 * by U+0001 and many rows become one string, so a 100,000-file checkpoint crosses from DuckDB into
 * JS as a few dozen strings instead of hundreds of thousands of values. The rarely set fields
 * travel together as one JSON object (`extra`). `stats` falls back to `stats_parsed`.
 */
const FILE_FIELDS: Record<'add' | 'remove', { fields: [string, FieldKind][]; extra: string[] }> = {
  add: {
    fields: [
      ['path', 'string'],
      ['partitionValues', 'json'],
      ['size', 'number'],
      ['modificationTime', 'number'],
      ['dataChange', 'boolean'],
      ['tags', 'json'],
      ['stats', 'string'],
    ],
    extra: ['deletionVector', 'baseRowId', 'defaultRowCommitVersion', 'clusteringProvider'],
  },
  remove: {
    fields: [
      ['path', 'string'],
      ['deletionTimestamp', 'number'],
      ['dataChange', 'boolean'],
      ['extendedFileMetadata', 'boolean'],
      ['partitionValues', 'json'],
      ['size', 'number'],
      ['stats', 'string'],
    ],
    extra: ['tags', 'deletionVector', 'baseRowId', 'defaultRowCommitVersion'],
  },
};

/** Rows per joined string: bounds the length of one JS string (V8 caps strings near 2^29 chars). */
const ROWS_PER_CHUNK = 2048;
const FIELD_SEPARATOR = '\u0001';

/**
 * Reads checkpoint files (classic, multi-part, V2 Parquet or JSON, and sidecars) through DuckDB.
 * Each Parquet row holds one non-null action column. Adds and removes take the fast path above;
 * the few other actions go through DuckDB's `to_json`, which turns maps into objects: the JSON
 * commit shape. Any row the fast path cannot represent sends its column down the `to_json` path.
 */
export function duckdbCheckpointReader(engine: Engine, options: { cacheDir?: string } = {}): CheckpointReader {
  /** Parquet checkpoint files, column-wise: from the cache when it has them, else read by DuckDB (and cached). */
  const readParquet = async (files: string[], withStats: boolean): Promise<ColumnarCheckpoint> => {
    const cacheFile = options.cacheDir ? await checkpointCacheFile(options.cacheDir, files, withStats) : undefined;
    const cached = cacheFile ? await readCachedCheckpoint(cacheFile) : undefined;
    if (cached) return cached;
    const columnar = await readParquetColumnar(engine, files, withStats);
    if (cacheFile) await writeCachedCheckpoint(cacheFile, columnar);
    return columnar;
  };
  const readJson = async (files: string[]): Promise<Action[]> => {
    const actions: Action[] = [];
    for (const file of files) actions.push(...parseCommitText((await readTextIfExists(file)) ?? missing(file), file));
    return actions;
  };
  return {
    async readCheckpoint(files: string[], options: { stats?: boolean } = {}): Promise<Action[]> {
      const actions = await readJson(files.filter((f) => f.endsWith('.json')));
      const parquet = files.filter((f) => !f.endsWith('.json'));
      if (parquet.length > 0) {
        const { adds, other } = await readParquet(parquet, options.stats ?? true);
        for (const action of other) actions.push(action);
        for (let i = 0; i < adds.length; i++) actions.push({ kind: 'add', add: addAt(adds, i) });
      }
      return actions;
    },
    async readCheckpointColumns(files: string[], options: { stats?: boolean } = {}): Promise<ColumnarCheckpoint> {
      const json = files.filter((f) => f.endsWith('.json'));
      if (json.length > 0) return toColumnarCheckpoint(await this.readCheckpoint(files, options));
      return readParquet(files, options.stats ?? true);
    },
  };
}

function missing(file: string): never {
  throw new LakeError('DELTA_LOG_CORRUPT', `checkpoint file ${file} is missing`, { hint: 'The log was cleaned up while being read; retry.' });
}

/** Adds column-wise straight from DuckDB's text (no object per file); every other action as objects. */
async function readParquetColumnar(engine: Engine, files: string[], withStats: boolean): Promise<ColumnarCheckpoint> {
  const source = `read_parquet([${files.map(literal).join(', ')}], union_by_name = true, filename = true, file_row_number = true)`;
  const columns = await describe(engine, `SELECT * FROM ${source}`);
  const where = files[0] ?? 'checkpoint';
  const pendingAdds = columns.has('add') ? await queryAdds(engine, source, withStats) : undefined;
  // DuckDB reads the removes and the few other actions (protocol, metaData, txns, …, in one pass)
  // while JS builds the adds it has read: a statement leaves the main thread idle.
  const rest = (async () => {
    const removes = columns.has('remove') ? await fileActionTexts(engine, source, 'remove', withStats) : undefined;
    const others = await readAsJson(engine, source, ACTION_COLUMNS.filter((c) => c !== 'add' && c !== 'remove' && columns.has(c)), where);
    return { removes, others };
  })();
  rest.catch(() => undefined);
  let adds: AddColumns | undefined;
  try {
    adds = pendingAdds?.build();
  } finally {
    await rest.catch(() => undefined);
  }
  const { removes, others } = await rest;
  const actions: Action[] = [];
  for (const column of ACTION_COLUMNS) {
    if (!columns.has(column) || (column === 'add' && adds)) continue;
    const fast = column === 'remove' && removes ? removeActions(removes) : undefined;
    const read = column === 'add' || (column === 'remove' && !fast) ? (await readAsJson(engine, source, [column], where)).get(column) : (fast ?? others.get(column));
    for (const action of read ?? []) actions.push(action);
  }
  const columnar = toColumnarCheckpoint(actions);
  return adds ? { adds, other: columnar.other } : columnar;
}

async function describe(engine: Engine, sql: string): Promise<Set<string>> {
  const rows = await engine.rows<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE ${sql})`);
  return new Set(rows.map((r) => r.column_name));
}

/** The actions of `columns` through DuckDB's `to_json`, by column, read in one pass. */
async function readAsJson(engine: Engine, source: string, columns: readonly string[], where: string): Promise<Map<string, Action[]>> {
  const out = new Map<string, Action[]>(columns.map((c) => [c, []]));
  if (columns.length === 0) return out;
  const reader = await engine.connection.runAndReadAll(
    `SELECT ${columns.map((c, k) => `to_json(${ident(c)}) AS j${k}`).join(', ')} FROM ${source} WHERE ${columns.map((c) => `${ident(c)} IS NOT NULL`).join(' OR ')}`,
  );
  if (reader.currentRowCount === 0) return out;
  const texts = reader.getColumnsJS() as (string | null)[][];
  columns.forEach((column, k) => {
    const actions = out.get(column)!;
    for (const text of texts[k]!) {
      if (text === null) continue;
      const value = JSON.parse(text) as Record<string, unknown>;
      if ((column === 'add' || column === 'remove') && value['stats'] == null && value['stats_parsed'] != null) {
        value['stats'] = JSON.stringify(value['stats_parsed']);
      }
      const action = parseAction({ [column]: stripNulls(value) }, where);
      if (action) actions.push(action);
    }
  });
  return out;
}

/** The fields of each add/remove row as text, in the order of FILE_FIELDS then `extra` (`width` per row). */
interface FileActionTexts {
  width: number;
  /** Rows per chunk. */
  counts: number[];
  texts: string[];
}

/**
 * The SQL of each field of FILE_FIELDS[column], then of the `extra` fields as one JSON object, for
 * the rows of `f(name)` (a field of the action struct); 'NULL' where the checkpoint lacks it.
 */
function fieldSql(present: ReadonlySet<string>, column: 'add' | 'remove', withStats: boolean, f: (name: string) => string): string[] {
  const spec = FILE_FIELDS[column];
  const rendered = spec.fields.map(([name, kind]) => {
    if (name === 'stats') {
      if (!withStats) return 'NULL';
      const parts = [present.has('stats') ? f('stats') : '', present.has('stats_parsed') ? `to_json(${f('stats_parsed')})` : ''].filter((p) => p !== '');
      return parts.length === 0 ? 'NULL' : `coalesce(${parts.join(', ')})`;
    }
    if (!present.has(name)) return 'NULL';
    if (kind === 'json') return `to_json(${f(name)})`;
    if (kind === 'boolean') return `${f(name)}::INTEGER`;
    return f(name);
  });
  const extra = spec.extra.filter((name) => present.has(name));
  rendered.push(
    extra.length === 0
      ? 'NULL'
      : `CASE WHEN ${extra.map((n) => `${f(n)} IS NULL`).join(' AND ')} THEN NULL ELSE to_json(struct_pack(${extra.map((n) => `${ident(n)} := ${f(n)}`).join(', ')})) END`,
  );
  return rendered;
}

/** The fast path for `remove`: the rows as joined text; `undefined` when the rows do not fit it. */
async function fileActionTexts(engine: Engine, source: string, column: 'add' | 'remove', withStats: boolean): Promise<FileActionTexts | undefined> {
  const present = await describe(engine, `SELECT ${ident(column)}.* FROM ${source}`);
  if (!present.has('path')) return undefined;
  const rendered = fieldSql(present, column, withStats, (name) => `a.${ident(name)}`);
  const width = rendered.length;
  const row = `concat(${rendered.join(', chr(1), ')})`;
  const sql =
    `SELECT count(*)::INTEGER AS n, string_agg(${row}, chr(1)) AS s ` +
    `FROM (SELECT ${ident(column)} AS a, filename, file_row_number FROM ${source} WHERE ${ident(column)}.path IS NOT NULL) ` +
    `GROUP BY filename, file_row_number // ${ROWS_PER_CHUNK}`;
  const reader = await engine.connection.runAndReadAll(sql);
  if (reader.currentRowCount === 0) return { width, counts: [], texts: [] };
  const [counts, texts] = reader.getColumnsJS() as [number[], string[]];
  return { width, counts, texts };
}

/** Each chunk's fields; `undefined` when a separator inside a value (never in valid paths or JSON) shows up as a wrong count. */
function* chunks({ width, counts, texts }: FileActionTexts): Generator<string[] | undefined> {
  for (let g = 0; g < texts.length; g++) {
    const values = texts[g]!.split(FIELD_SEPARATOR);
    yield values.length === counts[g]! * width ? values : undefined;
  }
}

function removeActions(texts: FileActionTexts): Action[] | undefined {
  const shared = new Map<string, Record<string, unknown>>();
  const actions: Action[] = [];
  for (const values of chunks(texts)) {
    if (!values) return undefined;
    for (let i = 0; i < values.length; i += texts.width) actions.push(buildRemove(values, i, shared));
  }
  return actions;
}

const NO_TEXT: readonly string[] = [];
const ONLY_SEPARATORS = new RegExp(`^${FIELD_SEPARATOR}*$`);

/**
 * Text of row group `g` of a joined-text column, split (`NO_TEXT` when every value is empty, as
 * tags, stats and the rare fields often are); `undefined` when a value held the separator (a
 * wrong count).
 */
function splitAt(vector: DuckDBVector, g: number, count: number): readonly string[] | undefined {
  const text = (vector as DuckDBVarCharVector).getItem(g) ?? '';
  if (text.length === count - 1 && ONLY_SEPARATORS.test(text)) return NO_TEXT;
  const values = text.split(FIELD_SEPARATOR);
  return values.length === count ? values : undefined;
}

/** Numbers of row group `g` of a `list(… ::DOUBLE)` column, as the vector's own Float64Array. */
function numbersAt(vector: DuckDBVector, g: number): ArrayLike<number> {
  return ((vector as DuckDBListVector).getItemVector(g) as unknown as { items: Float64Array }).items;
}

/** Below this many rows per group on average (and above MANY_GROUPS groups), adds are read with their partition values per row instead. */
const ROWS_PER_GROUP = 8;
const MANY_GROUPS = 1024;

/**
 * The fast path for `add`: the adds as columns, no object per file. Rows are grouped by their
 * partition values and tags (a group's text crosses from DuckDB once), and by runs of
 * ROWS_PER_CHUNK rows; within a group, text fields cross as one joined string each, numbers as
 * lists whose vectors JS reads as Float64Arrays (formatting and parsing 100,000 sizes and times as
 * text cost more than the rest). A group's aggregates see its rows in the same order (DuckDB
 * updates and combines a group's aggregates together); the per-field counts check what they can.
 * A table with about as many partitions as files makes small groups: its adds are read again with
 * the partition values and tags joined per row. The query runs here; `build` turns its result
 * into columns, `undefined` when the rows do not fit (a separator inside a value): the caller then
 * reads them through `to_json` instead.
 */
async function queryAdds(engine: Engine, source: string, withStats: boolean): Promise<{ build(): AddColumns | undefined }> {
  const present = await describe(engine, `SELECT "add".* FROM ${source}`);
  if (!present.has('path')) return { build: () => undefined };
  const fields = fieldSql(present, 'add', withStats, (name) => `"add".${ident(name)}`) as AddFields;
  const grouped = await runAdds(engine, source, fields, true);
  if (grouped.rowCount > MANY_GROUPS) {
    let rows = 0;
    for (let c = 0; c < grouped.chunkCount; c++) for (const n of (grouped.getChunk(c).getColumnVector(0) as unknown as { items: Int32Array }).items) rows += n;
    if (grouped.rowCount * ROWS_PER_GROUP > rows) {
      const perRow = await runAdds(engine, source, fields, false);
      return { build: () => buildAdds(perRow, false) };
    }
  }
  return { build: () => buildAdds(grouped, true) };
}

/** SQL of the fields of FILE_FIELDS.add, then `extra`. */
type AddFields = [string, string, string, string, string, string, string, string];

async function runAdds(engine: Engine, source: string, fields: AddFields, byPartition: boolean): Promise<DuckDBMaterializedResult> {
  const [path, partitionValues, size, modificationTime, dataChange, tags, stats, rest] = fields;
  const text = (expr: string): string => `string_agg(coalesce((${expr})::VARCHAR, ''), chr(1))`;
  const number = (expr: string): string => `list(coalesce(${expr}, 0)::DOUBLE)`;
  const shared = byPartition ? `(${partitionValues})::VARCHAR AS v, (${tags})::VARCHAR AS t` : `${text(partitionValues)}, ${text(tags)}`;
  const sql =
    `SELECT count(*)::INTEGER AS n, ${shared}, ${[path, stats, rest].map(text).join(', ')}, ${[size, modificationTime, dataChange].map(number).join(', ')} ` +
    `FROM ${source} WHERE "add".path IS NOT NULL GROUP BY filename, file_row_number // ${ROWS_PER_CHUNK}${byPartition ? ', v, t' : ''}`;
  const started = performance.now();
  try {
    return await engine.connection.run(sql);
  } finally {
    traceSql(sql, started);
  }
}

/** The adds of a `runAdds` result as columns; `undefined` when a row does not fit (see queryAdds). */
function buildAdds(result: DuckDBMaterializedResult, byPartition: boolean): AddColumns | undefined {
  const builder = new AddColumnsBuilder();
  for (let c = 0; c < result.chunkCount; c++) {
    const chunk = result.getChunk(c);
    const vectors = Array.from({ length: 9 }, (_v, k) => chunk.getColumnVector(k));
    for (let g = 0; g < chunk.rowCount; g++) {
      const n = Number(vectors[0]!.getItem(g));
      const [p, st, r] = [3, 4, 5].map((k) => splitAt(vectors[k]!, g, n));
      const [sizes, times, changes] = [6, 7, 8].map((k) => numbersAt(vectors[k]!, g)) as [ArrayLike<number>, ArrayLike<number>, ArrayLike<number>];
      // Paths are never all empty (NO_TEXT): such rows take the slow path, which keeps them.
      if (!p || p === NO_TEXT || !st || !r || sizes.length !== n || times.length !== n || changes.length !== n) return undefined;
      const row = {
        path: p,
        size: sizes,
        modificationTime: times,
        dataChange: changes,
        // Empty columns are NO_TEXT: never read past an array's end (slow in V8).
        stats: st === NO_TEXT ? undefined : st.map((x) => (x === '' ? null : x)),
        rest: r === NO_TEXT ? undefined : r.map((x) => (x === '' ? null : stripNulls(JSON.parse(x) as Record<string, unknown>))),
      };
      if (byPartition) {
        builder.pushGroup((vectors[1]!.getItem(g) as string | null) ?? '{}', (vectors[2]!.getItem(g) as string | null) ?? undefined, row);
        continue;
      }
      const [v, t] = [1, 2].map((k) => splitAt(vectors[k]!, g, n));
      if (!v || !t) return undefined;
      for (let i = 0; i < n; i++) {
        const tag = t === NO_TEXT ? '' : t[i]!;
        builder.push({
          path: p[i]!,
          partitionValues: v === NO_TEXT || v[i] === '' ? '{}' : v[i]!,
          size: sizes[i]!,
          modificationTime: times[i]!,
          dataChange: changes[i] === 1,
          tags: tag === '' ? undefined : tag,
          stats: row.stats?.[i] ?? null,
          rest: row.rest?.[i] ?? null,
        });
      }
    }
  }
  return builder.finish();
}

/** Partition values and tags repeat across files: parse each distinct text once, hand out copies. */
function parseShared(text: string, cache: Map<string, Record<string, unknown>>): Record<string, unknown> {
  let value = cache.get(text);
  if (value === undefined) {
    value = JSON.parse(text) as Record<string, unknown>;
    cache.set(text, value);
  }
  return { ...value };
}

/** Builds a remove from the fields at `i` (order of FILE_FIELDS.remove, then `extra`). */
function buildRemove(v: string[], i: number, cache: Map<string, Record<string, unknown>>): Action {
  const remove: Record<string, unknown> = { path: v[i]! };
  if (v[i + 1] !== '') remove['deletionTimestamp'] = Number(v[i + 1]);
  remove['dataChange'] = v[i + 2] === '1';
  if (v[i + 3] !== '') remove['extendedFileMetadata'] = v[i + 3] === '1';
  if (v[i + 4] !== '') remove['partitionValues'] = parseShared(v[i + 4]!, cache);
  if (v[i + 5] !== '') remove['size'] = Number(v[i + 5]);
  if (v[i + 6] !== '') remove['stats'] = v[i + 6];
  if (v[i + 7] !== '') Object.assign(remove, stripNulls(JSON.parse(v[i + 7]!) as Record<string, unknown>));
  return { kind: 'remove', remove: remove as unknown as RemoveAction };
}

/** Checkpoint structs have every field; absent optional fields come back as null. */
function stripNulls(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = v;
  return out;
}

/**
 * A SQL subquery `(path, stats)` over the adds of Parquet checkpoint files, with `stats` as JSON
 * text (`stats`, else `stats_parsed`): for readers that loaded the snapshot without stats and find
 * they need them (data skipping), so stats never pass through JS objects. `undefined` when the
 * checkpoint has no adds or no stats columns.
 */
export async function checkpointStatsSql(engine: Engine, files: readonly string[]): Promise<string | undefined> {
  if (files.length === 0) return undefined;
  const source = `read_parquet([${files.map(literal).join(', ')}], union_by_name = true)`;
  if (!(await describe(engine, `SELECT * FROM ${source}`)).has('add')) return undefined;
  const present = await describe(engine, `SELECT "add".* FROM ${source}`);
  const parts = [present.has('stats') ? '"add".stats' : '', present.has('stats_parsed') ? 'to_json("add".stats_parsed)' : ''].filter((p) => p !== '');
  if (!present.has('path') || parts.length === 0) return undefined;
  return `(SELECT "add".path AS path, coalesce(${parts.join(', ')}) AS stats FROM ${source} WHERE "add" IS NOT NULL)`;
}
