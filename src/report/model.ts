import type { Layer } from '../table/index.js';

/**
 * The data of `lake report`: what the page shows, and what `lake report --json` prints. Read from
 * the Delta logs, the quality reports and the run logs alone. Times are ISO 8601 (UTC); sizes in
 * bytes; `version` is always a table version number.
 */
export type PartitionValues = Record<string, string | null>;

/** How a commit changed the table, for the timeline's colours. */
export type CommitKind = 'append' | 'replace' | 'restore' | 'rollback' | 'optimize' | 'gc' | 'delete' | 'create' | 'other';

export const COMMIT_KINDS: readonly CommitKind[] = ['create', 'append', 'replace', 'restore', 'rollback', 'optimize', 'gc', 'delete', 'other'];

export interface CommitSummary {
  version: number;
  timestamp: string;
  operation: string | null;
  kind: CommitKind;
  run_id: string | null;
  rows_added: number | null;
  rows_removed: number | null;
  files_added: number;
  files_removed: number;
  /** Labels (`season=2020`) of the partitions whose files the commit added or removed. */
  partitions: string[];
}

/** A partition's state after one commit that changed it. */
export interface PartitionChange {
  version: number;
  timestamp: string;
  kind: CommitKind;
  run_id: string | null;
  rows_before: number | null;
  rows_after: number | null;
  bytes_after: number;
  files_after: number;
  /** `lake diff <table> --from <version - 1> --to <version>`; null for the commit that created the partition. */
  diff: string | null;
}

export interface PartitionState {
  partition: PartitionValues;
  label: string;
  rows: number | null;
  bytes: number;
  files: number;
  /** Every commit that changed the partition, oldest first (those still in the log). */
  changes: PartitionChange[];
}

export type FreshnessStatus = 'fresh' | 'stale' | 'no-rule' | 'unknown';

export interface Freshness {
  status: FreshnessStatus;
  /** The catalog's `quality.freshness.max_age_hours` of the dataset. */
  max_age_hours: number | null;
  severity: 'error' | 'warn' | null;
  /** Newest `ingested_at` in the table (file statistics of the latest version). */
  newest_ingested_at: string | null;
  age_hours: number | null;
}

export interface TableSummary {
  table: string;
  layer: Layer;
  dataset: string;
  version: number;
  rows: number | null;
  bytes: number;
  files: number;
  partition_columns: string[];
  last_commit: CommitSummary;
  freshness: Freshness;
  /** Every commit still in the log, oldest first. */
  history: CommitSummary[];
  partitions: PartitionState[];
}

export type GateStatus = 'pass' | 'fail' | 'warn';

/** One gate (check + column) of one dataset in one promote run, over all partitions it checked. */
export interface GateRun {
  run_id: string;
  started_at: string;
  report_status: string;
  status: GateStatus;
  /** Rows or keys breaking the rule; row_count: the largest shrink in %; freshness: age in hours. */
  value: number;
  /** The largest passing value (0 for row rules). */
  threshold: number;
  unit: string;
  messages: string[];
  examples: Record<string, unknown>[];
}

export interface GateTrend {
  gate: string;
  check: string;
  column: string | null;
  runs: GateRun[];
}

export interface DatasetQuality {
  dataset: string;
  table: string;
  reports: number;
  last_status: string;
  gates: GateTrend[];
}

export interface LineageNode {
  id: string;
  /** 0 upstream files, 1 bronze, 2 silver, 3 gold. */
  stage: number;
  table: string | null;
  version: number | null;
  label: string;
  run_id: string | null;
}

export interface LineageEdge {
  from: string;
  to: string;
}

export interface RunLineageGraph {
  run_id: string;
  nodes: LineageNode[];
  edges: LineageEdge[];
}

export interface RunSummary {
  run_id: string;
  started_at: string;
  ended_at: string;
  /** `layer.dataset@version` of every commit the run made. */
  commits: { table: string; version: number; kind: CommitKind }[];
  rollback_of_run: string | null;
  /** Quality reports of the run: dataset and status. */
  quality: { dataset: string; status: string }[];
  /** From `logs/<run_id>.jsonl` when present. */
  log: { file: string; lines: number; errors: string[]; command: string | null } | null;
  rollback: string;
}

export interface DiagramNode {
  id: string;
  label: string;
  group: string;
}

export interface Diagram {
  nodes: DiagramNode[];
  edges: (LineageEdge & { label?: string })[];
  mermaid: string;
}

export interface ErdEntity {
  mart: string;
  table: string;
  summary: string;
  grain: string[];
  partition_by: string[];
  columns: { name: string; type: string | null; description: string }[];
}

export interface ErdRelation {
  from: string;
  to: string;
  columns: string[];
}

export interface Erd {
  entities: ErdEntity[];
  relations: ErdRelation[];
  mermaid: string;
}

export interface ReportData {
  generated_at: string;
  lake_root: string;
  quality_dir: string;
  logs_dir: string;
  tables: TableSummary[];
  quality: DatasetQuality[];
  runs: RunSummary[];
  /** The newest run's lineage and every other run's, newest first. */
  lineage: RunLineageGraph[];
  pipeline: Diagram;
  erd: Erd;
}
