import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { LakeError, errnoCode, faultPoint, logger, systemClock, type Clock } from '../core/index.js';
import {
  LOG_DIR,
  assertWritable,
  commitTimestamp,
  deletedFileRetentionMs,
  earliestVersion,
  isAbsoluteUri,
  listLog,
  parseIntervalMs,
  readCommit,
  type LogListing,
  type Snapshot,
} from '../delta/index.js';
import { dataFilePath } from '../engine/index.js';
import { deleteFile, isRemote, joinLocation, listEntries, listFilesRecursive, listNames, statIfExists } from '../storage/index.js';
import { LAYERS, tableSnapshot, type Lake, type TableRef } from './lake.js';
import { ownershipOf } from './ownership.js';

/**
 * VACUUM: deletes the data files that no version inside the retention window references and
 * that are older than the window; in `_delta_log` it only removes stale temp files of commits
 * a killed writer never linked (and, opt-in, old log entries: `cleanupLog`).
 *
 * Ownership first (ownership.ts): only files the table could have written are candidates —
 * data-file names (`part-….parquet`, `deletion_vector_….bin`) inside the table root, in
 * `column=value` folders of the table's columns, regular files (never symlinks), never hidden
 * paths. Anything else under the root is reported in `ignored` and never touched.
 *
 * The window starts at the horizon `now - retention`. The versions inside it are the version
 * that was current at the horizon and every later one, so time travel to any moment inside the
 * window keeps working. Instead of trusting remove tombstones (which checkpoints drop once they
 * expire), the referenced files are computed by replay: the files of the version current at the
 * horizon plus every file added by a later commit. A file is deleted only when it is in none of
 * them AND its mtime is older than the horizon, which also covers files no commit names
 * (orphans of failed writes) and keeps the fresh files of writers that have not committed yet.
 */
export const MIN_RETENTION_HOURS = 168;
export const DEFAULT_LOG_RETENTION = 'interval 30 days';

export interface VacuumOptions {
  table: TableRef;
  /** Overrides `delta.deletedFileRetentionDuration` (default 7 days). */
  retentionHours?: number;
  dryRun?: boolean;
  /** Allows a retention under 168 hours. */
  force?: boolean;
  /**
   * Also removes commit and checkpoint files older than `delta.logRetentionDuration` (30 days)
   * that precede a checkpoint from which every kept version stays readable.
   */
  logCleanup?: boolean;
  clock?: Clock;
}

export interface VacuumMetrics {
  table: string;
  dryRun: boolean;
  retentionHours: number;
  /** Files older than this (ISO time) and referenced by no version since are deleted. */
  horizon: string;
  /** The latest version when vacuum read the table. */
  version: number;
  /** The oldest version whose files are kept: the one current at the horizon. */
  oldestRetainedVersion: number;
  filesScanned: number;
  /** Files deleted (or, in a dry run, that would be). */
  filesDeleted: number;
  bytesDeleted: number;
  /** Of those, files no commit ever referenced (leftovers of failed writes). */
  untrackedFilesDeleted: number;
  /** Paths relative to the table root. */
  deleted: string[];
  /** The same files with their size and why each goes (expired: removed by a commit before the oldest kept version; untracked: no commit names it). */
  deletedFiles: { path: string; bytes: number; reason: 'expired' | 'untracked' | 'stale-temp' }[];
  /** Visible files and folders under the table root that the table does not own: never deleted. */
  ignored: IgnoredEntry[];
  logFilesDeleted: number;
  logBytesDeleted: number;
  /** Log file names removed by the log cleanup. */
  logDeleted: string[];
  /** The earliest version time travel can reach after the log cleanup. */
  earliestVersion: number | undefined;
}

