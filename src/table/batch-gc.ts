import { ENGINE_INFO, LakeError, asDiskFull, logger } from '../core/index.js';
import {
  assertWritable,
  partitionKey,
  filesNumRecords,
  type AddAction,
  type CommitInfoAction,
  type Snapshot,
} from '../delta/index.js';
import { dataFilePath, ident, literal } from '../engine/index.js';
import { tableSnapshot, type Lake, type TableRef } from './lake.js';
import { rewritePartitionFiles, tableDescription, type WriteAttempt } from './write-attempt.js';
import { commitRewrite } from './write.js';

/**
 * Batches of an append-only table (docs/maintenance.md "Bronze garbage collection"): a batch is the rows of
 * one append, told apart by their `source` and `ingested_at` stamps (the identity the silver
 * dedupe orders by). `listBatches` reads which batches each current file holds (two columns of
 * every file); `removeBatches` removes the batches a caller chose, in ONE commit: a file holding
 * only dropped batches is removed, a file holding dropped and kept batches (an OPTIMIZE merged
 * them) is rewritten with the kept rows, and every other file stays. Adds and removes carry
 * `dataChange: false` with operation `BRONZE GC`; the conflict rule is OPTIMIZE's (`rewrite`):
 * only a concurrent commit that removed one of the files this one removes conflicts, so a batch
 * appended meanwhile goes through and is kept.
 */
export const BATCH_COLUMNS = ['source', 'ingested_at'] as const;
export const GC_OPERATION = 'BRONZE GC';

export interface Batch {
  /** `batchKey(source, ingestedAt)`. */
  key: string;
  source: string | null;
  /** `ingested_at` in epoch milliseconds. */
  ingestedAt: number | null;
  rows: number;
  runId: string | null;
  upstreamVersion: string | null;
  /** Paths (add.path) of the files holding rows of this batch. */
  files: string[];
}

export interface PartitionBatches {
  key: string;
  values: Record<string, string | null>;
  files: AddAction[];
  /** Oldest first (by ingested_at, then source). */
  batches: Batch[];
  /** add.path → the keys of the batches that file holds. */
  fileBatches: Map<string, string[]>;
}

export interface TableBatches {
  snapshot: Snapshot;
  partitions: PartitionBatches[];
}

export function batchKey(source: string | null, ingestedAt: number | null): string {
  return JSON.stringify([source, ingestedAt]);
}

function assertBatchTable(snapshot: Snapshot): void {
  const missing = BATCH_COLUMNS.filter((c) => !snapshot.schema.fields.some((f) => f.name === c));
  if (missing.length > 0) {
    throw new LakeError('USAGE', `${snapshot.table}: has no ${missing.join(', ')} column, so its batches cannot be told apart`, { hint: 'Garbage collection works on bronze tables (rows stamped with source and ingested_at).' });
  }
  if (snapshot.files.some((f) => f.deletionVector)) {
    throw new LakeError('DELTA_WRITE_UNSUPPORTED', `${snapshot.table}: has files with deletion vectors, which garbage collection cannot rewrite; nothing was written`, { hint: 'Rewrite the table with delta-rs or Spark first.' });
  }
}

