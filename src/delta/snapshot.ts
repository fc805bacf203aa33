/**
 * Snapshots (PROTOCOL.md "Action Reconciliation"): the state of a table at one version, rebuilt
 * from the newest usable checkpoint plus the commits after it. Checkpoint Parquet is read through
 * the `CheckpointReader` port; the log through `log.ts`.
 */
import { LakeError, isLakeError, logger } from '../core/index.js';
import { joinLocation } from '../storage/index.js';
import { commitInfoTime, type Action, type AddAction, type MetadataAction, type ProtocolAction, type RemoveAction } from './actions.js';
import { activeFiles, type AddColumns, type ColumnarCheckpoint } from './add-columns.js';
import { listLatestLog } from './last-checkpoint.js';
import { buildSegment, commitMtime, earliestVersion, latestVersion, listLog, logRootOf, readCommit, readCommitInfo, requireWholeListing, type LogListing, type LogSegment } from './log.js';
import { assertReadable } from './protocol.js';
import { applyActions, emptyReplayState, fileKey, requireTableState } from './replay.js';
import { parseSchemaString, type StructType } from './schema.js';

/** Reads checkpoint Parquet files into actions. Implemented by the engine (DuckDB); delta does no Parquet I/O. */
export interface CheckpointReader {
  /** `stats: false` may leave `stats` out of file actions (reads do not need them; they are most of the bytes). */
  readCheckpoint(files: string[], options?: { stats?: boolean }): Promise<Action[]>;
  /** The same, with the adds as columns (no object per file): snapshots use it when present. */
  readCheckpointColumns?(files: string[], options?: { stats?: boolean }): Promise<ColumnarCheckpoint>;
}

export interface Snapshot {
  tableRoot: string;
  /** How the table is named to the user (catalog name or path), for messages. */
  table: string;
  version: number;
  protocol: ProtocolAction;
  metadata: MetadataAction;
  schema: StructType;
  partitionColumns: string[];
  /** Active files, in no particular order. */
  files: AddAction[];
  tombstones: RemoveAction[];
  txns: Map<string, number>;
  /** False when file stats were not loaded (SnapshotOptions.stats false): never write such a snapshot back (checkpoints). */
  statsLoaded: boolean;
  /** The Parquet checkpoint files (parts and sidecars) the snapshot starts from: where stats left out by `stats: false` can be read back. */
  checkpointFiles?: string[];
  /** The JSON commits replayed without their file stats (`stats: false`): `commitStats` reads them back. */
  statsCommits?: number[];
}

export interface SnapshotOptions {
  version?: number;
  /** Milliseconds since the epoch: the last version committed at or before it (see `versionAtTimestamp`). */
  timestamp?: number;
  /** Skip the reader-feature check (history and vacuum read the log of any table). */
  skipReadCheck?: boolean;
  /**
   * Load per-file stats from checkpoints and commits (default true). Reads pass false: stats are
   * most of a checkpoint's and a commit's bytes; data skipping reads them back when a query needs
   * them (`checkpointFiles`, `commitStats`).
   */
  stats?: boolean;
  /**
   * A listing of the log the caller just took (`listLog`, or `listLatestLog` for the latest
   * version): saves listing it again. A partial one that cannot build the version is replaced by
   * the whole log.
   */
  listing?: LogListing;
}

/**
 * The snapshot at `options.version` / `options.timestamp`, or the latest. The latest lists the log
 * only from the checkpoint `_last_checkpoint` names on (`listLatestLog`); whenever that partial
 * listing cannot build the version (a checkpoint in it turned out unreadable, a commit after it is
 * missing) the whole log is listed and the load goes on from there, as it would have.
 */
