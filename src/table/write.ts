import { randomUUID } from 'node:crypto';
import { ENGINE_INFO, LakeError, asDiskFull, faultPoint, logger } from '../core/index.js';
import {
  DEFAULT_PROTOCOL,
  assertWritable,
  canonicalPartitionValues,
  checkpointDue,
  commitWithRetry,
  conflictError,
  fileKey,
  isAppendOnly,
  isPartitionableType,
  partitionKey,
  serializeSchema,
  statsNumRecords,
  timestampPartitionColumns,
  typeKey,
  type Action,
  type AddAction,
  type CommitInfoAction,
  type Isolation,
  type MetadataAction,
  type RemoveAction,
  type Snapshot,
  type StructType,
} from '../delta/index.js';
import { dataFilePath, writeCheckpoint } from '../engine/index.js';
import { deleteFile } from '../storage/index.js';
import { findSnapshot, tableSnapshot, type Lake, type TableRef } from './lake.js';
import { assertCreatable } from './ownership.js';
import { measuredBytesPerRow, tableDescription, writeAttemptFiles, type WriteAttempt } from './write-attempt.js';
import { describeSource, targetSchema } from './write-schema.js';

export type WriteMode = 'append' | 'overwrite' | 'replace';
/** strict: columns must match the table; merge: new columns are added; overwrite: replace the schema (mode overwrite only). */
export type SchemaMode = 'strict' | 'merge' | 'overwrite';

export interface WriteOptions {
  table: TableRef;
  /** A DuckDB SELECT producing the rows (already rewritten for lake table names). */
  source: string;
  /** `source` split into parts of whole partitions, written one at a time (bounded memory); see WriteFilesOptions. */
  sourceParts?: readonly string[];
  mode: WriteMode;
  partitionBy?: string[];
  schemaMode?: SchemaMode;
  /** Extra partitions to empty in a replace, beyond those present in the input. */
  replacePartitions?: Record<string, string | null>[];
  operation?: string;
  operationParameters?: Record<string, unknown>;
  /** Caller metadata recorded at the top level of commitInfo (run_id, upstream_version, …). */
  commitMetadata?: Record<string, unknown>;
  /** Idempotent writer: skipped when the table already holds this appId at this version or later. */
  txn?: { appId: string; version: number };
  /** Table properties when the table is created. */
  configuration?: Record<string, string>;
  maxAttempts?: number;
  compression?: string;
  rowGroupSize?: number;
  /** Row-group size in MB (`row_group_mb`): a row count from the table's measured bytes per row; `rowGroupSize` until the table has data. */
  rowGroupMb?: number;
  fileSizeBytes?: string;
  /** Sort rows inside every file by these columns (`sort_by`); see writeDataFiles for how files are laid out then. */
  sortBy?: string[];
  /** Rotate files inside a partition at this many rows (`max_rows_per_file`). */
  maxRowsPerFile?: number;
  /** Extra `tags` for each added file (merged over the writer's own), e.g. bronze's batch digests. */
  tagFile?: (add: AddAction) => Record<string, string> | undefined;
  now?: () => number;
}

export type WriteResult =
  | {
      status: 'committed';
      table: string;
      version: number;
      operation: string;
      filesAdded: number;
      filesRemoved: number;
      rowsAdded: number;
      bytesAdded: number;
      partitions: Record<string, string | null>[];
      attempts: number;
      checkpointed: boolean;
    }
  | { status: 'skipped'; table: string; version: number; reason: string };

const MB = 1024 * 1024;

function modeName(mode: WriteMode): string {
  return mode === 'append' ? 'Append' : 'Overwrite';
}

/** What a write will do, decided before any data file is written. */
interface WritePlan {
  snapshot: Snapshot | undefined;
  schema: StructType;
  partitionColumns: string[];
  /** protocol (new table) and metaData (new or changed schema) actions, first in the commit. */
  prelude: Action[];
  metadata: MetadataAction | undefined;
  sourceColumns: Set<string>;
}

