import { LakeError, isLakeError, logger, logsAt } from '../core/index.js';
import { hasEntries, joinLocation, resolveLocation } from '../storage/index.js';
import { LOG_DIR, type Snapshot } from '../delta/index.js';
import { partitionConjuncts, prunableConjuncts, pruneFiles, referencedColumns, serializeSql, viewReferences } from './pruning.js';
import { skipFiles } from './skipping.js';
import { createExtensionView, readerMode, useExtension, type ReaderMode } from './reader.js';
import { ident, scanSql } from '../engine/index.js';
import { resolveTable, type Lake, type TableRef } from './lake.js';
import { cachedPrepared, cachedScan, clearReadCache, preparedKey, readSnapshot, storePrepared, versionIdentity } from './read-cache.js';
import { dropPreparedFile, preparedEntry, readPreparedFile, writePreparedFile, type PreparedEntry } from './prepared-cache.js';
import { queryError } from './query-errors.js';
import { findTableRefs, tableStatementAsQuery, type TableAt } from './sql-refs.js';

export interface QueryOptions {
  /** Applies to every table reference without its own AT clause: a version number or a timestamp. */
  asOf?: string;
  /**
   * Rows as DuckDB values (exact: microsecond timestamps, full-precision decimals) instead of
   * JS values (Dates in milliseconds, decimals as doubles). Output renderers want exact.
   */
  exact?: boolean;
  /** auto (default: LAKE_READER, else auto) | extension | native. */
  reader?: ReaderMode;
  /** Skip files by their min/max/null-count stats (default true; native reader only). */
  dataSkipping?: boolean;
}

export interface ResolvedView {
  view: string;
  table: string;
  tableRoot: string;
  version: number;
  /** Which reader serves the view. */
  reader: 'extension' | 'native';
  /** Data files the view reads after partition pruning and data skipping (native reader only). */
  filesRead?: number;
  /** Active files of the version (native reader only). */
  filesTotal?: number;
  /** Files left out because their partition values cannot match the query. */
  filesPrunedByPartition?: number;
  /** Files left out because their min/max/null-count stats prove no row can match. */
  filesSkippedByStats?: number;
}

export interface PreparedQuery {
  sql: string;
  views: ResolvedView[];
  /** A snapshot or scan came from the lake's read cache (src/table/read-cache.ts). */
  fromCache?: boolean;
}

/** View names are unique per process: concurrent queries on one lake must not replace each other's views. */
let nextView = 0;

/** Parses a user timestamp; a value without a zone is UTC. */
export function parseTimestamp(text: string): number {
  const trimmed = text.trim();
  const hasZone = /(Z|[+-]\d{2}(:?\d{2})?)$/i.test(trimmed) && /[T ]\d{2}:/.test(trimmed);
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(trimmed) ? `${trimmed}T00:00:00Z` : hasZone ? trimmed.replace(' ', 'T') : `${trimmed.replace(' ', 'T')}Z`;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) {
    throw new LakeError('USAGE', `'${text}' is not a timestamp`, { hint: "Use ISO 8601, e.g. '2026-09-10T06:00:00Z' (no zone means UTC)." });
  }
  return ms;
}

export function parseAsOf(text: string): TableAt {
  return /^\d+$/.test(text.trim()) ? { version: Number(text.trim()) } : { timestamp: text };
}

function isDeltaTable(tableRoot: string): Promise<boolean> {
  return hasEntries(joinLocation(tableRoot, LOG_DIR));
}

/** A `layer.dataset` reference in SQL, or undefined when it cannot name a lake table (DuckDB then resolves it). */
function catalogTable(lake: Lake, name: string): TableRef | undefined {
  try {
    return resolveTable(lake, name);
  } catch (error) {
    if (isLakeError(error, 'USAGE')) return undefined;
    throw error;
  }
}

/** Debug log of the files each view reads (`--log-level debug`), and where its plan came from when it was not made now. */
function logFilesRead(views: readonly ResolvedView[], cached?: 'memory' | 'disk'): void {
  if (!logsAt('debug')) return;
  for (const v of views) {
    logger().debug({ table: v.table, version: v.version, files: v.filesTotal, prunedByPartition: v.filesPrunedByPartition, skippedByStats: v.filesSkippedByStats, filesRead: v.filesRead, ...(cached ? { cached } : {}) }, 'files read');
  }
}

