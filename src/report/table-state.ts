import { commitMtime, listLog, parseSchemaString, partitionKey, readCommit, statsNumRecords, typeKey, type Action, type AddAction, type StructType } from '../delta/index.js';
import { partitionLabel } from '../pipeline/index.js';
import { summarizeCommit, tableSnapshot, type Lake, type TableRef } from '../table/index.js';
import type { CommitKind, CommitSummary, PartitionChange, PartitionState, PartitionValues } from './model.js';

/**
 * One pass over a table's log, oldest commit first: the history (every commit with its kind and
 * row counts) and the state of every partition after each commit that touched it. A log whose
 * early commits were cleaned up starts from the snapshot at its earliest commit.
 */
export interface CommitRecord {
  version: number;
  timestamp: number;
  info: Record<string, unknown> | undefined;
  summary: CommitSummary;
}

export interface TableState {
  version: number;
  partitionColumns: string[];
  /** Column name → Delta type (`long`, `string`, `struct<…>`) at the latest version. */
  columns: Map<string, string>;
  commits: CommitRecord[];
  partitions: PartitionState[];
  rows: number | null;
  bytes: number;
  files: number;
  /** Newest `ingested_at` over the active files' statistics (ms), when the table has that column. */
  newestIngestedAt: number | undefined;
}

interface LiveFile {
  pk: string;
  rows: number | undefined;
  bytes: number;
  stats: string | null | undefined;
}

interface LivePartition {
  values: PartitionValues;
  /** Paths of the partition's active files. */
  paths: Set<string>;
  changes: PartitionChange[];
}

const BATCH = 64;

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** The timeline colour of a commit: restore/rollback/optimize/gc by operation, else append or replace by write mode. */
export function commitKind(info: Record<string, unknown> | undefined, version: number): CommitKind {
  if (info === undefined) return 'other';
  if (typeof info['rollback_of_run'] === 'string') return 'rollback';
  const op = str(info['operation']) ?? '';
  if (op === 'RESTORE') return 'restore';
  if (op === 'OPTIMIZE') return 'optimize';
  if (op === 'BRONZE GC') return 'gc';
  if (op === 'DELETE') return 'delete';
  const params = info['operationParameters'];
  const mode = params !== null && typeof params === 'object' ? str((params as Record<string, unknown>)['mode']) : null;
  if (version === 0 || op === 'CREATE TABLE') return 'create';
  if (mode === 'Append') return 'append';
  if (mode === 'Overwrite' || op === 'REPLACE PARTITIONS') return 'replace';
  return op === 'WRITE' ? 'append' : 'other';
}

function sum(values: readonly (number | undefined)[]): number | null {
  let total = 0;
  for (const v of values) {
    if (v === undefined) return null;
    total += v;
  }
  return total;
}

function newestIngestedAt(files: Iterable<LiveFile>): number | undefined {
  let newest: number | undefined;
  for (const f of files) {
    if (!f.stats) continue;
    try {
      const max = (JSON.parse(f.stats) as { maxValues?: Record<string, unknown> }).maxValues?.['ingested_at'];
      const t = typeof max === 'string' ? Date.parse(max) : NaN;
      if (Number.isFinite(t) && (newest === undefined || t > newest)) newest = t;
    } catch {
      // stats that do not parse carry no ingested_at
    }
  }
  return newest;
}

async function readCommits(table: TableRef, versions: number[]): Promise<{ version: number; actions: Action[]; mtime: number | undefined }[]> {
  const out: { version: number; actions: Action[]; mtime: number | undefined }[] = [];
  for (let i = 0; i < versions.length; i += BATCH) {
    const batch = versions.slice(i, i + BATCH);
    const read = await Promise.all(
      batch.map(async (version) => {
        const actions = await readCommit(table.tableRoot, version);
        const hasTime = actions.some((a) => a.kind === 'commitInfo' && typeof a.commitInfo.timestamp === 'number');
        return { version, actions, mtime: hasTime ? undefined : await commitMtime(table.tableRoot, version) };
      }),
    );
    out.push(...read);
  }
  return out;
}