/**
 * Writes rows into a Delta table as one commit: append, overwrite (the whole table) or replace
 * (exactly the partitions present in the input). Plan (schema, partitioning, refusals) → data
 * files, written once → commit, where only the small commit is retried on a lost race. On any
 * failure nothing is committed and the attempt's files and new folders are removed; running out
 * of disk space is DISK_FULL.
 */
export async function writeTable(lake: Lake, options: WriteOptions): Promise<WriteResult> {
  const write = await beginWrite(lake, options);
  if ('status' in write) return write;
  try {
    await write.writeFiles(options.sourceParts !== undefined && options.sourceParts.length > 0 ? options.sourceParts : [options.source]);
  } catch (error) {
    await write.discard();
    throw error;
  }
  return write.commit();
}

/**
 * A write whose data files are written in steps and committed once: `writeTable` in three calls,
 * for a caller that checks what it wrote before committing (the promote writes a group's final
 * files, then runs its quality gates over them). Each `writeFiles` is one write attempt (its own
 * file prefix); `discard` removes every attempt's files and new folders, the table unchanged.
 * `beginWrite` only describes `options.source` (for the schema); the rows come from `writeFiles`.
 */
export interface TableWrite {
  /** The schema the files are written in (the table's, with the columns this write adds). */
  readonly schema: StructType;
  /**
   * Writes the rows of each source (whole partitions each), one after the other; returns their add
   * actions. `layout`: every row is of this one partition, at most `rowsAtMost` rows (WriteFilesOptions).
   */
  writeFiles(sources: readonly string[], layout?: { partition: Record<string, string | null>; rowsAtMost?: number }): Promise<AddAction[]>;
  /** Removes these files of this write (e.g. a partition found unchanged after all) and leaves them out of the commit. */
  drop(files: readonly AddAction[]): Promise<void>;
  /** Commits every file written so far; `late` fills commit options known only now (lineage, emptied partitions). */
  commit(late?: Pick<WriteOptions, 'commitMetadata' | 'replacePartitions' | 'operationParameters'>): Promise<WriteResult>;
  /** Removes every file written so far; the table is left as it was. */
  discard(): Promise<void>;
}

export async function beginWrite(lake: Lake, options: WriteOptions): Promise<TableWrite | Extract<WriteResult, { status: 'skipped' }>> {
  const table = options.table.name;
  const now = options.now ?? Date.now;
  const snapshot = await findSnapshot(lake, options.table);
  if (snapshot) {
    assertWritable(snapshot.protocol, snapshot.metadata, table);
    if (isAppendOnly(snapshot.metadata) && options.mode !== 'append') {
      throw new LakeError('DELTA_WRITE_UNSUPPORTED', `${table} is append-only (delta.appendOnly=true); mode ${options.mode} would remove files`, {
        hint: 'Use --mode append, or unset delta.appendOnly.',
      });
    }
    if (options.txn && (snapshot.txns.get(options.txn.appId) ?? -1) >= options.txn.version) {
      return { status: 'skipped', table, version: snapshot.version, reason: `application ${options.txn.appId} already committed version ${snapshot.txns.get(options.txn.appId)}` };
    }
  } else {
    await assertCreatable(table, options.table.tableRoot);
  }
  const plan = await planWrite(lake, options, snapshot, now);
  const attempts: WriteAttempt[] = [];
  const adds: AddAction[] = [];
  const discard = async (): Promise<void> => {
    // Newest first: an attempt removes only the folders that did not exist before it.
    for (const attempt of attempts.splice(0).reverse()) await attempt.discard();
    adds.length = 0;
  };
  return {
    schema: plan.schema,
    async writeFiles(sources, layout) {
      if (sources.length === 0) return [];
      const attempt = await writeAttemptFiles(lake, options.table, {
        source: sources[0]!,
        sourceParts: sources.length > 1 ? sources : undefined,
        schema: plan.schema,
        partitionColumns: plan.partitionColumns,
        sourceColumns: plan.sourceColumns,
        compression: options.compression,
        rowGroupSize: options.rowGroupSize,
        fileSizeBytes: options.fileSizeBytes,
        sortBy: options.sortBy,
        maxRowsPerFile: options.maxRowsPerFile,
        rowGroupBytes: options.rowGroupMb === undefined ? undefined : options.rowGroupMb * MB,
        bytesPerRow: snapshot ? measuredBytesPerRow(snapshot.files) : undefined,
        ...layout,
        now: now(),
      });
      attempts.push(attempt);
      adds.push(...attempt.adds);
      return attempt.adds;
    },
    async drop(files) {
      const dropped = new Set(files);
      // Only files of this write: they are ours, and nothing references them yet.
      for (const add of files) if (adds.includes(add)) await deleteFile(dataFilePath(options.table.tableRoot, add.path));
      adds.splice(0, adds.length, ...adds.filter((a) => !dropped.has(a)));
    },
    async commit(late = {}) {
      try {
        faultPoint('write.data-files');
        return await commitWrite(lake, { ...options, ...late }, plan, adds, now);
      } catch (error) {
        // Nothing references these files: remove them so a failed write leaves no trace.
        await discard();
        throw asDiskFull(error, tableDescription(options.table));
      }
    },
    discard,
  };
}