/** The disk entry a prepared query came from or was stored as (runQuery drops it when the query fails). */
const storedFiles = new WeakMap<PreparedQuery, PreparedEntry>();
/** The write of a prepared query to disk, still running. */
const pendingStores = new WeakMap<PreparedQuery, Promise<void>>();

/**
 * A query prepared before over the versions `targets` name now: from the lake's in-memory cache,
 * else from its folder of prepared queries (src/table/prepared-cache.ts). `key` and `file` name
 * where a new preparation is kept; undefined when a version cannot be told without loading it (a
 * read at a timestamp).
 */
async function knownQuery(
  lake: Lake,
  sql: string,
  options: QueryOptions,
  targets: readonly { table: TableRef; at: TableAt | undefined }[],
): Promise<{ key: string; file?: PreparedEntry; hit?: { sql: string; views: ResolvedView[] }; from?: 'memory' | 'disk' } | undefined> {
  const versions: string[] = [];
  for (const { table, at } of targets) {
    if (at !== undefined && !('version' in at)) return undefined;
    const identity = await versionIdentity(table, at);
    if (identity === undefined) return undefined;
    versions.push(identity);
  }
  const parts = [sql, options.asOf ?? null, options.dataSkipping ?? null, versions];
  const key = JSON.stringify(parts);
  const file = lake.queryCache === undefined ? undefined : preparedEntry(lake.queryCache, parts);
  const inMemory = cachedPrepared<PreparedQuery>(lake, key);
  if (inMemory) return { key, ...(file ? { file } : {}), hit: inMemory, from: 'memory' };
  const onDisk = file === undefined ? undefined : await readPreparedFile<ResolvedView>(file);
  if (onDisk) storePrepared(lake, key, { ...onDisk, fromCache: true });
  return { key, ...(file ? { file } : {}), ...(onDisk ? { hit: onDisk, from: 'disk' as const } : {}) };
}

/**
 * Replaces every Delta table reference in `sql` by a temp view over the snapshot it names, so
 * DuckDB runs the query over exactly the files of that version. Catalog names whose table does
 * not exist are left alone (they may be DuckDB's own schemas).
 */
export async function prepareQuery(lake: Lake, sql: string, options: QueryOptions = {}): Promise<PreparedQuery> {
  return prepare(lake, sql, options, false);
}

/**
 * `prepareQuery`, and with `cached` through the lake's read cache (src/table/read-cache.ts): only
 * for a caller that, like `runQuery`, prepares again uncached when the query fails, since a cached
 * scan skips the check that its files still exist.
 */
