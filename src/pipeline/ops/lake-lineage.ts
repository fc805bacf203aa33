import { PIPELINE_VERSION } from '../../core/index.js';
import { listLakeTables, type Lake } from '../../table/index.js';
import { tableLineage, type DatasetLineage, type PartitionLineage, type RunLineage, type TableLineage } from './lineage.js';

/**
 * `lake lineage --all [--out catalog/lineage.json]`: the lineage of every table of the lake in one
 * document, for tools that read a lineage file. It has the seed's three levels, each row naming
 * its table: `runs` (one per run_id over every table it committed to, with the versions per
 * table), `datasets` (last ingest, rows of the last batch, changed partitions, bronze versions
 * read) and `partitions` (row count, sha256 fingerprint, ingested_at range, the version and run that
 * wrote it); `tables` lists each table at the version read. Derived from the Delta logs alone
 * (tableLineage, lineage.ts); pure apart from reading them.
 */
export const LINEAGE_FORMAT = 'nfl-lakehouse/lineage@1';

export interface LakeRunLineage extends Omit<RunLineage, 'versions' | 'operations'> {
  /** Versions the run committed, per table. */
  tables: Record<string, number[]>;
  operations: string[];
}

export interface LakeLineage {
  format: typeof LINEAGE_FORMAT;
  generated_at: string;
  pipeline_version: string;
  tables: { table: string; layer: string | null; version: number }[];
  runs: LakeRunLineage[];
  datasets: (DatasetLineage & { table: string })[];
  partitions: (PartitionLineage & { table: string })[];
}

/** Merges per-table run rows into one row per run_id: earliest start, latest end, versions by table. */
export function mergeRuns(tables: readonly TableLineage[]): LakeRunLineage[] {
  const runs = new Map<string, LakeRunLineage>();
  for (const t of tables) {
    for (const r of t.runs) {
      const seen = runs.get(r.run_id);
      if (!seen) {
        runs.set(r.run_id, { run_id: r.run_id, started_at: r.started_at, ended_at: r.ended_at, pipeline_version: r.pipeline_version, upstream_version: r.upstream_version, status: r.status, operations: [...r.operations], source_versions: { ...r.source_versions }, tables: { [t.table]: [...r.versions] } });
        continue;
      }
      if (r.started_at < seen.started_at) seen.started_at = r.started_at;
      if (r.ended_at > seen.ended_at) seen.ended_at = r.ended_at;
      seen.upstream_version ??= r.upstream_version;
      for (const op of r.operations) if (!seen.operations.includes(op)) seen.operations.push(op);
      Object.assign(seen.source_versions, r.source_versions);
      seen.tables[t.table] = [...(seen.tables[t.table] ?? []), ...r.versions];
    }
  }
  return [...runs.values()].sort((a, b) => (a.started_at < b.started_at ? -1 : a.started_at > b.started_at ? 1 : a.run_id < b.run_id ? -1 : 1));
}

export async function lakeLineage(lake: Lake, options: { now?: number } = {}): Promise<LakeLineage> {
  const lineages: TableLineage[] = [];
  const layers = new Map<string, string | null>();
  for (const ref of await listLakeTables(lake)) {
    lineages.push(await tableLineage(lake, ref));
    layers.set(ref.name, ref.layer ?? null);
  }
  return {
    format: LINEAGE_FORMAT,
    generated_at: new Date(options.now ?? Date.now()).toISOString(),
    pipeline_version: PIPELINE_VERSION,
    tables: lineages.map((l) => ({ table: l.table, layer: layers.get(l.table) ?? null, version: l.version })),
    runs: mergeRuns(lineages),
    datasets: lineages.flatMap((l) => l.datasets.map((d) => ({ table: l.table, ...d }))),
    partitions: lineages.flatMap((l) => l.partitions.map((p) => ({ table: l.table, ...p }))),
  };
}