async function planWrite(lake: Lake, options: WriteOptions, snapshot: Snapshot | undefined, now: () => number): Promise<WritePlan> {
  const table = options.table.name;
  const input = await describeSource(lake, options.source);
  const { schema, changed } = targetSchema(table, input, snapshot, options);
  const recreate = !snapshot || options.schemaMode === 'overwrite';
  const partitionColumns = recreate ? (options.partitionBy ?? snapshot?.partitionColumns ?? []) : snapshot.partitionColumns;
  if (!recreate && options.partitionBy && options.partitionBy.join(',') !== snapshot.partitionColumns.join(',')) {
    throw new LakeError('USAGE', `${table} is partitioned by [${snapshot.partitionColumns.join(', ')}], not [${options.partitionBy.join(', ')}]`, {
      hint: 'Leave out --partition-by, or rewrite the table with --mode overwrite --schema-mode overwrite.',
    });
  }
  for (const column of partitionColumns) {
    const field = schema.fields.find((f) => f.name === column);
    if (!field) throw new LakeError('USAGE', `${table}: partition column ${column} is not a column of the input`, { hint: `Columns: ${schema.fields.map((f) => f.name).join(', ')}` });
    if (!isPartitionableType(field.type)) throw new LakeError('USAGE', `${table}: column ${column} of type ${typeKey(field.type)} cannot be a partition column`);
  }
  if (schema.fields.length > 0 && schema.fields.every((f) => partitionColumns.includes(f.name))) {
    throw new LakeError('USAGE', `${table}: every column is a partition column; a Delta table needs at least one data column`);
  }
  const prelude: Action[] = [];
  let metadata: MetadataAction | undefined;
  if (!snapshot) prelude.push({ kind: 'protocol', protocol: DEFAULT_PROTOCOL });
  if (changed || recreate) {
    metadata = {
      id: snapshot?.metadata.id ?? randomUUID(),
      format: { provider: 'parquet', options: {} },
      schemaString: serializeSchema(schema),
      partitionColumns: [...partitionColumns],
      configuration: { ...(snapshot?.metadata.configuration ?? {}), ...(options.configuration ?? {}) },
      createdTime: snapshot?.metadata.createdTime ?? now(),
    };
    if (snapshot?.metadata.name) metadata.name = snapshot.metadata.name;
    if (snapshot?.metadata.description) metadata.description = snapshot.metadata.description;
    prelude.push({ kind: 'metaData', metaData: metadata });
  }
  return { snapshot, schema, partitionColumns, prelude, metadata, sourceColumns: new Set(input.map((c) => c.name)) };
}

