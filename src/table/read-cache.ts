/**
 * What a read of one table version builds, kept per lake for the next read of the same version
 * (time travel at Parquet speed: a repeated query pays DuckDB's scan, not our log replay and scan
 * planning again). A committed version never changes (commits are immutable), so its snapshot and
 * its scan SQL can be reused; a read of the latest version (or at a timestamp) still lists the log,
 * so a new commit is seen at once, unless the log folder is unchanged since a listing found that
 * version (`LatestSeen`: one stat); a read pinned to a version whose entry is cached does not list
 * it (no new commit can change it). The entry is keyed by the version's commit file (size and mtime),
 * so a table re-created at the same path is never served from an old entry. The files a cached
 * scan names may have been vacuumed since: `runQuery` then drops the lake's entries and prepares
 * the query again, which reports the missing file as usual. Only `runQuery` reads through the
 * cache; `prepareQuery`, whose callers run the SQL themselves, never does.
 */
import { buildSegment, commitFileName, listLatestLog, listLog, logRootOf, versionAtTimestamp, type LogListing, type LogSegment, type Snapshot } from '../delta/index.js';
import { logger, logsAt } from '../core/index.js';
import { folderStamp, joinLocation, statIfExists } from '../storage/index.js';
import { tableSnapshot, type Lake, type TableRef } from './lake.js';

interface Entry {
  snapshot: Snapshot;
  /** Scan SQL of the whole snapshot by projected columns. */
  scans: Map<string, string>;
}

/** Versions kept per lake (most recently used), and at most this many files across them (memory). */
const MAX_ENTRIES = 16;
const MAX_FILES = 250_000;
/** Prepared queries kept per lake (most recently used). */
const MAX_PREPARED = 64;
/** SQL text longer than this (a scan naming very many files) is not kept: memory, and rebuilding it is cheap next to running it. */
const MAX_SQL_CHARS = 256_000;
const caches = new WeakMap<Lake, { versions: Map<string, Entry>; prepared: Map<string, unknown> }>();

function cacheOf(lake: Lake): { versions: Map<string, Entry>; prepared: Map<string, unknown> } {
  let cache = caches.get(lake);
  if (!cache) caches.set(lake, (cache = { versions: new Map(), prepared: new Map() }));
  return cache;
}

function entries(lake: Lake): Map<string, Entry> {
  return cacheOf(lake).versions;
}

/** Moves `key` to the most recently used end and trims the map to `max` entries. */
function touch<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) map.delete(map.keys().next().value!);
}

/** Forgets every cached read of the lake. */
export function clearReadCache(lake: Lake): void {
  caches.delete(lake);
}

/**
 * The snapshot a read of `table` at `at` (default: latest) uses, loaded without file stats, and
 * whether it came from the cache (`useCache` false: never, and nothing is stored).
 */
export async function readSnapshot(lake: Lake, table: TableRef, at: { version: number } | { timestamp: number } | undefined, useCache = true): Promise<{ snapshot: Snapshot; cached: boolean }> {
  const map = entries(lake);
  // A read pinned to a version cannot see a newer commit: a cached entry for it needs no listing
  // of the log, only the stat of its commit file (the key, which tells a re-created table apart).
  let pinned: { version: number; key: string | undefined } | undefined;
  // So can a read of the latest version whose log folder is unchanged since that version was found.
  const latest = useCache && at === undefined ? latestByStamp(table) : undefined;
  const version = latest ?? (at !== undefined && 'version' in at ? at.version : undefined);
  if (useCache && version !== undefined && Number.isSafeInteger(version) && version >= 0) {
    pinned = { version, key: await entryKey(table, version) };
    const hit = pinned.key === undefined ? undefined : map.get(pinned.key);
    if (hit) {
      touch(map, pinned.key!, hit, MAX_ENTRIES);
      return { snapshot: hit.snapshot, cached: true };
    }
  }
  const { listing, segment } = await segmentToRead(table, at);
  if (!useCache) return { snapshot: await tableSnapshot(lake, table, { stats: false, version: segment.version, listing }), cached: false };
  const key = pinned?.version === segment.version ? pinned.key : await entryKey(table, segment.version);
  const hit = key === undefined ? undefined : map.get(key);
  if (hit) {
    touch(map, key!, hit, MAX_ENTRIES);
    return { snapshot: hit.snapshot, cached: true };
  }
  const snapshot = await tableSnapshot(lake, table, { stats: false, version: segment.version, listing });
  if (key !== undefined && snapshot.files.length <= MAX_FILES) {
    touch(map, key, { snapshot, scans: new Map() }, MAX_ENTRIES);
    let files = 0;
    for (const e of map.values()) files += e.snapshot.files.length;
    for (const [k, e] of map) {
      if (files <= MAX_FILES) break;
      files -= e.snapshot.files.length;
      map.delete(k);
    }
  }
  return { snapshot, cached: false };
}

