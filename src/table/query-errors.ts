import { LakeError, isLakeError } from '../core/index.js';
import { hasEntries, isRemote, joinLocation, resolveLocation } from '../storage/index.js';
import { LOG_DIR } from '../delta/index.js';
import { ident, openEngine, sqlType } from '../engine/index.js';
import { resolveTable, tableSnapshot, type Lake, type TableRef } from './lake.js';
import { missingTableError, nearestNames } from './missing-table.js';
import { findTableRefs, type SqlTableRef } from './sql-refs.js';

/**
 * A failed `lake sql` query explained in the user's own words. DuckDB ran a rewrite of the query
 * (lake tables replaced by scans of their files, query.ts), so its message may name `__lake_0`,
 * `__empty` or `read_parquet([...])`. Instead:
 *
 * - a `layer.dataset` the lake does not hold is TABLE_NOT_FOUND naming the lake root, the nearest
 *   table names and what the lake holds (or how to fill an empty lake);
 * - otherwise the user's query is bound again in a scratch DuckDB whose schemas bronze/silver/gold
 *   hold empty tables with the lake tables' columns and types, so DuckDB's binder and parser speak
 *   of the user's tables and columns at the user's positions; an unknown column reads
 *   "column x not in silver.pbp; did you mean …";
 * - an error the rebinding does not reproduce (it happened while reading data) keeps DuckDB's
 *   message, with the rewrite's names replaced by the user's and the rewritten SQL left out.
 */

const HINT = "Check the SQL. Lake tables are named layer.dataset (e.g. silver.pbp) or delta_scan('<path>'); `lake sql \"DESCRIBE silver.pbp\"` lists a table's columns.";

interface ShadowTable {
  ref: SqlTableRef;
  /** As the user wrote it (`silver.pbp`, or the delta_scan path). */
  name: string;
  table: TableRef;
  /** The name the rebinding query uses: the user's own for catalog tables. */
  shadow: string;
}

/** The table root of a `layer.dataset` reference; undefined when it cannot name a lake table (DuckDB resolves it). */
function catalogRoot(lake: Lake, name: string): string | undefined {
  try {
    return resolveTable(lake, name).tableRoot;
  } catch {
    return undefined;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The query with each reference replaced by its shadow name, padded with spaces (newlines kept) so that every position is the user's. */
function shadowQuery(sql: string, tables: ShadowTable[]): string {
  let out = '';
  let cursor = 0;
  for (const t of [...tables].sort((a, b) => a.ref.start - b.ref.start)) {
    const span = sql.slice(t.ref.start, t.ref.end);
    const pad = span.slice(t.shadow.length).replace(/[^\n]/g, ' ');
    out += sql.slice(cursor, t.ref.start) + t.shadow + pad;
    cursor = t.ref.end;
  }
  return out + sql.slice(cursor);
}

/** DuckDB's `LINE n: …` excerpt of `shown` rewritten as the same span of `original` (equal lengths). */
function userExcerpt(message: string, shown: string, original: string): string {
  return message.replace(/^(LINE \d+: )(\.\.\.)?(.*?)(\.\.\.)?$/m, (_all, head: string, pre: string | undefined, body: string, post: string | undefined) => {
    const at = shown.indexOf(body);
    return at < 0 ? `${head}${pre ?? ''}${body}${post ?? ''}` : `${head}${pre ?? ''}${original.slice(at, at + body.length)}${post ?? ''}`;
  });
}

/**
 * "column x not in silver.pbp; did you mean …" from DuckDB's binder message, when it is one: the
 * nearest column names of the tables read, else DuckDB's candidates.
 */
function columnMessage(message: string, tables: ShadowTable[], columns: readonly string[]): string | undefined {
  const unqualified = /Referenced column "([^"]+)" not found in FROM clause!/.exec(message);
  const qualified = /Table "([^"]+)" does not have a column named "([^"]+)"/.exec(message);
  const column = unqualified?.[1] ?? qualified?.[2];
  if (!column) return undefined;
  const names = [...new Set(tables.map((t) => t.name))];
  const where = qualified ? `${qualified[1]} (the query reads ${names.join(', ')})` : names.join(' or ');
  const candidates = /Candidate bindings: (.*)/.exec(message)?.[1]?.match(/"([^"]+)"/g)?.map((c) => c.slice(1, -1)).filter((c) => c !== 'aliases') ?? [];
  const near = nearestNames(column.toLowerCase(), [...new Set(columns.map((c) => c.toLowerCase()))], 5);
  const suggest = near.length > 0 ? near : candidates;
  const excerpt = /\n\n(LINE [\s\S]*)$/.exec(message)?.[1];
  return `column ${column} not in ${where}${suggest.length > 0 ? `; did you mean ${suggest.join(', ')}?` : ''}${excerpt ? `\n\n${excerpt}` : ''}`;
}