/** Builds the commit for the written files (removes, adds, txn, commitInfo with metrics) and commits it with retries. */
async function commitWrite(lake: Lake, options: WriteOptions, plan: WritePlan, adds: AddAction[], now: () => number): Promise<WriteResult> {
  const table = options.table.name;
  const { snapshot, partitionColumns, metadata } = plan;
  const actions: Action[] = [...plan.prelude];
  const writtenPartitions = new Map<string, Record<string, string | null>>();
  // Timestamp partitions are matched in one form: files of older writers name them zone-less.
  const timestampColumns = timestampPartitionColumns(plan.schema, partitionColumns);
  const keyOf = (values: Record<string, string | null>): string => partitionKey(partitionColumns, canonicalPartitionValues(timestampColumns, values));
  for (const add of adds) writtenPartitions.set(keyOf(add.partitionValues), add.partitionValues);
  for (const values of options.replacePartitions ?? []) {
    // '' is stored as NULL in partition columns (partitionStringSql), so here it names the NULL partition too.
    const normalized = Object.fromEntries(partitionColumns.map((c) => [c, values[c] === '' ? null : (values[c] ?? null)]));
    writtenPartitions.set(keyOf(normalized), normalized);
  }

  const removed = snapshot ? filesToRemove(snapshot, options.mode, partitionColumns, new Set(writtenPartitions.keys()), keyOf) : [];
  const deletionTimestamp = now();
  for (const file of removed) actions.push({ kind: 'remove', remove: removeFor(file, deletionTimestamp) });
  for (const add of adds) {
    const tags = options.tagFile?.(add);
    actions.push({ kind: 'add', add: tags ? { ...add, tags: { ...(add.tags ?? {}), ...tags } } : add });
  }
  if (options.txn) actions.push({ kind: 'txn', txn: { appId: options.txn.appId, version: options.txn.version, lastUpdated: now() } });

  const rowsAdded = adds.reduce((n, a) => n + (statsNumRecords(a.stats) ?? 0), 0);
  const bytesAdded = adds.reduce((n, a) => n + a.size, 0);
  const replacing = options.mode === 'replace' && partitionColumns.length > 0;
  const operation = options.operation ?? (!snapshot ? 'CREATE TABLE' : 'WRITE');
  const operationParameters: Record<string, unknown> = {
    mode: modeName(options.mode),
    partitionBy: JSON.stringify(partitionColumns),
    ...(replacing ? { predicate: partitionPredicate(partitionColumns, [...writtenPartitions.values()]) } : {}),
    ...(options.operationParameters ?? {}),
  };
  const commitInfo: CommitInfoAction = {
    timestamp: now(),
    operation,
    operationParameters: stringValues(operationParameters),
    isBlindAppend: options.mode === 'append' && !metadata,
    engineInfo: ENGINE_INFO,
    operationMetrics: {
      numFiles: String(adds.length),
      numOutputRows: String(rowsAdded),
      numOutputBytes: String(bytesAdded),
      numRemovedFiles: String(removed.length),
    },
    ...(options.commitMetadata ?? {}),
  };
  const isolation: Isolation = !snapshot
    ? { kind: 'create' }
    : metadata
      ? { kind: 'metadata' }
      : options.mode === 'append'
        ? { kind: 'append' }
        : replacing
          ? { kind: 'replace', partitionColumns, partitions: new Set(writtenPartitions.keys()) }
          : { kind: 'overwrite' };
  const outcome = await commitWithRetry({
    tableRoot: options.table.tableRoot,
    table,
    readVersion: snapshot?.version ?? -1,
    actions,
    commitInfo,
    isolation,
    maxAttempts: options.maxAttempts,
  });
  if (outcome.status === 'conflict') throw conflictError(table, outcome);
  const checkpointed = await checkpointAfterCommit(lake, options.table, outcome.version, metadata ?? snapshot?.metadata);
  return {
    status: 'committed',
    table,
    version: outcome.version,
    operation,
    filesAdded: adds.length,
    filesRemoved: removed.length,
    rowsAdded,
    bytesAdded,
    partitions: [...writtenPartitions.values()],
    attempts: outcome.attempts,
    checkpointed,
  };
}