export async function loadSnapshot(tableRoot: string, reader: CheckpointReader, options: SnapshotOptions = {}, table = tableRoot): Promise<Snapshot> {
  const latest = options.version === undefined && options.timestamp === undefined;
  let listing = options.listing ?? (latest ? await listLatestLog(tableRoot) : await listLog(tableRoot));
  if (listing.partial && options.timestamp !== undefined) listing = await listLog(tableRoot);
  let version = options.version;
  if (options.timestamp !== undefined) version = await versionAtTimestamp(tableRoot, listing, options.timestamp, table);
  const failed = new Set<number>();
  for (;;) {
    let segment: LogSegment;
    try {
      segment = buildSegment(listing, table, version, failed);
    } catch (error) {
      if (!listing.partial) throw error;
      listing = await listLog(tableRoot);
      continue;
    }
    try {
      return await replaySegment(tableRoot, table, segment, reader, options);
    } catch (error) {
      // A damaged checkpoint is skipped in favour of an older one (or full replay), as delta-rs does.
      if (segment.checkpoint && !isLakeError(error, 'DELTA_PROTOCOL_UNSUPPORTED') && !isLakeError(error, 'VERSION_NOT_FOUND')) {
        logger().warn({ table, checkpoint: segment.checkpoint.version, err: String(error) }, 'checkpoint unreadable, falling back');
        failed.add(segment.checkpoint.version);
        continue;
      }
      throw error;
    }
  }
}

async function replaySegment(tableRoot: string, table: string, segment: LogSegment, reader: CheckpointReader, options: SnapshotOptions): Promise<Snapshot> {
  const state = emptyReplayState();
  const logRoot = logRootOf(tableRoot);
  const checkpointFiles: string[] = [];
  // Checkpoint adds read column-wise stay columns: the commits after the checkpoint are replayed
  // on their own, noting every file key they touch, and `activeFiles` merges the two at the end.
  const columns: AddColumns[] = [];
  const touched = new Set<string>();
  // Commits are read (and parsed) a batch ahead, concurrently bounded: the first batch while the
  // checkpoint is read (DuckDB leaves the main thread idle), each next one while one is applied.
  const batch = 64;
  const commitOptions = { stats: options.stats ?? true };
  const readBatch = (i: number): Promise<Action[][]> => Promise.all(segment.commits.slice(i, i + batch).map((v) => readCommit(tableRoot, v, commitOptions)));
  let next = readBatch(0);
  // A checkpoint that fails to read is retried without these reads: their failure is not this one's.
  next.catch(() => undefined);
  if (segment.checkpoint) {
    const files = segment.checkpoint.names.map((n) => joinLocation(logRoot, n));
    const stats = { stats: options.stats ?? true };
    const read = async (list: string[]): Promise<Action[]> => {
      if (!reader.readCheckpointColumns) return reader.readCheckpoint(list, stats);
      const columnar = await reader.readCheckpointColumns(list, stats);
      columns.push(columnar.adds);
      return columnar.other;
    };
    let actions = await read(files);
    const sidecars = actions.flatMap((a) => (a.kind === 'sidecar' ? [joinLocation(logRoot, '_sidecars', decodeURIComponent(a.sidecar.path))] : []));
    if (sidecars.length > 0) actions = [...actions, ...(await read(sidecars))];
    checkpointFiles.push(...[...files, ...sidecars].filter((f) => !f.endsWith('.json')));
    applyActions(state, actions, segment.checkpoint.version);
  }
  // Apply in order.
  for (let i = 0; i < segment.commits.length; i += batch) {
    const versions = segment.commits.slice(i, i + batch);
    const commits = await next;
    if (i + batch < segment.commits.length) {
      next = readBatch(i + batch);
      next.catch(() => undefined);
    }
    commits.forEach((actions, j) => {
      if (columns.length > 0) for (const a of actions) if (a.kind === 'add' || a.kind === 'remove') touched.add(fileKey(a.kind === 'add' ? a.add : a.remove));
      applyActions(state, actions, versions[j]!);
    });
  }
  const { protocol, metadata } = requireTableState(state, table);
  if (!options.skipReadCheck) assertReadable(protocol, table);
  const schema = parseSchemaString(metadata.schemaString, table);
  return {
    tableRoot,
    table,
    version: segment.version,
    protocol,
    metadata,
    schema,
    partitionColumns: metadata.partitionColumns,
    files: activeFiles(columns, touched, state.files.values()),
    tombstones: [...state.tombstones.values()],
    txns: state.txns,
    statsLoaded: options.stats ?? true,
    ...(checkpointFiles.length > 0 ? { checkpointFiles } : {}),
    ...(options.stats === false && segment.commits.length > 0 ? { statsCommits: segment.commits } : {}),
  };
}

