import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { ENGINE_INFO, LakeError, errnoCode, logger } from '../core/index.js';
import { isRemote, listNames, relativeLocation } from '../storage/index.js';
import {
  assertWritable,
  commitWithRetry,
  conflictError,
  fileKey,
  writerFeatures,
  readerFeatures,
  type Action,
  type AddAction,
  type CommitInfoAction,
  type MetadataAction,
  type ProtocolAction,
  type Snapshot,
} from '../delta/index.js';
import { dataFilePath } from '../engine/index.js';
import { tableSnapshot, type Lake, type TableRef } from './lake.js';
import { checkpointAfterCommit, removeFor } from './write.js';

/**
 * RESTORE (Delta's `RESTORE TABLE … TO VERSION AS OF n`): one new commit whose snapshot equals
 * version n. Files active at n but not now are re-added, files active now but not at n are
 * removed (both with `dataChange: true`), and metaData/protocol are written when they differ
 * (the protocol is never downgraded: a restore keeps every feature the table has now). Nothing
 * is rewritten: a restore needs every data file of version n still on disk, and refuses with
 * DATA_FILE_MISSING when VACUUM removed one.
 */
export interface RestoreOptions {
  table: TableRef;
  /** Exactly one of version or timestamp (ms since the epoch; the last version committed at or before it). */
  version?: number;
  timestamp?: number;
  dryRun?: boolean;
  /** Extra top-level commitInfo fields (rollback records run_id and rollback_of_run). */
  commitMetadata?: Record<string, unknown>;
  maxAttempts?: number;
  now?: () => number;
}

/** The metrics Delta's RESTORE records in `operationMetrics` (as strings there). */
export interface RestoreMetrics {
  numRestoredFiles: number;
  numRemovedFiles: number;
  restoredFilesSize: number;
  removedFilesSize: number;
  numOfFilesAfterRestore: number;
  tableSizeAfterRestore: number;
}

export interface RestoreResult {
  /** `committed`: a new version; `noop`: the latest version already equals the target; `dry-run`: the plan only. */
  status: 'committed' | 'noop' | 'dry-run';
  table: string;
  /** The version the restore read (the latest before it). */
  readVersion: number;
  /** The version restored to. */
  restoredVersion: number;
  /** The new version, when committed. */
  version?: number;
  metadataChanged: boolean;
  protocolChanged: boolean;
  metrics: RestoreMetrics;
}

/** What a restore of `current` to `target` changes; pure. */
export interface RestorePlan {
  toAdd: AddAction[];
  toRemove: AddAction[];
  metadata: MetadataAction | undefined;
  protocol: ProtocolAction | undefined;
  metrics: RestoreMetrics;
}

/** JSON with object keys sorted and null/undefined members dropped: checkpoints and commits spell the same action differently. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== null && v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** Component-wise maximum of two protocols: a restore never takes a feature away. */
export function mergedProtocol(current: ProtocolAction, target: ProtocolAction): ProtocolAction {
  const protocol: ProtocolAction = {
    minReaderVersion: Math.max(current.minReaderVersion, target.minReaderVersion),
    minWriterVersion: Math.max(current.minWriterVersion, target.minWriterVersion),
  };
  if (protocol.minReaderVersion >= 3) protocol.readerFeatures = [...new Set([...readerFeatures(current), ...readerFeatures(target)])].sort();
  if (protocol.minWriterVersion >= 7) protocol.writerFeatures = [...new Set([...writerFeatures(current), ...writerFeatures(target)])].sort();
  return protocol;
}

export function planRestore(current: Snapshot, target: Snapshot): RestorePlan {
  const now = new Map(current.files.map((f) => [fileKey(f), f]));
  const then = new Map(target.files.map((f) => [fileKey(f), f]));
  const toAdd = [...then.entries()].filter(([k]) => !now.has(k)).map(([, f]) => f);
  const toRemove = [...now.entries()].filter(([k]) => !then.has(k)).map(([, f]) => f);
  const protocol = mergedProtocol(current.protocol, target.protocol);
  const size = (files: readonly AddAction[]): number => files.reduce((n, f) => n + f.size, 0);
  return {
    toAdd,
    toRemove,
    metadata: sameJson(current.metadata, target.metadata) ? undefined : target.metadata,
    protocol: sameJson(protocol, current.protocol) ? undefined : protocol,
    metrics: {
      numRestoredFiles: toAdd.length,
      numRemovedFiles: toRemove.length,
      restoredFilesSize: size(toAdd),
      removedFilesSize: size(toRemove),
      numOfFilesAfterRestore: target.files.length,
      tableSizeAfterRestore: size(target.files),
    },
  };
}

