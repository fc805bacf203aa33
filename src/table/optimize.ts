import { ENGINE_INFO, LakeError, asDiskFull, logger } from '../core/index.js';
import {
  assertWritable,
  partitionKey,
  filesNumRecords,
  type AddAction,
  type CommitInfoAction,
  type Snapshot,
} from '../delta/index.js';
import { filesFor, ident, partitionValueSql } from '../engine/index.js';
import { tableSnapshot, type Lake, type TableRef } from './lake.js';
import { rewritePartitionFiles, tableDescription, type WriteAttempt } from './write-attempt.js';
import { commitRewrite } from './write.js';

/**
 * OPTIMIZE (bin-packing compaction, as delta-rs and Spark do it): in every partition, the files
 * smaller than the target size are read, sorted by `sortBy`, and rewritten as files near the
 * target size (and within `maxRowsPerFile`), in ONE commit per table whose adds and removes carry
 * `dataChange: false`, so readers and streaming consumers see a rewrite, not new data. A
 * partition is left alone when rewriting would not lower its file count (one small file, or
 * files already as few as the limits allow). Rows are unchanged: the new files hold exactly the
 * rows of the files they replace. Conflict rule (`Isolation` `rewrite`): only a concurrent
 * commit that removed one of the rewritten files (or changed metadata/protocol) conflicts; a
 * concurrent append goes through.
 */
export const DEFAULT_TARGET_FILE_BYTES = 128 * 1024 * 1024;

export interface OptimizeOptions {
  table: TableRef;
  /** A SQL predicate over partition columns only: the partitions to consider (default all). */
  where?: string;
  /** Target file size in bytes (default `delta.targetFileSize`, else DEFAULT_TARGET_FILE_BYTES). */
  targetFileBytes?: number;
  /** Rows are sorted by these columns in the new files (the catalog's `sort_by`). */
  sortBy?: string[];
  maxRowsPerFile?: number;
  rowGroupSize?: number;
  /** Row-group size in bytes (`row_group_mb`), a row count from the measured bytes per row. */
  rowGroupBytes?: number;
  compression?: string;
  dryRun?: boolean;
  /** Caller metadata recorded at the top level of commitInfo (run_id, …). */
  commitMetadata?: Record<string, unknown>;
  maxAttempts?: number;
  now?: () => number;
  /** Called once the new files are written, just before the commit (tests commit concurrently here). */
  beforeCommit?: () => Promise<void>;
}

export interface OptimizePartition {
  partition: Record<string, string | null>;
  filesRemoved: number;
  bytesRemoved: number;
  /** Files written (planned, in a dry run). */
  filesAdded: number;
  /** Bytes written; undefined in a dry run. */
  bytesAdded: number | undefined;
  rows: number | undefined;
}

/** delta-rs `MetricDetails`: sizes of the files added or removed. */
export interface FileSizeMetrics {
  avg: number;
  max: number;
  min: number;
  totalFiles: number;
  totalSize: number;
}

export interface OptimizeMetrics {
  table: string;
  /** committed | noop (nothing worth rewriting) | dry-run. */
  status: 'committed' | 'noop' | 'dry-run';
  readVersion: number;
  version: number | undefined;
  targetFileBytes: number;
  sortBy: string[];
  predicate: string | undefined;
  numFilesAdded: number;
  numFilesRemoved: number;
  numBytesAdded: number;
  numBytesRemoved: number;
  filesAdded: FileSizeMetrics;
  filesRemoved: FileSizeMetrics;
  partitionsOptimized: number;
  totalConsideredFiles: number;
  totalFilesSkipped: number;
  partitions: OptimizePartition[];
  attempts: number;
  checkpointed: boolean;
}

interface PartitionPlan {
  values: Record<string, string | null>;
  files: AddAction[];
  rows: number | undefined;
  bytes: number;
  plannedFiles: number;
}

