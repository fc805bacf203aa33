import { LakeError, isLakeError, logger, logsAt } from '../core/index.js';
import { hasEntries, joinLocation, resolveLocation } from '../storage/index.js';
import { LOG_DIR, type Snapshot } from '../delta/index.js';
import { partitionConjuncts, prunableConjuncts, pruneFiles, referencedColumns, serializeSql, viewReferences } from './pruning.js';
import { skipFiles } from './skipping.js';
import { createExtensionView, readerMode, useExtension, type ReaderMode } from './reader.js';
import { ident, scanSql } from '../engine/index.js';
import { resolveTable, type Lake, type TableRef } from './lake.js';
import { cachedPrepared, cachedScan, clearReadCache, latestSeenOf, preparedKey, readSnapshot, storePrepared, versionIdentity } from './read-cache.js';
import { dropPreparedFile, preparedEntry, readPreparedFile, writePreparedFile, type PreparedEntry, type StoredQuery, type StoredTarget } from './prepared-cache.js';
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

/** Databases that have run a query (`runQuery`): the next one turns the footer cache on. */
const queriesRun = new WeakSet<object>();

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

/** What to keep of a preparation once its query has run (`keepPrepared`): never for a query that fails. */
const toKeep = new WeakMap<PreparedQuery, { entry: PreparedEntry; stored: StoredQuery<ResolvedView>; disk: boolean }>();

/**
 * Where the query `source` (as the caller wrote it) with `options` is kept once prepared
 * (src/table/prepared-cache.ts). What the text means depends on the lake root (`layer.dataset`
 * names) and the working folder (relative paths such as `delta_scan('./t')`): both are in the key.
 */
function queryEntry(lake: Lake, source: string, options: QueryOptions): PreparedEntry {
  return preparedEntry(lake.queryCache ?? '', [source, options.asOf ?? null, options.dataSkipping ?? null, lake.root, process.cwd()]);
}

/**
 * The query `source` as this lake prepared it before, from memory or (another process's) from its
 * folder of prepared queries, when every table version it read is the one it names now: found by
 * the text alone, nothing parsed, replayed or planned. Undefined on a miss.
 */
async function storedQuery(
  lake: Lake,
  source: string,
  options: QueryOptions,
): Promise<{ entry: PreparedEntry; hit: StoredQuery<ResolvedView>; from: 'memory' | 'disk'; restamped?: StoredQuery<ResolvedView> } | undefined> {
  const entry = queryEntry(lake, source, options);
  let hit = cachedPrepared<StoredQuery<ResolvedView>>(lake, entry.key);
  const from = hit ? 'memory' : 'disk';
  if (!hit && lake.queryCache !== undefined) hit = await readPreparedFile<ResolvedView>(entry);
  if (!hit) return undefined;
  let restamped = false;
  const targets = [];
  for (const target of hit.targets) {
    const table = { name: target.tableRoot, tableRoot: target.tableRoot };
    if ((await versionIdentity(table, target.version === null ? undefined : { version: target.version }, target.seen)) !== target.identity) return undefined;
    // A latest version checked by listing (the entry was stored while the log folder was still
    // changing) may now have a settled stamp: kept with the entry, the next check is one stat.
    const seen = target.version === null ? latestSeenOf(target.tableRoot, target.identity) : undefined;
    restamped ||= seen !== undefined && seen.stamp !== target.seen?.stamp;
    targets.push(seen ? { ...target, seen } : target);
  }
  if (from === 'disk') storePrepared(lake, entry.key, hit);
  return { entry, hit, from, ...(restamped ? { restamped: { ...hit, targets } } : {}) };
}

/**
 * The version each target reads now and its identity, for storing a preparation
 * (`StoredQuery.targets`); undefined when a version cannot be told without loading it (a read at a
 * timestamp, a folder that is not a table).
 */
async function targetIdentities(targets: readonly { table: TableRef; at: TableAt | undefined }[]): Promise<StoredTarget[] | undefined> {
  const out: StoredTarget[] = [];
  for (const { table, at } of targets) {
    if (at !== undefined && !('version' in at)) return undefined;
    const identity = await versionIdentity(table, at);
    if (identity === undefined) return undefined;
    // For the latest version, the log folder's stamp that named it (when settled): a later process checks that, not a listing.
    const seen = at === undefined ? latestSeenOf(table.tableRoot, identity) : undefined;
    out.push({ tableRoot: table.tableRoot, version: at === undefined ? null : at.version, identity, ...(seen ? { seen } : {}) });
  }
  return out;
}