export async function readTableState(lake: Lake, table: TableRef): Promise<TableState> {
  const listing = await listLog(table.tableRoot);
  const versions = [...listing.commits.keys()].sort((a, b) => a - b);
  const live = new Map<string, LiveFile>();
  const partitions = new Map<string, LivePartition>();
  let partitionColumns: string[] = [];
  let schema: StructType | undefined;
  const first = versions[0] ?? 0;
  let replay = versions;
  if (first > 0 || versions.length === 0) {
    // Early commits cleaned up (or checkpoint only): start from the snapshot at the earliest commit.
    const start = await tableSnapshot(lake, table, { version: versions.length > 0 ? first : undefined, skipReadCheck: true });
    partitionColumns = start.partitionColumns;
    schema = start.schema;
    for (const f of start.files) addFile(f);
    replay = versions.filter((v) => v > start.version);
  }

  function partitionOf(values: PartitionValues): string {
    const pk = partitionKey(partitionColumns, values);
    if (!partitions.has(pk)) partitions.set(pk, { values: Object.fromEntries(partitionColumns.map((c) => [c, values[c] ?? null])), paths: new Set(), changes: [] });
    return pk;
  }
  function addFile(f: AddAction): void {
    const pk = partitionOf(f.partitionValues);
    live.set(f.path, { pk, rows: statsNumRecords(f.stats), bytes: f.size, stats: f.stats });
    partitions.get(pk)!.paths.add(f.path);
  }
  function partitionTotals(pk: string): { rows: number | null; bytes: number; files: number } {
    const files = [...(partitions.get(pk)?.paths ?? [])].map((p) => live.get(p)!);
    return { rows: sum(files.map((f) => f.rows)), bytes: files.reduce((n, f) => n + f.bytes, 0), files: files.length };
  }

  const commits: CommitRecord[] = [];
  for (const { version, actions, mtime } of await readCommits(table, replay)) {
    for (const a of actions) {
      if (a.kind !== 'metaData') continue;
      partitionColumns = a.metaData.partitionColumns;
      schema = parseSchemaString(a.metaData.schemaString, `${table.name} version ${version}`);
    }
    const entry = summarizeCommit(version, actions, mtime, partitionColumns);
    const info = entry.commitInfo as Record<string, unknown> | undefined;
    const kind = commitKind(info, version);
    const touched = new Set<string>();
    const before = new Map<string, number | null>();
    const touch = (pk: string): void => {
      if (touched.has(pk)) return;
      const totals = partitionTotals(pk);
      before.set(pk, totals.files === 0 ? null : totals.rows);
      touched.add(pk);
    };
    for (const a of actions) {
      if (a.kind === 'remove') {
        const f = live.get(a.remove.path);
        if (!f) continue;
        touch(f.pk);
        live.delete(a.remove.path);
        partitions.get(f.pk)!.paths.delete(a.remove.path);
      } else if (a.kind === 'add') {
        const pk = partitionOf(a.add.partitionValues);
        touch(pk);
        addFile(a.add);
      }
    }
    const timestamp = new Date(entry.timestamp).toISOString();
    const runId = entry.runId ?? null;
    for (const pk of touched) {
      const after = partitionTotals(pk);
      const rowsBefore = before.get(pk) ?? null;
      partitions.get(pk)!.changes.push({
        version,
        timestamp,
        kind,
        run_id: runId,
        rows_before: rowsBefore,
        rows_after: after.files === 0 ? 0 : after.rows,
        bytes_after: after.bytes,
        files_after: after.files,
        diff: version > 0 && rowsBefore !== null ? `lake diff ${table.name} --from ${version - 1} --to ${version}` : null,
      });
    }
    commits.push({
      version,
      timestamp: entry.timestamp,
      info,
      summary: {
        version,
        timestamp,
        operation: entry.operation ?? null,
        kind,
        run_id: runId,
        rows_added: entry.rowsAdded ?? null,
        rows_removed: entry.rowsRemoved ?? null,
        files_added: entry.filesAdded,
        files_removed: entry.filesRemoved,
        partitions: [...touched].map((pk) => partitionLabel(partitions.get(pk)!.values)).sort(),
      },
    });
  }

  const states: PartitionState[] = [];
  for (const [pk, p] of [...partitions.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const totals = partitionTotals(pk);
    if (totals.files === 0 && p.changes.length === 0) continue;
    states.push({ partition: p.values, label: partitionLabel(p.values), rows: totals.files === 0 ? 0 : totals.rows, bytes: totals.bytes, files: totals.files, changes: p.changes });
  }
  const files = [...live.values()];
  return {
    version: versions[versions.length - 1] ?? 0,
    partitionColumns,
    columns: new Map((schema?.fields ?? []).map((f) => [f.name, typeKey(f.type)])),
    commits,
    partitions: states,
    rows: sum(files.map((f) => f.rows)),
    bytes: files.reduce((n, f) => n + f.bytes, 0),
    files: files.length,
    newestIngestedAt: newestIngestedAt(files),
  };
}
