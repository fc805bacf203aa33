import type { DuckDBType } from '@duckdb/node-api';
import { LakeError } from '../../core/index.js';
import { DuckDBTypeId, ident, literal, type Engine } from '../../engine/index.js';
import type { Asset } from './assets.js';
import type { DatasetDef } from '../catalog/index.js';

/**
 * Reading one raw upstream file with bronze typing (docs/ingest.md):
 * - IDs are strings: columns named `id`, `*_id`, `*_ids` or listed in `options.id_columns`
 *   (minus `options.numeric_columns`, e.g. pbp's play_id). Integral numbers print without a
 *   fraction, and pandas-style `24755.0` text becomes `24755`;
 * - `season` and `week` are integers (nflverse writes them as integers; pandas copies as floats);
 * - everything else keeps the type the file declares (Parquet) or DuckDB detects over the whole
 *   file (CSV; NA, NULL and the empty field are NULL), so ints and floats stay nullable numbers
 *   and timestamps with a zone become UTC timestamps; times of day and intervals (no Delta type)
 *   are kept as text;
 * - with the dataset's `options.downcast`, DOUBLE columns are stored as FLOAT (32-bit).
 */
export interface ReaderColumn {
  name: string;
  /** SQL over the raw file's columns producing the bronze value. */
  expr: string;
}

const INTEGER_COLUMNS = new Set(['season', 'week']);
const ID_NAME = /(^id$|_id$|_ids$)/i;

export function isIdColumn(name: string, def: Pick<DatasetDef, 'idColumns' | 'numericColumns'>): boolean {
  if (def.numericColumns.includes(name)) return false;
  return def.idColumns.includes(name) || ID_NAME.test(name);
}

function readError(asset: Asset, file: string, cause: unknown): LakeError {
  const message = cause instanceof Error ? cause.message.replace(/^DuckDB: /, '') : String(cause);
  return new LakeError('DATA_INVALID', `${asset.url}: the ${asset.format} file cannot be read: ${message.split('\n').slice(0, 2).join(' ')}`, {
    cause,
    hint: 'Nothing was committed; the dataset stays at its last good version. If the upstream file is damaged, run again once it is fixed.',
    details: { dataset: asset.dataset, url: asset.url, file },
  });
}

async function describe(engine: Engine, sql: string): Promise<{ names: string[]; types: DuckDBType[] }> {
  const result = await engine.connection.run(`SELECT * FROM ${sql} LIMIT 0`);
  return { names: result.columnNames(), types: result.columnTypes() };
}

/** The table function reading the raw file (`read_parquet(…)` or `read_csv(…)`). */
export async function readSourceSql(engine: Engine, file: string, asset: Asset, def: DatasetDef): Promise<string> {
  const path = literal(file);
  if (asset.format === 'parquet') return `read_parquet(${path})`;
  // An explicit dialect: a row with too few or too many fields is an error, never a silent
  // fallback to one text column.
  const dialect = "header = true, delim = ',', quote = '\"', strict_mode = true";
  const csvOptions = `${dialect}, nullstr = ['NA', 'NULL', ''], sample_size = -1`;
  let names: string[];
  try {
    // Column names only: all_varchar skips type detection, the default sample is enough.
    names = (await describe(engine, `read_csv(${path}, ${dialect}, all_varchar = true)`)).names;
  } catch (cause) {
    throw readError(asset, file, cause);
  }
  const ids = names.filter((n) => isIdColumn(n, def));
  const types = ids.length > 0 ? `, types = {${ids.map((n) => `${literal(n)}: 'VARCHAR'`).join(', ')}}` : '';
  return `read_csv(${path}, ${csvOptions}${types})`;
}

const INTEGRAL = new Set([
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.UHUGEINT,
]);
/** Types Delta has no equivalent for (a time of day, an interval): kept as their text. */
const TEXTUAL = new Set([DuckDBTypeId.TIME, DuckDBTypeId.TIME_TZ, DuckDBTypeId.INTERVAL]);
const FRACTIONAL = new Set([DuckDBTypeId.DOUBLE, DuckDBTypeId.FLOAT, DuckDBTypeId.DECIMAL]);

function idExpr(column: string, type: DuckDBType): string {
  const c = ident(column);
  if (type.typeId === DuckDBTypeId.VARCHAR) return `regexp_replace(${c}, '^(-?[0-9]+)\\.0+$', '\\1')`;
  if (INTEGRAL.has(type.typeId)) return `CAST(${c} AS VARCHAR)`;
  if (FRACTIONAL.has(type.typeId)) return `CASE WHEN ${c} = trunc(${c}) AND abs(${c}) < 1e18 THEN CAST(CAST(${c} AS BIGINT) AS VARCHAR) ELSE CAST(${c} AS VARCHAR) END`;
  return `CAST(${c} AS VARCHAR)`;
}

/**
 * Reads the whole raw file once into a temporary table of the engine's connection (so typing,
 * partition listing and the write do not parse it again). The caller drops it.
 */
export async function materializeRawFile(engine: Engine, fromSql: string, name: string, asset: Asset, file: string): Promise<void> {
  try {
    await engine.connection.run(`CREATE TEMP TABLE ${ident(name)} AS SELECT * FROM ${fromSql}`);
  } catch (cause) {
    throw readError(asset, file, cause);
  }
}

/** The raw file's columns (`fromSql`: a table function or a table name) with bronze typing applied (no stamps yet). */
export async function typedColumns(engine: Engine, fromSql: string, asset: Asset, def: DatasetDef, file: string): Promise<ReaderColumn[]> {
  let names: string[];
  let types: DuckDBType[];
  try {
    ({ names, types } = await describe(engine, fromSql));
  } catch (cause) {
    throw readError(asset, file, cause);
  }
  return names.map((name, i) => {
    const type = types[i]!;
    if (isIdColumn(name, def)) return { name, expr: idExpr(name, type) };
    if (TEXTUAL.has(type.typeId)) return { name, expr: `CAST(${ident(name)} AS VARCHAR)` };
    if (INTEGER_COLUMNS.has(name) && (INTEGRAL.has(type.typeId) || FRACTIONAL.has(type.typeId) || type.typeId === DuckDBTypeId.VARCHAR)) {
      return { name, expr: `CAST(${ident(name)} AS INTEGER)` };
    }
    if (def.downcast && type.typeId === DuckDBTypeId.DOUBLE) return { name, expr: `CAST(${ident(name)} AS FLOAT)` };
    return { name, expr: ident(name) };
  });
}