/** The batches of every partition at the table's latest version (or `snapshot`). */
export async function listBatches(lake: Lake, table: TableRef, snapshot?: Snapshot): Promise<TableBatches> {
  const snap = snapshot ?? (await tableSnapshot(lake, table));
  assertBatchTable(snap);
  const columns = snap.partitionColumns;
  const byPath = new Map<string, AddAction>();
  const local = new Map<string, string>();
  for (const file of snap.files) {
    byPath.set(file.path, file);
    local.set(dataFilePath(snap.tableRoot, file.path), file.path);
  }
  const groups = new Map<string, PartitionBatches>();
  for (const file of snap.files) {
    const key = partitionKey(columns, file.partitionValues);
    const group: PartitionBatches = groups.get(key) ?? { key, values: Object.fromEntries(columns.map((c) => [c, file.partitionValues[c] ?? null])), files: [], batches: [], fileBatches: new Map() };
    group.files.push(file);
    groups.set(key, group);
  }
  if (snap.files.length > 0) {
    const has = (c: string): boolean => snap.schema.fields.some((f) => f.name === c);
    const extra = [has('run_id') ? 'min(CAST(run_id AS VARCHAR))' : 'NULL', has('upstream_version') ? 'min(CAST(upstream_version AS VARCHAR))' : 'NULL'];
    const sql = `SELECT filename AS file, CAST(${ident('source')} AS VARCHAR) AS source, epoch_ms(ingested_at) AS at, count(*) AS n, ${extra[0]} AS run_id, ${extra[1]} AS upstream_version
      FROM read_parquet([${[...local.keys()].map(literal).join(', ')}], filename = true, union_by_name = true) GROUP BY ALL`;
    const rows = await lake.engine.rows<{ file: string; source: string | null; at: bigint | number | null; n: bigint | number; run_id: string | null; upstream_version: string | null }>(sql);
    for (const row of rows) {
      const addPath = local.get(row.file);
      const file = addPath === undefined ? undefined : byPath.get(addPath);
      if (!file) throw new LakeError('INTERNAL', `${snap.table}: DuckDB named a file the log does not (${row.file})`);
      const group = groups.get(partitionKey(columns, file.partitionValues))!;
      const at = row.at === null ? null : Number(row.at);
      const key = batchKey(row.source, at);
      let batch = group.batches.find((b) => b.key === key);
      if (!batch) {
        batch = { key, source: row.source, ingestedAt: at, rows: 0, runId: row.run_id, upstreamVersion: row.upstream_version, files: [] };
        group.batches.push(batch);
      }
      batch.rows += Number(row.n);
      batch.files.push(file.path);
      group.fileBatches.set(file.path, [...(group.fileBatches.get(file.path) ?? []), key]);
    }
  }
  const order = (a: Batch, b: Batch): number => (a.ingestedAt ?? -Infinity) - (b.ingestedAt ?? -Infinity) || String(a.source).localeCompare(String(b.source));
  for (const g of groups.values()) g.batches.sort(order);
  return { snapshot: snap, partitions: [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) };
}

export interface RemoveBatchesOptions {
  table: TableRef;
  batches: TableBatches;
  /** Partition key → the keys of the batches to remove there. */
  drop: ReadonlyMap<string, ReadonlySet<string>>;
  /** Sort order of rewritten files (the catalog's sort_by). */
  sortBy?: string[];
  maxRowsPerFile?: number;
  rowGroupSize?: number;
  rowGroupBytes?: number;
  compression?: string;
  dryRun?: boolean;
  operationParameters?: Record<string, string>;
  /** Caller metadata recorded at the top level of commitInfo (run_id, what was removed and why). */
  commitMetadata?: Record<string, unknown>;
  maxAttempts?: number;
  now?: () => number;
  /** Called once the rewritten files are written, just before the commit (tests commit concurrently here). */
  beforeCommit?: () => Promise<void>;
}

export interface RemoveBatchesPartition {
  partition: Record<string, string | null>;
  batchesRemoved: number;
  rowsRemoved: number;
  filesRemoved: number;
  bytesRemoved: number;
  /** Files holding kept and removed batches, rewritten with the kept rows. */
  filesRewritten: number;
  filesAdded: number;
}

export interface RemoveBatchesResult {
  table: string;
  status: 'committed' | 'noop' | 'dry-run';
  readVersion: number;
  version: number | undefined;
  batchesRemoved: number;
  rowsRemoved: number;
  filesRemoved: number;
  bytesRemoved: number;
  filesRewritten: number;
  filesAdded: number;
  bytesAdded: number;
  partitions: RemoveBatchesPartition[];
  attempts: number;
  checkpointed: boolean;
}