/** The start of every `entryKey` of `version` of the table at `tableRoot`. */
function keyOfVersion(tableRoot: string, version: number): string {
  return `${tableRoot}\u0000${version}\u0000`;
}

/** The cache key of `version` of `table`: its commit file's size and mtime (undefined when that file is gone). */
async function entryKey(table: TableRef, version: number): Promise<string | undefined> {
  const commit = await statIfExists(joinLocation(logRootOf(table.tableRoot), commitFileName(version)));
  return commit ? `${keyOfVersion(table.tableRoot, version)}${commit.size}\u0000${commit.mtimeMs}` : undefined;
}

/**
 * The latest version of a table as a listing of its log found it, and the stamp its `_delta_log/`
 * folder had just before that listing (`folderStamp`: inode, modification and change times).
 * While the folder has that stamp no log file has been added, removed or renamed since, so the
 * latest version is still the one found: one stat instead of a listing (which on a log of 10,000
 * commits takes ~6 ms). A stamp is only recorded once the folder has been unchanged for
 * `SETTLED_MS`: a file system's clock moves in steps (a few ms on Linux, a second or two on some),
 * and a change in the same step as the stamped one could leave the stamp as it was. Local tables
 * only (S3 has no folder times).
 */
export interface LatestSeen {
  stamp: string;
  version: number;
}

const SETTLED_MS = 2_000;
/** Latest versions seen per table root, in this process (most recently recorded last). */
const latestSeen = new Map<string, LatestSeen>();
const MAX_LATEST_SEEN = 1024;

/** The stamp of the table's log folder when it has been unchanged for `SETTLED_MS`; undefined otherwise. */
function settledStamp(tableRoot: string): string | undefined {
  const stamp = folderStamp(logRootOf(tableRoot));
  return stamp !== undefined && stamp.ageMs >= SETTLED_MS ? stamp.stamp : undefined;
}

/** What a listing of the latest version (taken after `stamp`) found, for `latestByStamp`. */
function recordLatest(tableRoot: string, stamp: string | undefined, version: number): void {
  if (stamp === undefined) return;
  touch(latestSeen, tableRoot, { stamp, version }, MAX_LATEST_SEEN);
}

/**
 * The latest version of `table` without listing its log, when its log folder has the stamp it had
 * when that version was found (`known`: from a stored query; default: this process's record).
 */
function latestByStamp(table: TableRef, known: LatestSeen | undefined = latestSeen.get(table.tableRoot)): number | undefined {
  if (known === undefined || folderStamp(logRootOf(table.tableRoot))?.stamp !== known.stamp) return undefined;
  if (logsAt('debug')) logger().debug({ table: table.name, version: known.version }, 'latest version known without listing the log: its folder is unchanged since it was listed');
  return known.version;
}

/**
 * This process's record of the latest version of the table at `tableRoot` (`LatestSeen`) when it
 * names the version `identity` names (`versionIdentity`): stored with a prepared query.
 */
export function latestSeenOf(tableRoot: string, identity: string): LatestSeen | undefined {
  const seen = latestSeen.get(tableRoot);
  return seen !== undefined && identity.startsWith(keyOfVersion(tableRoot, seen.version)) ? seen : undefined;
}