/** Fails with DATA_FILE_MISSING naming the first file of `files` that is not on disk. */
export async function assertDataFilesPresent(snapshot: Snapshot, files: readonly AddAction[], restoredVersion: number): Promise<void> {
  const byDir = new Map<string, string[]>();
  for (const file of files) {
    const full = dataFilePath(snapshot.tableRoot, file.path);
    const list = byDir.get(path.dirname(full)) ?? [];
    list.push(full);
    byDir.set(path.dirname(full), list);
  }
  const missing: string[] = [];
  for (const [dir, list] of byDir) {
    let present: Set<string>;
    try {
      present = new Set(isRemote(dir) ? await listNames(dir) : await readdir(dir));
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT' && errnoCode(error) !== 'ENOTDIR') throw error;
      present = new Set();
    }
    for (const full of list) if (!present.has(path.basename(full))) missing.push(full);
  }
  if (missing.length === 0) return;
  missing.sort();
  const first = relativeLocation(snapshot.tableRoot, missing[0]!);
  throw new LakeError(
    'DATA_FILE_MISSING',
    `${snapshot.table}: cannot restore version ${restoredVersion}: its data file ${first} was removed (VACUUM)${missing.length > 1 ? ` and ${missing.length - 1} more` : ''}; nothing was committed`,
    {
      hint: 'Restore a later version whose files are still present (`lake history <table>`, then try `lake restore --dry-run`), or re-ingest the data.',
      details: { file: missing[0], missing: missing.length, version: restoredVersion },
    },
  );
}

function metricStrings(metrics: RestoreMetrics): Record<string, string> {
  return Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, String(v)]));
}

/**
 * Restores `options.table` to a version (or the version current at a timestamp) as one commit.
 * Conflicts (another writer changed data meanwhile) end with DELTA_COMMIT_CONFLICT and nothing
 * committed: the restore is not recomputed against the newer version, whose changes the user
 * has not seen.
 */
export async function restoreTable(lake: Lake, options: RestoreOptions): Promise<RestoreResult> {
  const table = options.table.name;
  if ((options.version === undefined) === (options.timestamp === undefined)) {
    throw new LakeError('USAGE', `restore of ${table} needs exactly one of a version or a timestamp`, { hint: 'Pass --version n or --timestamp t.' });
  }
  const current = await tableSnapshot(lake, options.table);
  const target = await tableSnapshot(lake, options.table, options.version !== undefined ? { version: options.version } : { timestamp: options.timestamp });
  const operationParameters: Record<string, string> = { version: String(target.version) };
  if (options.timestamp !== undefined) operationParameters['timestamp'] = new Date(options.timestamp).toISOString();
  return applyRestore(lake, options, current, target, { operation: 'RESTORE', operationParameters });
}

/**
 * Commits `current` → `target` (any snapshot of the same table; rollback passes an empty one to
 * undo the table's creation). The shared core of restore and rollback.
 */
export async function applyRestore(
  lake: Lake,
  options: Omit<RestoreOptions, 'version' | 'timestamp'>,
  current: Snapshot,
  target: Snapshot,
  op: { operation: string; operationParameters: Record<string, string> },
): Promise<RestoreResult> {
  const table = options.table.name;
  const now = options.now ?? Date.now;
  assertWritable(current.protocol, current.metadata, table);
  const plan = planRestore(current, target);
  assertWritable(plan.protocol ?? current.protocol, plan.metadata ?? current.metadata, table);
  const base = {
    table,
    readVersion: current.version,
    restoredVersion: target.version,
    metadataChanged: plan.metadata !== undefined,
    protocolChanged: plan.protocol !== undefined,
    metrics: plan.metrics,
  };
  await assertDataFilesPresent(current, plan.toAdd, target.version);
  if (plan.toAdd.length === 0 && plan.toRemove.length === 0 && !plan.metadata && !plan.protocol) return { status: 'noop', ...base };
  if (options.dryRun) return { status: 'dry-run', ...base };

  const deletionTimestamp = now();
  const actions: Action[] = [];
  if (plan.protocol) actions.push({ kind: 'protocol', protocol: plan.protocol });
  if (plan.metadata) actions.push({ kind: 'metaData', metaData: plan.metadata });
  for (const file of plan.toRemove) actions.push({ kind: 'remove', remove: removeFor(file, deletionTimestamp) });
  for (const file of plan.toAdd) actions.push({ kind: 'add', add: { ...file, dataChange: true } });
  const commitInfo: CommitInfoAction = {
    timestamp: now(),
    operation: op.operation,
    operationParameters: op.operationParameters,
    isBlindAppend: false,
    engineInfo: ENGINE_INFO,
    operationMetrics: metricStrings(plan.metrics),
    ...(options.commitMetadata ?? {}),
  };
  const outcome = await commitWithRetry({
    tableRoot: options.table.tableRoot,
    table,
    readVersion: current.version,
    actions,
    commitInfo,
    isolation: plan.metadata || plan.protocol ? { kind: 'metadata' } : { kind: 'overwrite' },
    maxAttempts: options.maxAttempts,
  });
  if (outcome.status === 'conflict') throw conflictError(table, outcome);
  logger().info({ table, version: outcome.version, restoredVersion: target.version, ...plan.metrics }, 'table restored');
  // The same checkpoint cadence as writes (`delta.checkpointInterval`, default 100); never fails the restore.
  await checkpointAfterCommit(lake, options.table, outcome.version, plan.metadata ?? current.metadata, now());
  return { status: 'committed', version: outcome.version, ...base };
}
