import { commitMtime, listLog, readCommit, partitionKey, statsNumRecords, type Action } from '../delta/index.js';
import { tableSnapshot, type Lake, type TableRef } from './lake.js';

export interface HistoryEntry {
  version: number;
  /** Commit time in ms: commitInfo.timestamp, else the commit file's mtime. */
  timestamp: number;
  operation: string | undefined;
  operationParameters: Record<string, unknown>;
  runId: string | undefined;
  engineInfo: string | undefined;
  filesAdded: number;
  filesRemoved: number;
  rowsAdded: number | undefined;
  rowsRemoved: number | undefined;
  /** Partitions (as JSON arrays of values) whose files the commit added or removed. */
  partitions: string[];
  commitInfo: Record<string, unknown> | undefined;
}

export function summarizeCommit(version: number, actions: Action[], mtimeMs: number | undefined, partitionColumns: readonly string[]): HistoryEntry {
  const info = actions.find((a) => a.kind === 'commitInfo');
  const commitInfo = info?.kind === 'commitInfo' ? info.commitInfo : undefined;
  let filesAdded = 0;
  let filesRemoved = 0;
  let rowsAdded: number | undefined = 0;
  let rowsRemoved: number | undefined = 0;
  const partitions = new Set<string>();
  for (const a of actions) {
    if (a.kind === 'add') {
      filesAdded++;
      const n = statsNumRecords(a.add.stats);
      rowsAdded = n === undefined || rowsAdded === undefined ? undefined : rowsAdded + n;
      if (partitionColumns.length > 0) partitions.add(partitionKey(partitionColumns, a.add.partitionValues));
    } else if (a.kind === 'remove') {
      filesRemoved++;
      const n = statsNumRecords(a.remove.stats);
      rowsRemoved = n === undefined || rowsRemoved === undefined ? undefined : rowsRemoved + n;
      if (partitionColumns.length > 0 && a.remove.partitionValues) partitions.add(partitionKey(partitionColumns, a.remove.partitionValues));
    }
  }
  const ts = commitInfo?.timestamp;
  const runId = commitInfo?.['run_id'];
  return {
    version,
    timestamp: typeof ts === 'number' ? ts : (mtimeMs ?? 0),
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
  // Partition columns as of each commit: scan oldest → newest for metaData actions.
  const columnsAt = new Map<number, string[]>();
  for (let i = commits.length - 1; i >= 0; i--) {
    for (const a of commits[i]!) if (a.kind === 'metaData') partitionColumns = a.metaData.partitionColumns;
    columnsAt.set(versions[i]!, partitionColumns);
  }
  for (const [i, v] of versions.entries()) {
    const actions = commits[i]!;
    const hasTimestamp = actions.some((a) => a.kind === 'commitInfo' && typeof a.commitInfo.timestamp === 'number');
    entries.push(summarizeCommit(v, actions, hasTimestamp ? undefined : await commitMtime(table.tableRoot, v), columnsAt.get(v) ?? []));
  }
  return entries;
}