async function prepare(lake: Lake, sql: string, options: QueryOptions, cached: boolean, attempt: { unchecked?: boolean } = {}): Promise<PreparedQuery> {
  const refs = findTableRefs(sql);
  const defaultAt = options.asOf === undefined ? undefined : parseAsOf(options.asOf);
  // The references that name Delta tables; others (DuckDB's own schemas) are left alone.
  const targets: { ref: (typeof refs)[number]; table: TableRef; at: TableAt | undefined }[] = [];
  for (const ref of refs) {
    const table = ref.kind === 'catalog' ? catalogTable(lake, ref.name) : { name: ref.name, tableRoot: resolveLocation(ref.name) };
    if (!table || (ref.kind === 'catalog' && !(await isDeltaTable(table.tableRoot)))) continue;
    targets.push({ ref, table, at: ref.at ?? defaultAt });
  }
  const mode = options.reader ?? readerMode();
  // A query prepared before over the same versions, in this process or (from disk) another one:
  // its SQL as it was, nothing replayed or planned.
  const known = cached && targets.length > 0 && mode !== 'extension' ? await knownQuery(lake, sql, options, targets) : undefined;
  if (known?.hit) {
    attempt.unchecked = true;
    logFilesRead(known.hit.views, known.from);
    const prepared: PreparedQuery = { sql: known.hit.sql, views: known.hit.views.map((v) => ({ ...v })), fromCache: true };
    if (known.file) storedFiles.set(prepared, known.file);
    return prepared;
  }
  // One view per table and version spelled alike (a self-join reads one snapshot).
  const viewNames = new Map<string, string>();
  let out = '';
  let cursor = 0;
  const placed = targets.map((t) => {
    const key = JSON.stringify([t.table.tableRoot, t.at ?? null]);
    let view = viewNames.get(key);
    if (view === undefined) viewNames.set(key, (view = `__lake_${nextView++}`));
    out += sql.slice(cursor, t.ref.start) + ident(view);
    cursor = t.ref.end;
    return { ...t, view };
  });
  out += sql.slice(cursor);
  // DuckDB serializes SELECTs only: an EXPLAIN [ANALYZE] prefix is set aside and kept. The parse
  // runs in DuckDB while the snapshots load here (it needs the view names, not the snapshots).
  const explain = /^\s*EXPLAIN(\s+ANALYZE)?\s+/i.exec(out)?.[0] ?? '';
  const parsing = placed.length > 0 && mode !== 'extension' ? serializeSql(lake.engine, out.slice(explain.length)) : undefined;
  parsing?.catch(() => undefined);
  // Whatever happens below, the parse is over when prepare settles: a caller that closes the engine
  // on an error (a missing version) must not close it under a running statement.
  try {
    const views: (ResolvedView & { snapshot: Snapshot })[] = [];
    let fromCache = false;
    let allCached = true;
    for (const { table, at, view: name } of placed) {
      if (views.some((v) => v.view === name)) continue;
      // Reads need no file stats: skipping them halves the cost of opening a big checkpoint.
      const read = await readSnapshot(lake, table, at === undefined ? undefined : 'version' in at ? { version: at.version } : { timestamp: parseTimestamp(at.timestamp) }, cached);
      const snapshot = read.snapshot;
      fromCache ||= read.cached;
      allCached &&= read.cached;
      views.push({ view: name, table: table.name, tableRoot: table.tableRoot, version: snapshot.version, snapshot, reader: 'native' });
    }

    // The extension reader prunes partitions itself (filter pushdown through the view).
    const extension = views.length > 0 && (await useExtension(lake, mode));
    // The same query over the same cached snapshots prepares to the same SQL: reuse it. (A query
    // whose versions `knownQuery` could name was looked up there, under that key, already.)
    const snapshotKey = known === undefined ? preparedKey([sql, options.asOf, options.dataSkipping], views.map((v) => v.snapshot)) : undefined;
    const reused = cached && snapshotKey !== undefined && views.length > 0 && allCached && !extension ? cachedPrepared<PreparedQuery>(lake, snapshotKey) : undefined;
    if (reused) {
      logFilesRead(reused.views, 'memory');
      return { ...reused, views: reused.views.map((v) => ({ ...v })) };
    }
    const native: typeof views = [];
    for (const view of views) {
      if (extension && (await createExtensionView(lake, view.view, view.snapshot))) view.reader = 'extension';
      else native.push(view);
    }
    // Partition pruning: only files of partitions the query can need are named to DuckDB.
    // Projection: a view only carries the columns the query can name (binding hundreds of unused
    // casts costs more than reading the few columns a query needs).
    const ast = native.length > 0 ? await parsing : undefined;
    // Data skipping: the files left are judged by their stats on any column's conjuncts.
    const columnsOf = new Map(native.map((v) => [v.view, v.snapshot.schema.fields.map((f) => f.name)]));
    const conjuncts = ast ? prunableConjuncts(ast, columnsOf) : undefined;
    const named = ast ? referencedColumns(ast) : undefined;
    const scans = new Map<string, string>();
    for (const view of native) {
      const filter = conjuncts?.get(view.view);
      const onPartitions = filter ? partitionConjuncts(filter, view.snapshot.partitionColumns) : undefined;
      let snapshot = onPartitions ? { ...view.snapshot, files: await pruneFiles(lake.engine, view.snapshot, onPartitions) } : view.snapshot;
      view.filesTotal = view.snapshot.files.length;
      view.filesPrunedByPartition = view.filesTotal - snapshot.files.length;
      view.filesSkippedByStats = 0;
      if (filter && options.dataSkipping !== false) {
        const skipped = await skipFiles(lake.engine, snapshot, filter, { partitionsApplied: onPartitions !== undefined });
        snapshot = { ...snapshot, files: skipped.files };
        view.filesSkippedByStats = skipped.skipped;
      }
      view.filesRead = snapshot.files.length;
      logFilesRead([view]);
      const columns = named ? snapshot.schema.fields.filter((f) => named.has(f.name.toLowerCase())).map((f) => f.name) : undefined;
      // A cached prepare (runQuery's first attempt) leaves the existence of files to DuckDB (here
      // reading untagged footers, or running the query): on failure runQuery prepares again
      // uncached, which reports a missing file as DATA_FILE_MISSING.
      attempt.unchecked ||= cached;
      // Pruning and skipping only ever drop files: the same count is the whole version, whose scan is cached.
      if (cached && view.filesRead === view.filesTotal) {
        const scan = await cachedScan(lake, view.snapshot, columns, () => scanSql(lake.engine, snapshot, { columns, checkFiles: false }));
        fromCache ||= scan.cached;
        scans.set(view.view, scan.sql);
      } else {
        scans.set(view.view, await scanSql(lake.engine, snapshot, { columns, checkFiles: !cached }));
      }
    }
    // Inline each native scan as a subquery named like the view: a temp view would be bound once
    // when created and again by the query. Where a reference cannot be located, views it is.
    const located = ast && native.length > 0 ? viewReferences(ast, out.slice(explain.length), native.map((v) => v.view)) : undefined;
    if (located) {
      const bytes = Buffer.from(out.slice(explain.length), 'utf8');
      const pieces: Buffer[] = [];
      let at = 0;
      for (const ref of located) {
        const token = Buffer.byteLength(`"${ref.view}"`, 'utf8');
        pieces.push(bytes.subarray(at, ref.offset), Buffer.from(`(${scans.get(ref.view)!})${ref.aliased ? '' : ` AS ${ident(ref.view)}`}`, 'utf8'));
        at = ref.offset + token;
      }
      pieces.push(bytes.subarray(at));
      out = explain + Buffer.concat(pieces).toString('utf8');
    } else {
      for (const view of native) await lake.engine.run(`CREATE OR REPLACE TEMP VIEW ${ident(view.view)} AS ${scans.get(view.view)!}`);
    }
    const prepared: PreparedQuery = { sql: out, views: views.map(({ snapshot: _s, ...v }) => v), ...(fromCache ? { fromCache } : {}) };
    // Only a native query whose scans are all inlined: temp views are per call, and temp tables of
    // large deletion vectors per process (kept in memory then, not on disk).
    if (cached && located && !extension) {
      storePrepared(lake, known?.key ?? snapshotKey!, { ...prepared, fromCache: true });
      // Written while DuckDB runs the query (runQuery waits for it after).
      if (known?.file && !out.includes('__lake_dv_')) {
        pendingStores.set(prepared, writePreparedFile(known.file, { sql: prepared.sql, views: prepared.views }));
        storedFiles.set(prepared, known.file);
      }
    }
    return prepared;
  } finally {
    await parsing?.catch(() => undefined);
  }
}