interface FilePlan {
  partition: PartitionBatches;
  removed: AddAction[];
  rewritten: AddAction[];
  dropped: Batch[];
}

function planFiles(batches: TableBatches, drop: ReadonlyMap<string, ReadonlySet<string>>): FilePlan[] {
  const plans: FilePlan[] = [];
  for (const partition of batches.partitions) {
    const gone = drop.get(partition.key);
    if (!gone || gone.size === 0) continue;
    const dropped = partition.batches.filter((b) => gone.has(b.key));
    if (dropped.length === 0) continue;
    const plan: FilePlan = { partition, removed: [], rewritten: [], dropped };
    for (const file of partition.files) {
      const held = partition.fileBatches.get(file.path) ?? [];
      const goneHere = held.filter((k) => gone.has(k));
      if (goneHere.length === 0) continue;
      if (goneHere.length === held.length) plan.removed.push(file);
      else plan.rewritten.push(file);
    }
    plans.push(plan);
  }
  return plans;
}

/** `NOT (<row is in one of the dropped batches>)`, NULL-safe. */
function keepPredicate(dropped: readonly Batch[]): string {
  const terms = dropped.map(
    (b) => `(${ident('source')} IS NOT DISTINCT FROM ${b.source === null ? 'NULL' : literal(b.source)} AND epoch_ms(ingested_at) IS NOT DISTINCT FROM ${b.ingestedAt === null ? 'NULL' : String(b.ingestedAt)})`,
  );
  return `NOT (${terms.join(' OR ')})`;
}

/** Removes the chosen batches: plan → rewrite the mixed files (written once) → one commit. */
export async function removeBatches(lake: Lake, options: RemoveBatchesOptions): Promise<RemoveBatchesResult> {
  const { table, batches } = options;
  const snapshot = batches.snapshot;
  assertWritable(snapshot.protocol, snapshot.metadata, table.name);
  const now = options.now ?? Date.now;
  const plans = planFiles(batches, options.drop);
  const base = { table: table.name, readVersion: snapshot.version };
  if (plans.length === 0 || options.dryRun) {
    const parts = plans.map((p) => summary(p, p.rewritten.length > 0 ? 1 : 0));
    return {
      ...base,
      status: plans.length === 0 ? 'noop' : 'dry-run',
      version: undefined,
      batchesRemoved: parts.reduce((n, p) => n + p.batchesRemoved, 0),
      rowsRemoved: parts.reduce((n, p) => n + p.rowsRemoved, 0),
      filesRemoved: parts.reduce((n, p) => n + p.filesRemoved, 0),
      bytesRemoved: parts.reduce((n, p) => n + p.bytesRemoved, 0),
      filesRewritten: parts.reduce((n, p) => n + p.filesRewritten, 0),
      filesAdded: parts.reduce((n, p) => n + p.filesAdded, 0),
      bytesAdded: 0,
      partitions: parts,
      attempts: 0,
      checkpointed: false,
    };
  }

  const attempts: WriteAttempt[] = [];
  try {
    const written: { plan: FilePlan; adds: AddAction[] }[] = [];
    const layout = { sortBy: options.sortBy, maxRowsPerFile: options.maxRowsPerFile, rowGroupBytes: options.rowGroupBytes, rowGroupSize: options.rowGroupSize, compression: options.compression };
    for (const plan of plans) {
      if (plan.rewritten.length === 0) {
        written.push({ plan, adds: [] });
        continue;
      }
      const rowsIn = filesNumRecords(plan.rewritten);
      const droppedHere = countDroppedRows(plan);
      const expectedRows = rowsIn !== undefined && droppedHere !== undefined ? rowsIn - droppedHere : undefined;
      const attempt = await rewritePartitionFiles(lake, table, snapshot, {
        files: plan.rewritten,
        partition: plan.partition.values,
        label: plan.partition.key,
        where: keepPredicate(plan.dropped),
        expectedRows,
        layout,
        now: now(),
      });
      attempts.push(attempt);
      written.push({ plan, adds: attempt.adds });
    }
    await options.beforeCommit?.();
    return await commitGc(lake, options, snapshot, written);
  } catch (error) {
    for (const attempt of attempts) await attempt.discard();
    throw asDiskFull(error, tableDescription(table));
  }
}