function filesToRemove(
  snapshot: Snapshot,
  mode: WriteMode,
  partitionColumns: readonly string[],
  written: ReadonlySet<string>,
  keyOf: (values: Record<string, string | null>) => string,
): AddAction[] {
  if (mode === 'append') return [];
  if (mode === 'overwrite' || partitionColumns.length === 0) return snapshot.files;
  return snapshot.files.filter((f) => written.has(keyOf(f.partitionValues)));
}

export function removeFor(file: AddAction, deletionTimestamp: number): RemoveAction {
  const remove: RemoveAction = {
    path: file.path,
    deletionTimestamp,
    dataChange: true,
    extendedFileMetadata: true,
    partitionValues: file.partitionValues,
    size: file.size,
  };
  if (file.stats) remove.stats = file.stats;
  if (file.tags) remove.tags = file.tags;
  if (file.deletionVector) remove.deletionVector = file.deletionVector;
  return remove;
}

function stringValues(values: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

/** A readable SQL predicate naming the replaced partitions, for history. */
export function partitionPredicate(columns: readonly string[], partitions: Record<string, string | null>[]): string {
  const terms = partitions.map((p) =>
    columns.map((c) => (p[c] === null || p[c] === undefined ? `${c} IS NULL` : `${c} = '${String(p[c]).replace(/'/g, "''")}'`)).join(' AND '),
  );
  return terms.length === 0 ? 'false' : terms.map((t) => (columns.length > 1 ? `(${t})` : t)).join(' OR ');
}

/**
 * Commits a rewrite (OPTIMIZE, batch GC): `removed` files go and `added` files come, every action
 * `dataChange: false`, under the rewrite isolation (only a concurrent commit that removed one of
 * `removed` conflicts: DELTA_COMMIT_CONFLICT), then the checkpoint cadence.
 */
export async function commitRewrite(
  lake: Lake,
  table: TableRef,
  snapshot: Snapshot,
  rewrite: { removed: readonly AddAction[]; added: readonly AddAction[]; deletionTimestamp: number; commitInfo: CommitInfoAction; maxAttempts?: number },
): Promise<{ version: number; attempts: number; checkpointed: boolean }> {
  const actions: Action[] = [
    ...rewrite.removed.map((file): Action => ({ kind: 'remove', remove: { ...removeFor(file, rewrite.deletionTimestamp), dataChange: false } })),
    ...rewrite.added.map((add): Action => ({ kind: 'add', add: { ...add, dataChange: false } })),
  ];
  const outcome = await commitWithRetry({
    tableRoot: table.tableRoot,
    table: table.name,
    readVersion: snapshot.version,
    actions,
    commitInfo: rewrite.commitInfo,
    isolation: { kind: 'rewrite', files: new Set(rewrite.removed.map(fileKey)) },
    maxAttempts: rewrite.maxAttempts,
  });
  if (outcome.status === 'conflict') throw conflictError(table.name, outcome);
  const checkpointed = await checkpointAfterCommit(lake, table, outcome.version, snapshot.metadata);
  return { version: outcome.version, attempts: outcome.attempts, checkpointed };
}

/**
 * After a commit: writes a checkpoint when `delta.checkpointInterval` says one is due at
 * `version`. The commit is durable already and a checkpoint is only an optimization, so a failure
 * is logged and never thrown (it must neither fail the operation nor reach a caller's cleanup,
 * which would delete the files the commit refers to). Returns whether one was written.
 */
export async function checkpointAfterCommit(lake: Lake, table: TableRef, version: number, metadata: MetadataAction | undefined, now?: number): Promise<boolean> {
  if (!checkpointDue(metadata, version)) return false;
  try {
    await writeCheckpoint(lake.engine, await tableSnapshot(lake, table, { version }), now === undefined ? {} : { now });
    return true;
  } catch (error) {
    logger().warn({ table: table.name, version, err: String(error) }, 'checkpoint after commit failed');
    return false;
  }
}