/** Read-back stats per `statsCommits` list: copies of a snapshot (`{ ...snapshot, files }`) share the list, so they share one read. */
const commitStatsRead = new WeakMap<readonly number[], Promise<Map<string, string>>>();

/**
 * The stats of the files the snapshot's JSON commits added, by `fileKey`, read back from the
 * commits `stats: false` replayed without them (the last add of a file wins, as in replay). Empty
 * when none were left out, or when the commits cannot be read any more (a file then has no stats
 * and is kept: skipping stays sound).
 */
export function commitStats(snapshot: Pick<Snapshot, 'tableRoot' | 'statsCommits'>): Promise<Map<string, string>> {
  const versions = snapshot.statsCommits;
  if (!versions || versions.length === 0) return Promise.resolve(new Map());
  let read = commitStatsRead.get(versions);
  if (!read) {
    read = (async () => {
      const stats = new Map<string, string>();
      const batch = 64;
      for (let i = 0; i < versions.length; i += batch) {
        const commits = await Promise.all(versions.slice(i, i + batch).map((v) => readCommit(snapshot.tableRoot, v)));
        for (const actions of commits) {
          for (const a of actions) {
            if (a.kind !== 'add') continue;
            if (typeof a.add.stats === 'string') stats.set(fileKey(a.add), a.add.stats);
            else stats.delete(fileKey(a.add));
          }
        }
      }
      return stats;
    })();
    commitStatsRead.set(versions, read);
    read.catch(() => commitStatsRead.delete(versions));
  }
  return read.catch(() => new Map<string, string>());
}

/** Commit timestamp of a version: `commitInfo.inCommitTimestamp`, else `commitInfo.timestamp`, else the commit file's mtime (PROTOCOL.md). */
export async function commitTimestamp(tableRoot: string, listing: LogListing, version: number): Promise<number | undefined> {
  if (!listing.commits.has(version)) return undefined;
  const ts = commitInfoTime(await readCommitInfo(tableRoot, version));
  return ts ?? commitMtime(tableRoot, version);
}

/**
 * Timestamp time travel: the last version whose commit timestamp (`commitTimestamp`) is ≤ T,
 * among the versions the log can still rebuild; TIMESTAMP_BEFORE_TABLE when there is none.
 */
export async function versionAtTimestamp(tableRoot: string, listing: LogListing, timestamp: number, table: string): Promise<number> {
  requireWholeListing(listing, 'versionAtTimestamp');
  const latest = latestVersion(listing);
  const earliest = earliestVersion(listing);
  if (latest === undefined || earliest === undefined) {
    throw new LakeError('TABLE_NOT_FOUND', `${table} is not a Delta table: no commits in ${listing.logRoot}`);
  }
  const versions = [...listing.commits.keys()].filter((v) => v >= earliest).sort((a, b) => a - b);
  const stamps = await Promise.all(versions.map((v) => commitTimestamp(tableRoot, listing, v)));
  let found: number | undefined;
  versions.forEach((v, i) => {
    const ts = stamps[i];
    if (ts !== undefined && ts <= timestamp) found = v;
  });
  if (found === undefined) {
    const first = stamps[0];
    throw new LakeError('TIMESTAMP_BEFORE_TABLE', `${table} has no version committed at or before ${new Date(timestamp).toISOString()}; its earliest available version ${versions[0] ?? earliest} was committed at ${first === undefined ? 'an unknown time' : new Date(first).toISOString()}`, {
      hint: 'Pick a later timestamp, or run `lake history <table>` to see commit times.',
    });
  }
  return found;
}
