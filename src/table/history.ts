import { commitInfoOf, commitInfoTime, commitMtime, listLog, readCommit, partitionKey, statsNumRecords, type Action, type DeletionVectorDescriptor, type RemoveAction } from '../delta/index.js';
import { tableSnapshot, type Lake, type TableRef } from './lake.js';

export interface HistoryEntry {
  version: number;
  /** Commit time in ms: commitInfo.inCommitTimestamp, else commitInfo.timestamp, else the commit file's mtime. */
  timestamp: number;
  operation: string | undefined;
  operationParameters: Record<string, unknown>;
  runId: string | undefined;
  engineInfo: string | undefined;
  filesAdded: number;
  filesRemoved: number;
  /** Rows the commit made visible: live rows of added files; for a file re-added with a new deletion vector, the rows it restores. */
  rowsAdded: number | undefined;
  /** Rows the commit hid: live rows of removed files; for a file re-added with a new deletion vector, the rows it deletes. */
  rowsRemoved: number | undefined;
  /** Partitions (as JSON arrays of values) whose files the commit added or removed. */
  partitions: string[];
  commitInfo: Record<string, unknown> | undefined;
}

/** Live rows of a file: its `numRecords` less the rows its deletion vector deletes. */
function liveRows(numRecords: number | undefined, dv: DeletionVectorDescriptor | null | undefined): number | undefined {
  return numRecords === undefined ? undefined : numRecords - (dv?.cardinality ?? 0);
}

function plus(total: number | undefined, n: number | undefined): number | undefined {
  return total === undefined || n === undefined ? undefined : total + n;
}

/**
 * One commit's history entry. `recordsOf` gives the row count of a file an earlier commit added,
 * for removes written without stats.
 */
export function summarizeCommit(
  version: number,
  actions: Action[],
  mtimeMs: number | undefined,
  partitionColumns: readonly string[],
  recordsOf?: (path: string) => number | undefined,
): HistoryEntry {
  const commitInfo = commitInfoOf(actions);
  let filesAdded = 0;
  let filesRemoved = 0;
  let rowsAdded: number | undefined = 0;
  let rowsRemoved: number | undefined = 0;
  const partitions = new Set<string>();
  // A file removed and added again in one commit had its deletion vector changed (DELETE, UPDATE
  // and MERGE with deletion vectors): only the rows the new vector deletes or restores count.
  const removed = new Map<string, RemoveAction>();
  for (const a of actions) if (a.kind === 'remove') removed.set(a.remove.path, a.remove);
  const readded = new Set<string>();
  for (const a of actions) {
    if (a.kind !== 'add') continue;
    filesAdded++;
    if (partitionColumns.length > 0) partitions.add(partitionKey(partitionColumns, a.add.partitionValues));
    const before = removed.get(a.add.path);
    if (before) {
      readded.add(a.add.path);
      const change = (a.add.deletionVector?.cardinality ?? 0) - (before.deletionVector?.cardinality ?? 0);
      rowsRemoved = plus(rowsRemoved, Math.max(0, change));
      rowsAdded = plus(rowsAdded, Math.max(0, -change));
    } else {
      rowsAdded = plus(rowsAdded, liveRows(statsNumRecords(a.add.stats), a.add.deletionVector));
    }
  }
  for (const a of actions) {
    if (a.kind !== 'remove') continue;
    filesRemoved++;
    if (partitionColumns.length > 0 && a.remove.partitionValues) partitions.add(partitionKey(partitionColumns, a.remove.partitionValues));
    if (readded.has(a.remove.path)) continue;
    rowsRemoved = plus(rowsRemoved, liveRows(statsNumRecords(a.remove.stats) ?? recordsOf?.(a.remove.path), a.remove.deletionVector));
  }
  const runId = commitInfo?.['run_id'];
  return {
    version,
    timestamp: commitInfoTime(commitInfo) ?? mtimeMs ?? 0,
    operation: commitInfo?.operation,
    operationParameters: commitInfo?.operationParameters ?? {},
    runId: typeof runId === 'string' ? runId : undefined,
    engineInfo: commitInfo?.engineInfo,
    filesAdded,
    filesRemoved,
    rowsAdded,
    rowsRemoved,
    partitions: [...partitions].sort(),
    commitInfo,
  };
}