export interface QueryResult {
  columns: string[];
  types: string[];
  rows: unknown[][];
  views: ResolvedView[];
}

type Materialized = Awaited<ReturnType<Lake['engine']['connection']['runAndReadAll']>>;

export async function runQuery(lake: Lake, sql: string, options: QueryOptions = {}): Promise<QueryResult> {
  // DESCRIBE / SUMMARIZE / SHOW <lake table>: DuckDB accepts a query there, not a subquery.
  const text = tableStatementAsQuery(sql);
  const prepareText = (cached: boolean, attempt?: { unchecked?: boolean }): Promise<PreparedQuery> =>
    prepare(lake, text, options, cached, attempt).catch(async (cause: unknown) => {
      throw await queryError(lake, text, cause);
    });
  const first: { unchecked?: boolean } = {};
  let prepared = await prepareText(true, first).catch((error: unknown) => {
    if (!first.unchecked) throw error;
    return prepareText(false);
  });
  const execute = (p: PreparedQuery): Promise<Materialized> =>
    lake.engine.connection.runAndReadAll(p.sql).catch(async (cause: unknown) => {
      throw await queryError(lake, text, cause, p.views);
    });
  let reader: Materialized;
  try {
    reader = await execute(prepared);
  } catch (error) {
    await pendingStores.get(prepared);
    if (!prepared.fromCache && !first.unchecked) throw error;
    // A cached or unchecked scan may name files removed since (vacuum): prepare afresh, which checks them.
    if (prepared.fromCache) clearReadCache(lake);
    const stored = storedFiles.get(prepared);
    if (stored !== undefined) await dropPreparedFile(stored.file);
    prepared = await prepareText(false);
    reader = await execute(prepared);
  }
  await pendingStores.get(prepared);
  return {
    columns: reader.columnNames(),
    types: reader.columnTypes().map((t) => t.toString()),
    rows: options.exact ? (reader.getRows() as unknown[][]) : (reader.getRowsJS() as unknown[][]),
    views: prepared.views,
  };
}