/**
 * What names a version of `table` for a read at `at` (default: latest) without loading it: its
 * version and commit file identity (`entryKey`). Undefined when that cannot be told cheaply (a
 * read at a timestamp, a version whose commit file is gone, a folder that is not a table): the
 * caller then loads the snapshot, which reports any error. The latest version is found by the
 * log folder's stamp when `seen` (or this process) recorded it, else by listing the log.
 */
export async function versionIdentity(table: TableRef, at: { version: number } | undefined, seen?: LatestSeen): Promise<string | undefined> {
  try {
    const version = at !== undefined ? at.version : (latestByStamp(table, seen) ?? (await segmentToRead(table, undefined)).segment.version);
    return Number.isSafeInteger(version) && version >= 0 ? await entryKey(table, version) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The log listing and segment of a read at `at`: for the latest version the log from the newest
 * checkpoint on (`listLatestLog`), the whole log when that partial listing cannot build it or when
 * time travel needs it.
 */
async function segmentToRead(table: TableRef, at: { version: number } | { timestamp: number } | undefined): Promise<{ listing: LogListing; segment: LogSegment }> {
  // Stamped before the listing: a commit landing between the two changes the folder after the stamp.
  const stamp = at === undefined ? settledStamp(table.tableRoot) : undefined;
  if (at === undefined) {
    const partial = await listLatestLog(table.tableRoot);
    try {
      const segment = buildSegment(partial, table.name);
      recordLatest(table.tableRoot, stamp, segment.version);
      return { listing: partial, segment };
    } catch (error) {
      if (!partial.partial) throw error;
    }
  }
  const listing = await listLog(table.tableRoot);
  const version = at === undefined ? undefined : 'version' in at ? at.version : await versionAtTimestamp(table.tableRoot, listing, at.timestamp, table.name);
  const segment = buildSegment(listing, table.name, version);
  if (at === undefined) recordLatest(table.tableRoot, stamp, segment.version);
  return { listing, segment };
}

/** The cached scan SQL of the whole of `snapshot` (as `readSnapshot` returned it) projected to `columns`, building it on a miss. */
export async function cachedScan(lake: Lake, snapshot: Snapshot, columns: readonly string[] | undefined, build: () => Promise<string>): Promise<{ sql: string; cached: boolean }> {
  const entry = [...entries(lake).values()].find((e) => e.snapshot === snapshot);
  const key = columns === undefined ? '*' : JSON.stringify(columns);
  const sql = entry?.scans.get(key);
  if (sql !== undefined) return { sql, cached: true };
  const built = await build();
  if (built.length <= MAX_SQL_CHARS) entry?.scans.set(key, built);
  return { sql: built, cached: false };
}

const snapshotIds = new WeakMap<Snapshot, number>();
let nextSnapshotId = 0;

/**
 * The key of a prepared query: its text and options, and the identity of each snapshot it reads
 * (cached snapshots are the same objects, so a query over the same versions finds its entry).
 */
export function preparedKey(parts: readonly unknown[], snapshots: readonly Snapshot[]): string {
  const ids = snapshots.map((s) => {
    let id = snapshotIds.get(s);
    if (id === undefined) snapshotIds.set(s, (id = nextSnapshotId++));
    return id;
  });
  return JSON.stringify([parts, ids]);
}

/** A query prepared before over the same snapshots (its SQL inlines every scan, so it can run again as it is). */
export function cachedPrepared<T>(lake: Lake, key: string): T | undefined {
  const prepared = cacheOf(lake).prepared;
  const hit = prepared.get(key) as T | undefined;
  if (hit !== undefined) touch(prepared, key, hit, MAX_PREPARED);
  return hit;
}

export function storePrepared<T extends { sql: string }>(lake: Lake, key: string, value: T): void {
  if (value.sql.length <= MAX_SQL_CHARS) touch(cacheOf(lake).prepared, key, value, MAX_PREPARED);
}