/** The table's commits, newest first, read from the log alone (works on any Delta table). */
export async function tableHistory(lake: Lake, table: TableRef, options: { limit?: number } = {}): Promise<HistoryEntry[]> {
  const listing = await listLog(table.tableRoot);
  const versions = [...listing.commits.keys()].sort((a, b) => b - a).slice(0, options.limit ?? Infinity);
  // Partition columns before the oldest listed commit: from the snapshot just before it, if any.
  const oldest = versions[versions.length - 1];
  let partitionColumns: string[] = [];
  if (oldest !== undefined && oldest > (listing.minCommit ?? 0)) {
    partitionColumns = await tableSnapshot(lake, table, { version: oldest - 1, skipReadCheck: true })
      .then((s) => s.partitionColumns)
      .catch(() => []);
  }
  const entries: HistoryEntry[] = [];
  const commits = await Promise.all(versions.map((v) => readCommit(table.tableRoot, v)));
  // Oldest → newest: the partition columns as of each commit, and the row counts of files the
  // listed commits added (Spark's removes often carry no stats).
  const addedRecords = new Map<string, number>();
  for (let i = commits.length - 1; i >= 0; i--) {
    const actions = commits[i]!;
    const v = versions[i]!;
    for (const a of actions) if (a.kind === 'metaData') partitionColumns = a.metaData.partitionColumns;
    const hasTimestamp = actions.some((a) => a.kind === 'commitInfo' && commitInfoTime(a.commitInfo) !== undefined);
    entries.push(summarizeCommit(v, actions, hasTimestamp ? undefined : await commitMtime(table.tableRoot, v), partitionColumns, (p) => addedRecords.get(p)));
    for (const a of actions) {
      const n = a.kind === 'add' ? statsNumRecords(a.add.stats) : undefined;
      if (a.kind === 'add' && n !== undefined) addedRecords.set(a.add.path, n);
    }
  }
  entries.reverse();
  return entries;
}

/** What a walk back through the log needs of one commit (`commitsNewestFirst`). */
export interface CommitHead {
  version: number;
  commitInfo: Record<string, unknown> | undefined;
  operation: string | undefined;
  operationParameters: Record<string, unknown>;
  /** The commit adds or removes files. */
  changesFiles: boolean;
}

/**
 * The table's commits newest first, each read (without file stats) only when the walk gets to it:
 * for a walk that stops at the first commit it looks for (the newest promote or gold build behind
 * the current version), where `tableHistory` reads and summarizes the whole log.
 */
export async function* commitsNewestFirst(table: TableRef): AsyncGenerator<CommitHead> {
  const listing = await listLog(table.tableRoot);
  for (const version of [...listing.commits.keys()].sort((a, b) => b - a)) {
    const actions = await readCommit(table.tableRoot, version, { stats: false });
    const commitInfo = commitInfoOf(actions);
    yield {
      version,
      commitInfo,
      operation: commitInfo?.operation,
      operationParameters: commitInfo?.operationParameters ?? {},
      changesFiles: actions.some((a) => a.kind === 'add' || a.kind === 'remove'),
    };
  }
}

/**
 * The commits behind the table's current version, newest first (`commitsNewestFirst`): a RESTORE
 * is followed back to the version it restored (the commits it undid are passed over; the RESTORE
 * itself is not yielded), and a RESTORE whose version is not an integer ends the walk.
 */
export async function* commitsBehindCurrent(table: TableRef): AsyncGenerator<CommitHead> {
  let upTo = Infinity;
  for await (const entry of commitsNewestFirst(table)) {
    if (entry.version > upTo) continue;
    if (entry.operation === 'RESTORE') {
      upTo = Number(entry.operationParameters['version']);
      if (!Number.isInteger(upTo)) return;
      continue;
    }
    yield entry;
  }
}
