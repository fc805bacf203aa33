import { LakeError } from '../../core/index.js';
import { commitInfoOf, commitMtime, listLog, partitionKey, readCommit, statsNumRecords, type AddAction } from '../../delta/index.js';
import type { PartitionValues } from '../quality/index.js';
import { tableSnapshot, type Lake, type TableRef } from '../../table/index.js';

/**
 * `lake lineage <table>`: where every run, dataset and partition of a table came from, derived
 * from its Delta log alone (docs/design.md decision 9), in the seed's lineage shape:
 * - runs: run_id, started_at, ended_at, pipeline_version, upstream_version, status, versions;
 * - datasets: last_ingest_utc, rows_last_batch, changed_partitions (+ the bronze versions read);
 * - partitions (of the current version): row_count, sha256_fingerprint, min/max ingested_at,
 *   and the version and run that wrote them.
 * Silver commits carry fingerprints (lake promote); for other tables they are null and
 * row counts come from the log's file statistics.
 */
export interface RunLineage {
  run_id: string;
  started_at: string;
  ended_at: string;
  pipeline_version: string | null;
  upstream_version: string | null;
  status: 'committed';
  versions: number[];
  operations: string[];
  source_versions: Record<string, number>;
}

export interface DatasetLineage {
  dataset: string;
  version: number;
  run_id: string | null;
  last_ingest_utc: string | null;
  rows_last_batch: number | null;
  changed_partitions: PartitionValues[];
  bronze_version: number | null;
  bronze_from_version: number | null;
}

export interface PartitionLineage {
  partition: PartitionValues;
  files: number;
  row_count: number | null;
  sha256_fingerprint: string | null;
  min_ingested_at: string | null;
  max_ingested_at: string | null;
  /** The version whose commit wrote the partition's current files, and its run. */
  version: number;
  run_id: string | null;
  upstream_versions: string[];
}

export interface TableLineage {
  table: string;
  version: number;
  runs: RunLineage[];
  datasets: DatasetLineage[];
  partitions: PartitionLineage[];
}

interface PromotePartition {
  partition?: PartitionValues;
  row_count?: number;
  rows_after?: number;
  sha256_fingerprint?: string;
  min_ingested_at?: string | null;
  max_ingested_at?: string | null;
  upstream_versions?: string[];
}