/** One preparation by `runQuery`: what it learned, and the query as the caller wrote it. */
interface Attempt {
  /** The scan was planned without checking that its files exist (runQuery then retries checked on failure). */
  unchecked?: boolean;
  /** The query text `runQuery` was given: a preparation is kept under it (`queryEntry`). */
  source?: string;
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
async function prepare(lake: Lake, sql: string, options: QueryOptions, cached: boolean, attempt: Attempt = {}): Promise<PreparedQuery> {
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
    // What names the versions read now, for keeping this preparation (runQuery looked it up already).
    const identities = cached && attempt.source !== undefined && targets.length > 0 && mode !== 'extension' ? await targetIdentities(targets) : undefined;
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
    // whose versions could be named was looked up by them already: `storedQuery`.)
    const snapshotKey = identities === undefined ? preparedKey([sql, options.asOf, options.dataSkipping], views.map((v) => v.snapshot)) : undefined;
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
      if (identities === undefined) storePrepared(lake, snapshotKey!, { ...prepared, fromCache: true });
      else {
        const stored: StoredQuery<ResolvedView> = { sql: prepared.sql, views: prepared.views, targets: identities };
        toKeep.set(prepared, { entry: queryEntry(lake, attempt.source!, options), stored, disk: lake.queryCache !== undefined && !out.includes('__lake_dv_') });
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

/** The rows, columns and types of a finished query (the DuckDB result is not kept); `types` when known already. */
function queryResult(reader: Materialized, views: ResolvedView[], exact: boolean | undefined, types?: string[]): QueryResult {
  return {
    columns: reader.columnNames(),
    types: types ?? reader.columnTypes().map((t) => t.toString()),
    rows: exact ? (reader.getRows() as unknown[][]) : (reader.getRowsJS() as unknown[][]),
    views,
  };
}

export async function runQuery(lake: Lake, sql: string, options: QueryOptions = {}): Promise<QueryResult> {
  // A reading process keeps Parquet footers from its second query on (Engine.keepFooters).
  if (queriesRun.has(lake.engine.database)) await lake.engine.keepFooters();
  else queriesRun.add(lake.engine.database);
  // A query prepared before over the versions it names now: its SQL runs as it was. (This path is
  // kept apart and small: a fresh process compiles what it runs, and it is the cold query's.)
  const stored = (options.reader ?? readerMode()) === 'extension' ? undefined : await storedQuery(lake, sql, options);
  const reader = stored && (await lake.engine.connection.runAndReadAll(stored.hit.sql).catch(() => undefined));
  if (stored && reader) {
    logFilesRead(stored.hit.views, stored.from);
    if (stored.restamped) keepStored(lake, stored.entry, stored.restamped, lake.queryCache !== undefined);
    // The same SQL over the same files has the same result types: kept with it, not asked of DuckDB again.
    const types = stored.hit.types?.length === reader.columnCount ? stored.hit.types : undefined;
    return queryResult(reader, stored.hit.views.map((v) => ({ ...v })), options.exact, types);
  }
  if (stored) {
    // Its files may have been vacuumed since: forget it and prepare afresh, which reports any error.
    clearReadCache(lake);
    if (lake.queryCache !== undefined) await dropPreparedFile(stored.entry.file);
  }
  return prepareAndRun(lake, sql, options);
}

/** `runQuery` of a query not prepared before (or whose preparation failed to run): prepared, kept, run. */
async function prepareAndRun(lake: Lake, sql: string, options: QueryOptions): Promise<QueryResult> {
  // DESCRIBE / SUMMARIZE / SHOW <lake table>: DuckDB accepts a query there, not a subquery.
  const text = tableStatementAsQuery(sql);
  const prepareText = (cached: boolean, attempt?: Attempt): Promise<PreparedQuery> =>
    prepare(lake, text, options, cached, attempt).catch(async (cause: unknown) => {
      throw await queryError(lake, text, cause);
    });
  const first: Attempt = { source: sql };
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
    if (!prepared.fromCache && !first.unchecked) throw error;
    // A cached or unchecked scan may name files removed since (vacuum): prepare afresh, which checks them.
    if (prepared.fromCache) clearReadCache(lake);
    prepared = await prepareText(false);
    reader = await execute(prepared);
  }
  const result = queryResult(reader, prepared.views, options.exact);
  keepPrepared(lake, prepared, result.types);
  return result;
}

/**
 * Keeps a preparation whose query ran, with its result types: in memory, and for a later process
 * in the lake's folder of prepared queries. Written after the query, synchronously (a small local
 * file): a write through libuv's thread pool while DuckDB ran would start its four threads on the
 * cores DuckDB's two were using.
 */
function keepPrepared(lake: Lake, prepared: PreparedQuery, types: string[]): void {
  const keep = toKeep.get(prepared);
  if (!keep) return;
  keepStored(lake, keep.entry, { ...keep.stored, types }, keep.disk);
}

/** Keeps `stored` under `entry` in memory and, with `disk`, in the lake's folder of prepared queries. */
function keepStored(lake: Lake, entry: PreparedEntry, stored: StoredQuery<ResolvedView>, disk: boolean): void {
  storePrepared(lake, entry.key, stored);
  if (disk) writePreparedFile(entry, stored);
}