/** The table property `delta.targetFileSize` (bytes), when set to a positive number. */
function tableTargetSize(snapshot: Snapshot): number | undefined {
  const raw = snapshot.metadata.configuration['delta.targetFileSize'];
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

function sizeMetrics(sizes: readonly number[]): FileSizeMetrics {
  const totalSize = sizes.reduce((a, b) => a + b, 0);
  return {
    avg: sizes.length > 0 ? totalSize / sizes.length : 0,
    max: sizes.length > 0 ? Math.max(...sizes) : 0,
    min: sizes.length > 0 ? Math.min(...sizes) : 0,
    totalFiles: sizes.length,
    totalSize,
  };
}

/** Partition keys (of `partitionKey`) that satisfy `where`, judged by DuckDB over the typed partition values. */
async function partitionsMatching(lake: Lake, snapshot: Snapshot, groups: Map<string, Record<string, string | null>>, where: string): Promise<Set<string>> {
  const table = snapshot.table;
  if (snapshot.partitionColumns.length === 0) {
    throw new LakeError('USAGE', `${table} is not partitioned; --where selects partitions`, { hint: 'Leave out --where to optimize the whole table.' });
  }
  if (groups.size === 0) return new Set();
  const fields = snapshot.partitionColumns.map((c) => snapshot.schema.fields.find((f) => f.name === c)!);
  const keys = [...groups.keys()];
  const rows = keys.map((key, i) => `(${[String(i), ...fields.map((f) => partitionValueSql(groups.get(key)![f.name] ?? null, f.type))].join(', ')})`);
  const sql = `SELECT __gid FROM (VALUES ${rows.join(', ')}) AS __parts(__gid, ${fields.map((f) => ident(f.name)).join(', ')}) WHERE (${where})`;
  const kept = await lake.engine.rows<{ __gid: number }>(sql).catch((cause: unknown) => {
    throw new LakeError('USAGE', `${table}: --where ${JSON.stringify(where)} is not a predicate over the partition columns (${snapshot.partitionColumns.join(', ')}): ${cause instanceof Error ? cause.message.replace(/^DuckDB: /, '') : String(cause)}`, {
      cause,
      hint: `Name only partition columns, e.g. --where "${snapshot.partitionColumns[0]} = ..."`,
    });
  });
  return new Set(kept.map((r) => keys[Number(r.__gid)]!));
}

/** Which partitions to rewrite, and which files of them; pure apart from evaluating `where`. */
async function planOptimize(lake: Lake, snapshot: Snapshot, options: OptimizeOptions, target: number): Promise<{ plans: PartitionPlan[]; considered: number; skipped: number }> {
  const columns = snapshot.partitionColumns;
  const groups = new Map<string, { values: Record<string, string | null>; files: AddAction[] }>();
  for (const file of snapshot.files) {
    const key = partitionKey(columns, file.partitionValues);
    const group = groups.get(key) ?? { values: Object.fromEntries(columns.map((c) => [c, file.partitionValues[c] ?? null])), files: [] };
    group.files.push(file);
    groups.set(key, group);
  }
  const selected = options.where === undefined ? undefined : await partitionsMatching(lake, snapshot, new Map([...groups].map(([k, g]) => [k, g.values])), options.where);
  const plans: PartitionPlan[] = [];
  let considered = 0;
  let skipped = 0;
  for (const [key, group] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (selected && !selected.has(key)) continue;
    considered += group.files.length;
    const small = group.files.filter((f) => f.size < target);
    if (small.some((f) => f.deletionVector)) {
      throw new LakeError('DELTA_WRITE_UNSUPPORTED', `${snapshot.table}: partition ${key} has files with deletion vectors, which OPTIMIZE cannot rewrite here; nothing was written`, {
        hint: 'Optimize this table with delta-rs or Spark.',
      });
    }
    const rows = filesNumRecords(small);
    const bytes = small.reduce((n, f) => n + f.size, 0);
    const bytesPerRow = rows === undefined || rows === 0 ? undefined : bytes / rows;
    const plannedFiles = rows === undefined ? Math.max(1, Math.round(bytes / target)) : filesFor(rows, { maxRowsPerFile: options.maxRowsPerFile, targetFileBytes: target, bytesPerRow });
    if (small.length < 2 || plannedFiles >= small.length) {
      skipped += group.files.length;
      continue;
    }
    skipped += group.files.length - small.length;
    plans.push({ values: group.values, files: small, rows, bytes, plannedFiles });
  }
  return { plans, considered, skipped };
}

/** Optimizes one table: plan → rewrite (each partition's files written once) → one commit. */
export async function optimizeTable(lake: Lake, options: OptimizeOptions): Promise<OptimizeMetrics> {
  const { table } = options;
  const now = options.now ?? Date.now;
  const snapshot = await tableSnapshot(lake, table);
  assertWritable(snapshot.protocol, snapshot.metadata, table.name);
  const target = options.targetFileBytes ?? tableTargetSize(snapshot) ?? DEFAULT_TARGET_FILE_BYTES;
  if (!Number.isFinite(target) || target <= 0) throw new LakeError('USAGE', `the target file size must be a positive number of bytes, got ${target}`);
  const sortBy = options.sortBy ?? [];
  const unknown = sortBy.filter((c) => !snapshot.schema.fields.some((f) => f.name === c));
  if (unknown.length > 0) {
    throw new LakeError('USAGE', `${table.name}: cannot sort by ${unknown.join(', ')}: not a column of the table`, { hint: `Columns: ${snapshot.schema.fields.map((f) => f.name).join(', ')}` });
  }
  const { plans, considered, skipped } = await planOptimize(lake, snapshot, options, target);
  const base = { table: table.name, readVersion: snapshot.version, targetFileBytes: target, sortBy, predicate: options.where, totalConsideredFiles: considered, totalFilesSkipped: skipped };
  const removedFiles = plans.flatMap((p) => p.files);
  if (plans.length === 0 || options.dryRun) {
    return {
      ...base,
      status: plans.length === 0 ? 'noop' : 'dry-run',
      version: undefined,
      numFilesAdded: plans.reduce((n, p) => n + p.plannedFiles, 0),
      numFilesRemoved: removedFiles.length,
      numBytesAdded: 0,
      numBytesRemoved: removedFiles.reduce((n, f) => n + f.size, 0),
      filesAdded: sizeMetrics([]),
      filesRemoved: sizeMetrics(removedFiles.map((f) => f.size)),
      partitionsOptimized: plans.length,
      partitions: plans.map((p) => ({ partition: p.values, filesRemoved: p.files.length, bytesRemoved: p.bytes, filesAdded: p.plannedFiles, bytesAdded: undefined, rows: p.rows })),
      attempts: 0,
      checkpointed: false,
    };
  }

  const attempts: WriteAttempt[] = [];
  try {
    const written: { plan: PartitionPlan; adds: AddAction[] }[] = [];
    const layout = { sortBy, maxRowsPerFile: options.maxRowsPerFile, targetFileBytes: target, rowGroupBytes: options.rowGroupBytes, rowGroupSize: options.rowGroupSize, compression: options.compression };
    for (const plan of plans) {
      const label = partitionKey(snapshot.partitionColumns, plan.values);
      const attempt = await rewritePartitionFiles(lake, table, snapshot, { files: plan.files, partition: plan.values, label, expectedRows: plan.rows, layout, now: now() });
      attempts.push(attempt);
      written.push({ plan, adds: attempt.adds });
    }
    await options.beforeCommit?.();
    return await commitOptimize(lake, options, snapshot, written, base);
  } catch (error) {
    for (const attempt of attempts) await attempt.discard();
    throw asDiskFull(error, tableDescription(table));
  }
}

async function commitOptimize(
  lake: Lake,
  options: OptimizeOptions,
  snapshot: Snapshot,
  written: { plan: PartitionPlan; adds: AddAction[] }[],
  base: Pick<OptimizeMetrics, 'table' | 'readVersion' | 'targetFileBytes' | 'sortBy' | 'predicate' | 'totalConsideredFiles' | 'totalFilesSkipped'>,
): Promise<OptimizeMetrics> {
  const { table } = options;
  const now = options.now ?? Date.now;
  const deletionTimestamp = now();
  const removed = written.flatMap((w) => w.plan.files);
  const added = written.flatMap((w) => w.adds);
  const filesAdded = sizeMetrics(added.map((a) => a.size));
  const filesRemoved = sizeMetrics(removed.map((f) => f.size));
  const commitInfo: CommitInfoAction = {
    timestamp: now(),
    operation: 'OPTIMIZE',
    operationParameters: {
      predicate: JSON.stringify(base.predicate === undefined ? [] : [base.predicate]),
      targetSize: String(base.targetFileBytes),
      zOrderBy: '[]',
      sortBy: JSON.stringify(base.sortBy),
      ...(options.maxRowsPerFile !== undefined ? { maxRowsPerFile: String(options.maxRowsPerFile) } : {}),
    },
    isBlindAppend: false,
    engineInfo: ENGINE_INFO,
    operationMetrics: {
      numFilesAdded: String(added.length),
      numFilesRemoved: String(removed.length),
      numAddedFiles: String(added.length),
      numRemovedFiles: String(removed.length),
      numAddedBytes: String(filesAdded.totalSize),
      numRemovedBytes: String(filesRemoved.totalSize),
      filesAdded: JSON.stringify(filesAdded),
      filesRemoved: JSON.stringify(filesRemoved),
      partitionsOptimized: String(written.length),
      numBatches: String(written.length),
      totalConsideredFiles: String(base.totalConsideredFiles),
      totalFilesSkipped: String(base.totalFilesSkipped),
      preserveInsertionOrder: 'false',
    },
    ...(options.commitMetadata ?? {}),
  };
  const outcome = await commitRewrite(lake, table, snapshot, { removed, added, deletionTimestamp, commitInfo, maxAttempts: options.maxAttempts });
  logger().info({ table: table.name, version: outcome.version, filesRemoved: removed.length, filesAdded: added.length }, 'optimize committed');
  return {
    ...base,
    status: 'committed',
    version: outcome.version,
    numFilesAdded: added.length,
    numFilesRemoved: removed.length,
    numBytesAdded: filesAdded.totalSize,
    numBytesRemoved: filesRemoved.totalSize,
    filesAdded,
    filesRemoved,
    partitionsOptimized: written.length,
    partitions: written.map((w) => ({
      partition: w.plan.values,
      filesRemoved: w.plan.files.length,
      bytesRemoved: w.plan.bytes,
      filesAdded: w.adds.length,
      bytesAdded: w.adds.reduce((n, a) => n + a.size, 0),
      rows: filesNumRecords(w.adds),
    })),
    attempts: outcome.attempts,
    checkpointed: outcome.checkpointed,
  };
}