async function shadowTables(lake: Lake, refs: SqlTableRef[]): Promise<ShadowTable[]> {
  const out: ShadowTable[] = [];
  for (const [i, ref] of refs.entries()) {
    const table = ref.kind === 'catalog' ? resolveTable(lake, ref.name) : { name: ref.name, tableRoot: resolveLocation(ref.name) };
    const shadow = ref.kind === 'catalog' ? ref.name : `__delta_scan_${i}`;
    out.push({ ref, name: ref.name, table, shadow });
  }
  return out;
}

/** Binds `sql` in a scratch DuckDB over empty copies of the tables; the error it raises, or undefined when it binds. */
async function rebind(lake: Lake, sql: string, tables: ShadowTable[], columnsRead: string[]): Promise<string | undefined> {
  const engine = await openEngine({ threads: 1, s3: isRemote(lake.root) });
  try {
    for (const t of tables) {
      const at = t.ref.at;
      const snapshot = await tableSnapshot(lake, t.table, { stats: false, ...(at && 'version' in at ? { version: at.version } : {}) });
      columnsRead.push(...snapshot.schema.fields.map((f) => f.name));
      const columns = snapshot.schema.fields.map((f) => `${ident(f.name)} ${sqlType(f.type)}`).join(', ');
      const [schema, name] = t.shadow.includes('.') ? t.shadow.split('.') : [undefined, t.shadow];
      if (schema) await engine.run(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`);
      await engine.run(`CREATE TABLE IF NOT EXISTS ${schema ? `${ident(schema)}.` : ''}${ident(name!)} (${columns})`);
    }
    const shown = shadowQuery(sql, tables);
    const statements = await engine.connection.extractStatements(shown).catch((e: unknown) => e as Error);
    if (statements instanceof Error) return userExcerpt(messageOf(statements).replace(/^Failed to extract statements: /, ''), shown, sql);
    for (let i = 0; i < statements.count; i++) {
      const failed = await statements.prepare(i).then(
        (p) => {
          p.destroySync();
          return undefined;
        },
        (e: unknown) => messageOf(e),
      );
      if (failed !== undefined) return userExcerpt(failed, shown, sql);
    }
    return undefined;
  } finally {
    engine.close();
  }
}

/** DuckDB's message without the rewritten query's excerpt, the rewrite's view names replaced by the user's table names. */
function scrubbed(message: string, views: readonly { view: string; table: string }[]): string {
  let out = message.replace(/\n\nLINE \d+:[\s\S]*$/, '');
  for (const v of views) out = out.replaceAll(`"${v.view}"`, v.table).replaceAll(v.view, v.table);
  return out;
}

/** The `layer.dataset` references of `sql` the lake does not hold. */
async function missingRefs(lake: Lake, refs: readonly SqlTableRef[]): Promise<string[]> {
  const present = await Promise.all(refs.map((r) => (r.kind === 'catalog' ? hasEntries(joinLocation(catalogRoot(lake, r.name)!, LOG_DIR)) : true)));
  const missing = refs.filter((_, i) => !present[i]);
  return [...new Set(missing.map((r) => r.name))];
}

/** Throws TABLE_NOT_FOUND (lake root, nearest names, contents) when `sql` names a lake table the lake does not hold. */
export async function assertLakeTables(lake: Lake, sql: string): Promise<void> {
  const missing = await missingRefs(lake, findTableRefs(sql).filter((r) => r.kind === 'catalog' && catalogRoot(lake, r.name) !== undefined));
  if (missing.length > 0) throw await missingTableError(lake, missing);
}

/** The SQL_ERROR or TABLE_NOT_FOUND for `cause`, raised by DuckDB running the rewrite of `sql`. */
export async function queryError(lake: Lake, sql: string, cause: unknown, views: readonly { view: string; table: string }[] = []): Promise<LakeError> {
  if (isLakeError(cause)) return cause;
  const message = messageOf(cause);
  const refs = findTableRefs(sql).filter((r) => r.kind === 'path' || catalogRoot(lake, r.name) !== undefined);
  const missing = await missingRefs(lake, refs);
  if (missing.length > 0) return missingTableError(lake, missing, cause);
  if (refs.length === 0) return new LakeError('SQL_ERROR', `DuckDB: ${message}`, { cause, hint: HINT });
  const tables = await shadowTables(lake, refs);
  const columns: string[] = [];
  const bound = await rebind(lake, sql, tables, columns).catch(() => undefined);
  const text = bound === undefined ? scrubbed(message, views) : (columnMessage(bound, tables, columns) ?? bound);
  return new LakeError('SQL_ERROR', `DuckDB: ${text}`, { cause, hint: HINT });
}
