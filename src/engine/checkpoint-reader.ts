import { LakeError } from '../core/index.js';
import { AddColumnsBuilder, addAt, parseAction, parseCommitText, toColumnarCheckpoint, type Action, type AddColumns, type CheckpointReader, type ColumnarCheckpoint, type RemoveAction } from '../delta/index.js';
import { readTextIfExists } from '../storage/index.js';
import { checkpointCacheFile, readCachedCheckpoint, writeCachedCheckpoint } from './checkpoint-cache.js';
import { ident, literal, type Engine } from './session.js';

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
  const actions: Action[] = [];
  let adds: AddColumns | undefined;
  for (const column of ACTION_COLUMNS) {
    if (!columns.has(column)) continue;
    if (column === 'add' || column === 'remove') {
      const texts = await fileActionTexts(engine, source, column, withStats);
      const fast = texts && (column === 'add' ? (adds = addColumns(texts)) : removeActions(texts));
      if (fast) {
        if (Array.isArray(fast)) for (const action of fast) actions.push(action);
        continue;
      }
    }
    for (const action of await readAsJson(engine, source, column, where)) actions.push(action);
  }
  const columnar = toColumnarCheckpoint(actions);
  return adds ? { adds, other: columnar.other } : columnar;
}

async function describe(engine: Engine, sql: string): Promise<Set<string>> {
  const rows = await engine.rows<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE ${sql})`);
  return new Set(rows.map((r) => r.column_name));
}

async function readAsJson(engine: Engine, source: string, column: string, where: string): Promise<Action[]> {
  const c = ident(column);
  const reader = await engine.connection.runAndReadAll(`SELECT to_json(${c}) AS j FROM ${source} WHERE ${c} IS NOT NULL`);
  if (reader.currentRowCount === 0) return [];
  const texts = reader.getColumnsJS()[0] as string[];
  const actions: Action[] = [];
  for (const text of texts) {
    const value = JSON.parse(text) as Record<string, unknown>;
    if ((column === 'add' || column === 'remove') && value['stats'] == null && value['stats_parsed'] != null) {
      value['stats'] = JSON.stringify(value['stats_parsed']);
    }
    const action = parseAction({ [column]: stripNulls(value) }, where);
    if (action) actions.push(action);
  }
  return actions;
}

/** The fields of each add/remove row as text, in the order of FILE_FIELDS then `extra` (`width` per row). */
interface FileActionTexts {
  width: number;
  /** Rows per chunk. */
  counts: number[];
  texts: string[];
}

/** The fast path for `add`/`remove`: the rows as joined text; `undefined` when the rows do not fit it. */
async function fileActionTexts(engine: Engine, source: string, column: 'add' | 'remove', withStats: boolean): Promise<FileActionTexts | undefined> {
  const present = await describe(engine, `SELECT ${ident(column)}.* FROM ${source}`);
  if (!present.has('path')) return undefined;
  const spec = FILE_FIELDS[column];
  const f = (name: string): string => `a.${ident(name)}`;
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
  const width = rendered.length;
  const row = `concat(${rendered.join(', chr(1), ')})`;
  const sql =
    `SELECT count(*)::INTEGER AS n, string_agg(${row}, chr(1)) AS s ` +
    `FROM (SELECT ${ident(column)} AS a, filename, file_row_number FROM ${source} WHERE ${ident(column)} IS NOT NULL) ` +
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

/** Adds as columns (fields in the order of FILE_FIELDS.add, then `extra`), no object per file. */
function addColumns(texts: FileActionTexts): AddColumns | undefined {
  const builder = new AddColumnsBuilder();
  for (const v of chunks(texts)) {
    if (!v) return undefined;
    for (let i = 0; i < v.length; i += texts.width) {
      builder.push({
        path: v[i]!,
        partitionValues: v[i + 1] === '' ? '{}' : v[i + 1]!,
        size: Number(v[i + 2]),
        modificationTime: Number(v[i + 3]),
        dataChange: v[i + 4] === '1',
        tags: v[i + 5] === '' ? undefined : v[i + 5]!,
        stats: v[i + 6] === '' ? null : v[i + 6]!,
        rest: v[i + 7] === '' ? null : stripNulls(JSON.parse(v[i + 7]!) as Record<string, unknown>),
      });
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
