import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { readdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { LakeError, asDiskFull, errnoCode, isLakeError, logger } from '../core/index.js';
import { LOG_DIR, filesNumRecords, statsNumRecords, type AddAction, type Snapshot } from '../delta/index.js';
import { literal, partitionLogStringSql, scanSql, writeDataFiles, type WriteFilesOptions } from '../engine/index.js';
import { assertSafeStore, deleteFile, isRemote, joinLocation, listFilesRecursive } from '../storage/index.js';
import type { Lake, TableRef } from './lake.js';
import { listFolders } from './ownership.js';

/**
 * One write attempt's data files. Files are named with a prefix unique to the attempt, and the
 * folders that existed before are remembered, so `discard` removes exactly what this attempt
 * wrote — its files (also the partial ones a failed COPY left), the partition folders it
 * created, and the table folder itself when the attempt created it — and nothing else.
 */
export interface WriteAttempt {
  adds: AddAction[];
  discard(): Promise<void>;
}

export type AttemptFilesOptions = Omit<WriteFilesOptions, 'engine' | 'tableRoot' | 'filePrefix'>;

export async function writeAttemptFiles(lake: Lake, table: TableRef, options: AttemptFilesOptions): Promise<WriteAttempt> {
  const prefix = `part-${randomUUID().slice(0, 8)}-`;
  let discard: () => Promise<void>;
  if (isRemote(table.tableRoot)) {
    await assertSafeStore(table.tableRoot);
    // An object store has no folders to clean up: the attempt's objects are found by their prefix.
    discard = () => discardRemoteAttempt(table.tableRoot, prefix);
  } else {
    const root = statSync(table.tableRoot, { throwIfNoEntry: false });
    const rootExisted = root?.isDirectory() === true;
    // The folders this attempt creates are told apart by their birth time where the file system
    // keeps one (statx: ext4, xfs, btrfs…): no walk of every partition folder before each write
    // (hundreds for a season × week table). Elsewhere the folders are listed first, as before.
    const bornSince = Date.now() - BIRTH_TIME_SLACK_MS;
    const births = (root ?? statSync(path.dirname(table.tableRoot), { throwIfNoEntry: false }))?.birthtimeMs ?? 0;
    const before: FoldersBefore = births > 0 ? { bornSince } : { folders: await listFolders(table.tableRoot) };
    discard = () => discardAttempt(table.tableRoot, prefix, before, rootExisted);
  }
  const write = (parts?: string[]): Promise<AddAction[]> => writeDataFiles({ ...options, ...(parts ? { sourceParts: parts } : {}), engine: lake.engine, tableRoot: table.tableRoot, filePrefix: prefix });
  try {
    return { adds: await write(), discard };
  } catch (error) {
    await discard();
    // Finding the partitions runs the source once more: if that fails too, the first error stands.
    const parts = isLakeError(error, 'OUT_OF_MEMORY') ? await partitionParts(lake, options).catch(() => undefined) : undefined;
    if (parts === undefined) throw asDiskFull(error, tableDescription(table));
    logger().warn({ table: table.name, partitions: parts.length, memoryLimit: lake.engine.memoryLimit }, 'the write ran out of memory writing every partition at once: writing one partition at a time');
    try {
      return { adds: await write(parts), discard };
    } catch (retryError) {
      await discard();
      throw asDiskFull(retryError, tableDescription(table));
    }
  }
}

const MAX_PARTITION_PARTS = 1_000;

/**
 * A partitioned write whose rows went to every partition at once (one `COPY … PARTITION_BY`)
 * keeps an unwritten row group per open partition in memory: a wide input of many partitions (the
 * whole pbp history, 27 seasons × 372 columns) runs out of the memory limit however small
 * DuckDB's row groups are capped (measured on DuckDB 1.5.5: 1.35 M rows at 1 GiB fail with 64 MB
 * or 16 MB caps, or 4 open files; one season at a time takes 0.74 GB). After such a failure the
 * write is split into one source part per partition (its log strings compared as the writer
 * computes them), written one after the other: memory is bounded by the largest partition, at the
 * cost of one more run of the source per partition. Undefined when the write cannot be split (not
 * partitioned, already in parts, one partition only, or more than `MAX_PARTITION_PARTS` partitions,
 * whose runs of the source would cost more than raising the limit).
 */
async function partitionParts(lake: Lake, options: AttemptFilesOptions): Promise<string[] | undefined> {
  if (options.partitionColumns.length === 0 || options.sourceParts !== undefined || options.partition !== undefined) return undefined;
  const keys = options.partitionColumns.map((column) => partitionLogStringSql(options, column));
  const rows = await lake.engine.rows<Record<string, string | null>>(`SELECT DISTINCT ${keys.map((k, i) => `${k} AS k${i}`).join(', ')} FROM (${options.source}) AS src`);
  if (rows.length < 2 || rows.length > MAX_PARTITION_PARTS) return undefined;
  return rows.map((row) => `SELECT * FROM (${options.source}) AS src WHERE ${keys.map((k, i) => `${k} IS NOT DISTINCT FROM ${row[`k${i}`] === null ? 'NULL' : literal(row[`k${i}`]!)}`).join(' AND ')}`);
}

/** Parquet bytes per row of the files (size / numRecords over the files whose stats give a row count); undefined without rows. */
export function measuredBytesPerRow(files: readonly AddAction[]): number | undefined {
  let bytes = 0;
  let rows = 0;
  for (const file of files) {
    const n = statsNumRecords(file.stats);
    if (n === undefined || n === 0) continue;
    bytes += file.size;
    rows += n;
  }
  return rows > 0 ? bytes / rows : undefined;
}

/** How the files of a rewrite (OPTIMIZE, batch GC) are laid out. */
export type RewriteLayout = Pick<AttemptFilesOptions, 'sortBy' | 'maxRowsPerFile' | 'targetFileBytes' | 'rowGroupBytes' | 'rowGroupSize' | 'compression'>;

/**
 * Rewrites `files` of one partition of `snapshot` — the rows `where` keeps, all by default — as
 * new files of that partition marked `dataChange: false`, and checks they hold `expectedRows`
 * when it is known: a mismatch is a bug, so the attempt's files are discarded and nothing can be
 * committed. On success the caller owns the attempt (and discards it if its commit fails).
 */
export async function rewritePartitionFiles(
  lake: Lake,
  table: TableRef,
  snapshot: Snapshot,
  rewrite: { files: AddAction[]; partition: Record<string, string | null>; label: string; where?: string; expectedRows: number | undefined; layout: RewriteLayout; now: number },
): Promise<WriteAttempt> {
  const scan = await scanSql(lake.engine, { ...snapshot, files: rewrite.files });
  const sourceColumns = new Set(snapshot.schema.fields.map((f) => f.name));
  const attempt = await writeAttemptFiles(lake, table, {
    ...rewrite.layout,
    source: rewrite.where === undefined ? scan : `SELECT * FROM (${scan}) AS rewritten WHERE ${rewrite.where}`,
    schema: snapshot.schema,
    partitionColumns: snapshot.partitionColumns,
    sourceColumns,
    partition: rewrite.partition,
    sortBy: (rewrite.layout.sortBy ?? []).filter((c) => sourceColumns.has(c)),
    bytesPerRow: measuredBytesPerRow(rewrite.files),
    now: rewrite.now,
  });
  const adds = attempt.adds.map((a) => ({ ...a, dataChange: false }));
  const rowsOut = filesNumRecords(adds);
  if (rewrite.expectedRows !== undefined && rowsOut !== rewrite.expectedRows) {
    await attempt.discard();
    throw new LakeError('DATA_INVALID', `${table.name}: rewriting partition ${rewrite.label} gave ${rowsOut} rows instead of ${rewrite.expectedRows}; nothing was committed`, {
      hint: 'This is a bug; the table is unchanged. Report it with the table log.',
    });
  }
  return { adds, discard: attempt.discard };
}

/** How a DISK_FULL error names the table whose files were being written. */
export function tableDescription(table: TableRef): string {
  return `${table.name} (${table.tableRoot})`;
}

async function discardRemoteAttempt(tableRoot: string, prefix: string): Promise<void> {
  for (const file of await listFilesRecursive(tableRoot)) {
    if (file.name.startsWith(`${LOG_DIR}/`)) continue;
    if (file.name.slice(file.name.lastIndexOf('/') + 1).startsWith(prefix)) await deleteFile(joinLocation(tableRoot, file.name));
  }
}

/**
 * How a discard tells the folders its attempt created: the folders that existed before, or (where
 * folders have a birth time) born at or after `bornSince`. A folder whose birth time is unknown
 * (0) is never taken for the attempt's.
 */
type FoldersBefore = { folders: ReadonlySet<string> } | { bornSince: number };

/** Birth times come from the kernel's coarse clock, which may lag `Date.now()` by a tick (1–10 ms). */
const BIRTH_TIME_SLACK_MS = 20;

function createdByAttempt(tableRoot: string, rel: string, before: FoldersBefore): boolean {
  if ('folders' in before) return !before.folders.has(rel);
  const born = statSync(path.join(tableRoot, rel), { throwIfNoEntry: false })?.birthtimeMs ?? 0;
  return born > 0 && born >= before.bornSince;
}

async function discardAttempt(tableRoot: string, prefix: string, before: FoldersBefore, rootExisted: boolean): Promise<void> {
  const created: string[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await readdir(path.join(tableRoot, rel), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (rel === '' && entry.name === LOG_DIR) continue;
      if (entry.isDirectory()) {
        await walk(childRel);
        if (createdByAttempt(tableRoot, childRel, before)) created.push(childRel);
      } else if (entry.isFile() && entry.name.startsWith(prefix)) {
        await rm(path.join(tableRoot, childRel), { force: true });
      }
    }
  }
  await walk('');
  // Deepest first; rmdir only removes empty folders, so anything someone else put there stays.
  for (const rel of created.sort((a, b) => b.length - a.length)) await rmdir(path.join(tableRoot, rel)).catch(() => undefined);
  if (!rootExisted) {
    await rmdir(path.join(tableRoot, LOG_DIR)).catch(() => undefined);
    await rmdir(tableRoot).catch((error: unknown) => {
      if (errnoCode(error) !== 'ENOENT' && errnoCode(error) !== 'ENOTEMPTY') throw error;
    });
  }
}