/** Rows of the dropped batches inside the plan's rewritten files: the dropped rows minus the rows of the files removed whole. */
function countDroppedRows(plan: FilePlan): number | undefined {
  const droppedRows = plan.dropped.reduce((n, b) => n + b.rows, 0);
  const inRemoved = filesNumRecords(plan.removed);
  return inRemoved === undefined ? undefined : droppedRows - inRemoved;
}

async function commitGc(lake: Lake, options: RemoveBatchesOptions, snapshot: Snapshot, written: { plan: FilePlan; adds: AddAction[] }[]): Promise<RemoveBatchesResult> {
  const { table } = options;
  const now = options.now ?? Date.now;
  const deletionTimestamp = now();
  const removed = written.flatMap((w) => [...w.plan.removed, ...w.plan.rewritten]);
  const added = written.flatMap((w) => w.adds);
  const partitions = written.map((w) => summary(w.plan, w.adds.length));
  const bytesAdded = added.reduce((n, a) => n + a.size, 0);
  const batchesRemoved = partitions.reduce((n, p) => n + p.batchesRemoved, 0);
  const rowsRemoved = partitions.reduce((n, p) => n + p.rowsRemoved, 0);
  const bytesRemoved = removed.reduce((n, f) => n + f.size, 0);
  const commitInfo: CommitInfoAction = {
    timestamp: now(),
    operation: GC_OPERATION,
    operationParameters: options.operationParameters ?? {},
    isBlindAppend: false,
    engineInfo: ENGINE_INFO,
    operationMetrics: {
      numRemovedFiles: String(removed.length),
      numAddedFiles: String(added.length),
      numRemovedBytes: String(bytesRemoved),
      numAddedBytes: String(bytesAdded),
      numFilesRewritten: String(written.reduce((n, w) => n + w.plan.rewritten.length, 0)),
      numBatchesRemoved: String(batchesRemoved),
      numRowsRemoved: String(rowsRemoved),
      numPartitions: String(written.length),
    },
    ...(options.commitMetadata ?? {}),
  };
  const outcome = await commitRewrite(lake, table, snapshot, { removed, added, deletionTimestamp, commitInfo, maxAttempts: options.maxAttempts });
  logger().info({ table: table.name, version: outcome.version, batchesRemoved, filesRemoved: removed.length, filesAdded: added.length }, 'batch gc committed');
  return {
    table: table.name,
    status: 'committed',
    readVersion: snapshot.version,
    version: outcome.version,
    batchesRemoved,
    rowsRemoved,
    filesRemoved: removed.length,
    bytesRemoved,
    filesRewritten: partitions.reduce((n, p) => n + p.filesRewritten, 0),
    filesAdded: added.length,
    bytesAdded,
    partitions,
    attempts: outcome.attempts,
    checkpointed: outcome.checkpointed,
  };
}

/** `filesAdded`: files written (planned, in a dry run: one per partition with rewritten files). */
function summary(plan: FilePlan, filesAdded: number): RemoveBatchesPartition {
  return {
    partition: plan.partition.values,
    batchesRemoved: plan.dropped.length,
    rowsRemoved: plan.dropped.reduce((n, b) => n + b.rows, 0),
    filesRemoved: plan.removed.length + plan.rewritten.length,
    bytesRemoved: [...plan.removed, ...plan.rewritten].reduce((n, f) => n + f.size, 0),
    filesRewritten: plan.rewritten.length,
    filesAdded,
  };
}