interface Commit {
  version: number;
  timestamp: number;
  info: Record<string, unknown> | undefined;
  adds: AddAction[];
  /** Only `dataChange: false` adds and removes (OPTIMIZE, BRONZE GC): no rows came in. */
  rewrite: boolean;
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function rowsOf(file: AddAction): number | null {
  return statsNumRecords(file.stats) ?? null;
}

function promoteOf(info: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const p = info?.['promote'];
  return p !== null && typeof p === 'object' ? (p as Record<string, unknown>) : undefined;
}

function runsOf(commits: readonly Commit[]): RunLineage[] {
  const runs = new Map<string, RunLineage>();
  for (const c of commits) {
    const runId = str(c.info?.['run_id']);
    if (!runId) continue;
    const at = new Date(c.timestamp).toISOString();
    const started = str(promoteOf(c.info)?.['started_at']) ?? at;
    const run = runs.get(runId) ?? { run_id: runId, started_at: started, ended_at: at, pipeline_version: null, upstream_version: null, status: 'committed' as const, versions: [], operations: [], source_versions: {} };
    if (started < run.started_at) run.started_at = started;
    if (at > run.ended_at) run.ended_at = at;
    run.versions.push(c.version);
    const op = str(c.info?.['operation']);
    if (op && !run.operations.includes(op)) run.operations.push(op);
    run.pipeline_version = str(c.info?.['pipeline_version']) ?? run.pipeline_version;
    run.upstream_version = str(c.info?.['upstream_version']) ?? run.upstream_version;
    const sources = c.info?.['source_versions'];
    if (sources && typeof sources === 'object') Object.assign(run.source_versions, sources);
    runs.set(runId, run);
  }
  return [...runs.values()].sort((a, b) => Math.max(...b.versions) - Math.max(...a.versions));
}

/** Dataset level: the newest promote commit (silver), else the newest run's commits (bronze and others). */
function datasetsOf(commits: readonly Commit[], fallbackDataset: string): DatasetLineage[] {
  const newestFirst = [...commits].sort((a, b) => b.version - a.version);
  const promoted = newestFirst.find((c) => promoteOf(c.info) !== undefined);
  if (promoted) {
    const p = promoteOf(promoted.info)!;
    return [
      {
        dataset: str(promoted.info?.['dataset']) ?? fallbackDataset,
        version: promoted.version,
        run_id: str(promoted.info?.['run_id']),
        last_ingest_utc: str(p['last_ingest_utc']),
        rows_last_batch: typeof p['rows_last_batch'] === 'number' ? p['rows_last_batch'] : null,
        changed_partitions: Array.isArray(p['changed_partitions']) ? (p['changed_partitions'] as PartitionValues[]) : [],
        bronze_version: typeof p['bronze_version'] === 'number' ? p['bronze_version'] : null,
        bronze_from_version: typeof p['bronze_from_version'] === 'number' ? p['bronze_from_version'] : null,
      },
    ];
  }
  const last = newestFirst.find((c) => str(c.info?.['run_id']) !== null && !c.rewrite);
  if (!last) return [];
  const runId = str(last.info?.['run_id']);
  const ofRun = newestFirst.filter((c) => str(c.info?.['run_id']) === runId && c.adds.length > 0);
  const changed = new Map<string, PartitionValues>();
  for (const c of ofRun) for (const a of c.adds) changed.set(JSON.stringify(a.partitionValues), a.partitionValues);
  const rows = ofRun.flatMap((c) => c.adds.map(rowsOf));
  return [
    {
      dataset: str(last.info?.['dataset']) ?? fallbackDataset,
      version: last.version,
      run_id: runId,
      last_ingest_utc: new Date(last.timestamp).toISOString(),
      rows_last_batch: rows.some((r) => r === null) ? null : rows.reduce<number>((n, r) => n + r!, 0),
      changed_partitions: [...changed.values()],
      bronze_version: null,
      bronze_from_version: null,
    },
  ];
}

export async function tableLineage(lake: Lake, table: TableRef): Promise<TableLineage> {
  const listing = await listLog(table.tableRoot);
  const versions = [...listing.commits.keys()].sort((a, b) => a - b);
  if (versions.length === 0) throw new LakeError('TABLE_NOT_FOUND', `${table.name} is not a Delta table (no commits)`, { hint: 'Check the name or path; silver tables appear after lake promote.' });
  const snapshot = await tableSnapshot(lake, table, { skipReadCheck: true });
  const commits: Commit[] = [];
  for (let i = 0; i < versions.length; i += 64) {
    const batch = versions.slice(i, i + 64);
    const read = await Promise.all(batch.map((v) => readCommit(table.tableRoot, v)));
    for (const [j, actions] of read.entries()) {
      const commitInfo = commitInfoOf(actions);
      const ts = commitInfo?.['timestamp'];
      commits.push({
        version: batch[j]!,
        timestamp: typeof ts === 'number' ? ts : ((await commitMtime(table.tableRoot, batch[j]!)) ?? 0),
        info: commitInfo,
        adds: actions.flatMap((a) => (a.kind === 'add' ? [a.add] : [])),
        rewrite: actions.some((a) => a.kind === 'add' || a.kind === 'remove') && actions.every((a) => (a.kind === 'add' ? !a.add.dataChange : a.kind === 'remove' ? !a.remove.dataChange : true)),
      });
    }
  }
  const byVersion = new Map(commits.map((c) => [c.version, c]));
  // Which versions added each path (a RESTORE re-adds older files).
  const addedIn = new Map<string, number[]>();
  for (const c of commits) for (const a of c.adds) addedIn.set(a.path, [...(addedIn.get(a.path) ?? []), c.version]);

  const columns = snapshot.partitionColumns;
  const groups = new Map<string, { values: PartitionValues; files: AddAction[] }>();
  for (const f of snapshot.files) {
    const key = partitionKey(columns, f.partitionValues);
    const g = groups.get(key) ?? { values: Object.fromEntries(columns.map((c) => [c, f.partitionValues[c] ?? null])), files: [] };
    g.files.push(f);
    groups.set(key, g);
  }
  const partitions: PartitionLineage[] = [];
  for (const [key, g] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // Versions that added every current file of the partition; the newest with a fingerprint wins.
    let common: Set<number> | undefined;
    for (const f of g.files) {
      const added = new Set(addedIn.get(f.path) ?? []);
      common = common ? new Set([...common].filter((v) => added.has(v))) : added;
    }
    const candidates = [...(common ?? [])].sort((a, b) => b - a);
    const written = Math.max(...g.files.map((f) => Math.max(...(addedIn.get(f.path) ?? [-1]))));
    let fingerprint: { version: number; entry: PromotePartition } | undefined;
    for (const v of candidates) {
      const list = promoteOf(byVersion.get(v)?.info)?.['partitions'];
      const entry = Array.isArray(list) ? (list as PromotePartition[]).find((p) => p.partition && partitionKey(columns, p.partition) === key) : undefined;
      if (entry) {
        fingerprint = { version: v, entry };
        break;
      }
    }
    const rows = g.files.map(rowsOf);
    const version = fingerprint?.version ?? written;
    partitions.push({
      partition: g.values,
      files: g.files.length,
      row_count: rows.some((r) => r === null) ? null : rows.reduce<number>((n, r) => n + r!, 0),
      sha256_fingerprint: fingerprint?.entry.sha256_fingerprint ?? null,
      min_ingested_at: fingerprint?.entry.min_ingested_at ?? null,
      max_ingested_at: fingerprint?.entry.max_ingested_at ?? null,
      version,
      run_id: str(byVersion.get(version)?.info?.['run_id']),
      upstream_versions: fingerprint?.entry.upstream_versions ?? [],
    });
  }
  return { table: table.name, version: snapshot.version, runs: runsOf(commits), datasets: datasetsOf(commits, table.dataset ?? table.name), partitions };
}