/** Every Delta table under the lake root (`<root>/<layer>/<dataset>` with a `_delta_log`), sorted by name. */
export async function listLakeTables(lake: Pick<Lake, 'root'>): Promise<TableRef[]> {
  const tables: TableRef[] = [];
  if (isRemote(lake.root)) return listRemoteLakeTables(lake.root);
  for (const layer of LAYERS) {
    let entries;
    try {
      entries = await readdir(path.join(lake.root, layer), { withFileTypes: true });
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') continue;
      throw error;
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const tableRoot = path.join(lake.root, layer, entry.name);
      const log = await readdir(path.join(tableRoot, LOG_DIR)).catch(() => undefined);
      if (log?.some((n) => n.endsWith('.json') || n.includes('.checkpoint.'))) tables.push({ name: `${layer}.${entry.name}`, tableRoot, layer, dataset: entry.name });
    }
  }
  return tables.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** `listLakeTables` on an object store: one delimited listing per layer and per table log. */
async function listRemoteLakeTables(root: string): Promise<TableRef[]> {
  const tables: TableRef[] = [];
  for (const layer of LAYERS) {
    for (const dataset of (await listEntries(joinLocation(root, layer))).folders) {
      const tableRoot = joinLocation(root, layer, dataset);
      const log = await listNames(joinLocation(tableRoot, LOG_DIR));
      if (log.some((n) => n.endsWith('.json') || n.includes('.checkpoint.'))) tables.push({ name: `${layer}.${dataset}`, tableRoot, layer, dataset });
    }
  }
  return tables.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

interface DataFile {
  /** Relative to the table root, `/`-separated, decoded. */
  rel: string;
  full: string;
  size: number;
  mtimeMs: number;
}

/** A file or folder under the table root that vacuum leaves alone because the table does not own it. */
export interface IgnoredEntry {
  path: string;
  reason: string;
}

/**
 * The files a vacuum may consider, and the visible entries it will never touch. Candidates are
 * the regular files `ownershipOf` accepts (data-file names inside `column=value` folders of the
 * table's columns); hidden entries (`_delta_log`, `_change_data`, `.crc`, temp files) are skipped
 * silently; any other file, folder or symlink is reported as ignored, with the reason.
 */
async function listDataFiles(tableRoot: string, columns: ReadonlySet<string>): Promise<{ files: DataFile[]; ignored: IgnoredEntry[] }> {
  const files: DataFile[] = [];
  const ignored: IgnoredEntry[] = [];
  const hidden = (name: string): boolean => name.startsWith('.') || (name.startsWith('_') && !columns.has(name.split('=')[0]!));
  if (isRemote(tableRoot)) return listRemoteDataFiles(tableRoot, columns, hidden);
  async function walk(rel: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(path.join(tableRoot, rel), { withFileTypes: true });
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (hidden(entry.name)) continue;
      if (entry.isSymbolicLink()) {
        ignored.push({ path: childRel, reason: 'a symbolic link' });
      } else if (entry.isDirectory()) {
        const eq = entry.name.indexOf('=');
        if (eq > 0 && columns.has(entry.name.slice(0, eq))) await walk(childRel);
        else ignored.push({ path: `${childRel}/`, reason: 'not a partition folder of this table (column=value)' });
      } else if (entry.isFile()) {
        const ownership = ownershipOf(childRel, columns);
        if (!ownership.owned) {
          ignored.push({ path: childRel, reason: ownership.reason });
          continue;
        }
        const full = path.join(tableRoot, childRel);
        const stat = await lstat(full).catch((error: unknown) => {
          if (errnoCode(error) === 'ENOENT') return undefined;
          throw error;
        });
        if (stat?.isFile()) files.push({ rel: childRel, full, size: stat.size, mtimeMs: stat.mtimeMs });
      } else {
        ignored.push({ path: childRel, reason: 'not a regular file' });
      }
    }
  }
  await walk('');
  return { files, ignored: ignored.sort((a, b) => (a.path < b.path ? -1 : 1)) };
}

/**
 * `listDataFiles` on an object store (no folders, links or special files there): one recursive
 * listing, with the same rules per path — hidden segments skipped, every folder a partition folder
 * of the table's columns, every file one `ownershipOf` accepts; the rest reported as ignored.
 */
async function listRemoteDataFiles(tableRoot: string, columns: ReadonlySet<string>, hidden: (name: string) => boolean): Promise<{ files: DataFile[]; ignored: IgnoredEntry[] }> {
  const files: DataFile[] = [];
  const ignored = new Map<string, string>();
  for (const object of await listFilesRecursive(tableRoot)) {
    const parts = object.name.split('/');
    if (parts.some(hidden)) continue;
    const strange = parts.slice(0, -1).findIndex((folder) => {
      const eq = folder.indexOf('=');
      return !(eq > 0 && columns.has(folder.slice(0, eq)));
    });
    if (strange >= 0) {
      ignored.set(`${parts.slice(0, strange + 1).join('/')}/`, 'not a partition folder of this table (column=value)');
      continue;
    }
    const ownership = ownershipOf(object.name, columns);
    if (!ownership.owned) ignored.set(object.name, ownership.reason);
    else files.push({ rel: object.name, full: joinLocation(tableRoot, object.name), size: object.size, mtimeMs: object.mtimeMs });
  }
  return { files, ignored: [...ignored].map(([p, reason]) => ({ path: p, reason })).sort((a, b) => (a.path < b.path ? -1 : 1)) };
}

const TEMP_NAME = /^\.\d{20}\..+\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

/** The log's temp files (our put-if-absent's `.<20-digit name>.<uuid>.tmp`), the only files in `_delta_log` a vacuum removes besides log cleanup. */
async function listStaleTemps(tableRoot: string): Promise<DataFile[]> {
  const logRoot = joinLocation(tableRoot, LOG_DIR);
  const out: DataFile[] = [];
  if (isRemote(logRoot)) {
    // S3 puts leave no temp files; an interrupted conditional-put probe may leave one.
    for (const f of (await listEntries(logRoot)).files) if (TEMP_NAME.test(f.name)) out.push({ rel: `${LOG_DIR}/${f.name}`, full: joinLocation(logRoot, f.name), size: f.size, mtimeMs: f.mtimeMs });
    return out;
  }
  const names = await readdir(logRoot).catch(() => [] as string[]);
  for (const name of names.filter((n) => TEMP_NAME.test(n))) {
    const full = path.join(logRoot, name);
    const stat = await lstat(full).catch(() => undefined);
    if (stat?.isFile()) out.push({ rel: `${LOG_DIR}/${name}`, full, size: stat.size, mtimeMs: stat.mtimeMs });
  }
  return out;
}

/** Commit timestamps of every listed commit, ascending by version. */
async function commitTimes(tableRoot: string, listing: LogListing): Promise<{ version: number; timestamp: number }[]> {
  const versions = [...listing.commits.keys()].sort((a, b) => a - b);
  const out: { version: number; timestamp: number }[] = [];
  for (let i = 0; i < versions.length; i += 64) {
    const batch = versions.slice(i, i + 64);
    const stamps = await Promise.all(batch.map((v) => commitTimestamp(tableRoot, listing, v)));
    batch.forEach((version, j) => out.push({ version, timestamp: stamps[j] ?? 0 }));
  }
  return out;
}

/** The last version committed at or before `time`, clamped to the earliest version the log can rebuild. */
function versionAt(times: readonly { version: number; timestamp: number }[], time: number, earliest: number): number | undefined {
  let found: number | undefined;
  for (const t of times) if (t.timestamp <= time) found = t.version;
  return found === undefined ? undefined : Math.max(found, earliest);
}

/** Absolute paths of the files `actions` add, inside the table root. */
function addedPaths(tableRoot: string, actions: Awaited<ReturnType<typeof readCommit>>): string[] {
  return actions.flatMap((a) => (a.kind === 'add' && !isAbsoluteUri(a.add.path) ? [dataFilePath(tableRoot, a.add.path)] : []));
}

function retentionOf(snapshot: Snapshot, options: VacuumOptions): number {
  if (options.retentionHours !== undefined) {
    if (!Number.isFinite(options.retentionHours) || options.retentionHours < 0) {
      throw new LakeError('USAGE', `--retain-hours must be a non-negative number of hours, got ${options.retentionHours}`);
    }
    return options.retentionHours * 3_600_000;
  }
  return deletedFileRetentionMs(snapshot);
}

/**
 * Vacuums one table. Concurrency: the log is listed again just before deleting, and files added
 * by commits that landed meanwhile are kept. Writers' files are fresh (younger than any
 * retention of at least a few minutes), so they survive until their commit names them.
 */
export async function vacuumTable(lake: Lake, options: VacuumOptions): Promise<VacuumMetrics> {
  const { table } = options;
  const clock = options.clock ?? systemClock;
  const snapshot = await tableSnapshot(lake, table, { skipReadCheck: true });
  assertWritable(snapshot.protocol, snapshot.metadata, table.name);
  const retentionMs = retentionOf(snapshot, options);
  if (retentionMs < MIN_RETENTION_HOURS * 3_600_000 && !options.force) {
    throw new LakeError('USAGE', `${table.name}: a retention of ${retentionMs / 3_600_000} hour${retentionMs === 3_600_000 ? "" : "s"} is under the ${MIN_RETENTION_HOURS}-hour minimum; nothing was deleted`, {
      hint: 'Versions older than the retention lose their files and time travel to them fails. If that is intended (and no writer or reader is running on older versions), pass --force.',
      details: { retentionHours: retentionMs / 3_600_000 },
    });
  }
  const now = clock.now();
  const horizon = now - retentionMs;
  const listing = await listLog(table.tableRoot);
  const earliest = earliestVersion(listing) ?? 0;
  const times = await commitTimes(table.tableRoot, listing);
  const oldestRetained = Math.min(versionAt(times, horizon, earliest) ?? earliest, snapshot.version);

  // Every file a version inside the window references.
  const referenced = new Set<string>();
  const oldest = oldestRetained === snapshot.version ? snapshot : await tableSnapshot(lake, table, { version: oldestRetained, skipReadCheck: true });
  for (const file of oldest.files) if (!isAbsoluteUri(file.path)) referenced.add(dataFilePath(table.tableRoot, file.path));
  let seen = oldestRetained;
  const protectCommitsUpTo = async (latest: number): Promise<void> => {
    for (let v = seen + 1; v <= latest; v += 64) {
      const versions = Array.from({ length: Math.min(64, latest - v + 1) }, (_, i) => v + i);
      const commits = await Promise.all(versions.map((version) => readCommit(table.tableRoot, version)));
      for (const actions of commits) for (const p of addedPaths(table.tableRoot, actions)) referenced.add(p);
    }
    seen = Math.max(seen, latest);
  };
  await protectCommitsUpTo(snapshot.version);

  // Everything any commit still in the log ever added: to tell untracked files apart.
  const everAdded = new Set(referenced);
  const columns = new Set([...snapshot.schema.fields.map((f) => f.name), ...snapshot.partitionColumns]);
  const { files, ignored } = await listDataFiles(table.tableRoot, columns);
  let candidates = files.filter((f) => f.mtimeMs < horizon && !referenced.has(f.full));
  if (candidates.length > 0) {
    for (let v = earliest; v < oldestRetained; v++) {
      if (!listing.commits.has(v)) continue;
      for (const p of addedPaths(table.tableRoot, await readCommit(table.tableRoot, v))) everAdded.add(p);
    }
    // Commits that landed while we planned reference their files too.
    const relisted = await listLog(table.tableRoot);
    if ((relisted.maxCommit ?? seen) > seen) await protectCommitsUpTo(relisted.maxCommit!);
    candidates = candidates.filter((f) => !referenced.has(f.full));
  }

  // Temp files of commits and checkpoints a killed writer never linked (`.<name>.<uuid>.tmp`, written by putIfAbsent).
  const staleTemps = (await listStaleTemps(table.tableRoot)).filter((f) => f.mtimeMs < horizon);
  const deleted: DataFile[] = [];
  for (const file of [...staleTemps, ...candidates]) {
    if (deleted.length === Math.ceil(candidates.length / 2)) faultPoint('vacuum.midway');
    if (options.dryRun || (await deleteFile(file.full))) deleted.push(file);
  }
  const metrics: VacuumMetrics = {
    table: table.name,
    dryRun: options.dryRun ?? false,
    retentionHours: retentionMs / 3_600_000,
    horizon: new Date(horizon).toISOString(),
    version: snapshot.version,
    oldestRetainedVersion: oldestRetained,
    filesScanned: files.length,
    filesDeleted: deleted.length,
    bytesDeleted: deleted.reduce((n, f) => n + f.size, 0),
    untrackedFilesDeleted: deleted.filter((f) => !everAdded.has(f.full) && !f.rel.startsWith(`${LOG_DIR}/`)).length,
    deleted: deleted.map((f) => f.rel).sort(),
    deletedFiles: deleted
      .map((f) => ({ path: f.rel, bytes: f.size, reason: f.rel.startsWith(`${LOG_DIR}/`) ? ('stale-temp' as const) : everAdded.has(f.full) ? ('expired' as const) : ('untracked' as const) }))
      .sort((a, b) => (a.path < b.path ? -1 : 1)),
    ignored,
    logFilesDeleted: 0,
    logBytesDeleted: 0,
    logDeleted: [],
    earliestVersion: earliest,
  };
  if (options.logCleanup) await cleanupLog(lake, snapshot, listing, times, Math.min(oldestRetained, snapshot.version), now, metrics);
  logger().info({ table: table.name, dryRun: metrics.dryRun, files: metrics.filesDeleted, bytes: metrics.bytesDeleted, logFiles: metrics.logFilesDeleted }, 'vacuum finished');
  return metrics;
}

/**
 * Log cleanup (PROTOCOL.md "Metadata Cleanup"): finds the newest checkpoint C at or before both
 * the version current at `now - delta.logRetentionDuration` and the oldest version whose data
 * vacuum keeps, checks that C reads, then removes the commits, checkpoints, checksums and
 * compacted files of versions before C, oldest first. Every version from C on stays readable.
 */
async function cleanupLog(
  lake: Lake,
  snapshot: Snapshot,
  listing: LogListing,
  times: readonly { version: number; timestamp: number }[],
  oldestRetained: number,
  now: number,
  metrics: VacuumMetrics,
): Promise<void> {
  const text = snapshot.metadata.configuration['delta.logRetentionDuration'] ?? DEFAULT_LOG_RETENTION;
  const retentionMs = parseIntervalMs(text);
  if (retentionMs === undefined) {
    throw new LakeError('USAGE', `${snapshot.table}: table property delta.logRetentionDuration = '${text}' is not a duration`, {
      hint: "Set it to a value like 'interval 30 days'.",
    });
  }
  const earliest = earliestVersion(listing) ?? 0;
  const atCutoff = versionAt(times, now - retentionMs, earliest);
  if (atCutoff === undefined) return;
  const keepFrom = Math.min(atCutoff, oldestRetained);
  const checkpoint = [...listing.checkpoints.keys()].filter((v) => v <= keepFrom).sort((a, b) => b - a)[0];
  if (checkpoint === undefined || checkpoint <= earliest) return;
  // The checkpoint must hold a whole table state before anything older goes.
  const files = listing.checkpoints.get(checkpoint)!.names.map((n) => joinLocation(listing.logRoot, n));
  const actions = await lake.checkpoints.readCheckpoint(files).catch(() => []);
  if (!actions.some((a) => a.kind === 'protocol') || !actions.some((a) => a.kind === 'metaData')) {
    logger().warn({ table: snapshot.table, checkpoint }, 'checkpoint unreadable, log cleanup skipped');
    return;
  }
  const entries = await listNames(listing.logRoot);
  const doomed: { name: string; version: number }[] = [];
  for (const name of entries) {
    const m = /^(\d{20})\.(?:(\d{20})\.compacted\.json|json|crc|checkpoint\..*parquet|checkpoint\..*json)$/.exec(name);
    if (!m) continue;
    const last = Number(m[2] ?? m[1]);
    if (last < checkpoint) doomed.push({ name, version: Number(m[1]) });
  }
  doomed.sort((a, b) => a.version - b.version || (a.name < b.name ? -1 : 1));
  for (const { name } of doomed) {
    const full = joinLocation(listing.logRoot, name);
    const size = (await statIfExists(full).catch(() => undefined))?.size ?? 0;
    if (metrics.dryRun || (await deleteFile(full))) {
      metrics.logDeleted.push(name);
      metrics.logFilesDeleted++;
      metrics.logBytesDeleted += size;
    }
  }
  metrics.earliestVersion = checkpoint;
}

/** Vacuums each table in turn (all tables under the lake root when none are given). */
export async function vacuumTables(lake: Lake, tables: TableRef[] | undefined, options: Omit<VacuumOptions, 'table'>): Promise<VacuumMetrics[]> {
  const list = tables ?? (await listLakeTables(lake));
  const out: VacuumMetrics[] = [];
  for (const table of list) out.push(await vacuumTable(lake, { ...options, table }));
  return out;
}
