/**
 * Quality gates of one dataset, as the catalog declares them (`quality:` in catalog/datasets.yml,
 * validated by src/ingest/catalog.ts) and the results of checking them. A failing gate of
 * severity `error` stops that table's commit; `warn` is reported only.
 */
export type Bound = number | 'current_year';

export interface QualitySpec {
  /** No key twice in the promoted partition, and no key twice inside one bronze batch. */
  unique: boolean;
  notNull: string[];
  acceptedValues: Record<string, (string | number | boolean)[]>;
  ranges: Record<string, { min?: Bound; max?: Bound }>;
  /** Columns whose values must be canonical team codes (sql/silver/_team_codes.sql). */
  teamCodes: string[];
  /** The newest batch of a partition against the partition's previous row count (log stats). */
  rowCount: { maxShrinkPct: number; maxGrowthPct: number | undefined } | undefined;
  /** The newest ingested_at of the promoted rows is at most this old. */
  freshness: { maxAgeHours: number; severity: 'error' | 'warn' } | undefined;
}

export const NO_GATES: QualitySpec = { unique: true, notNull: [], acceptedValues: {}, ranges: {}, teamCodes: [], rowCount: undefined, freshness: undefined };

export type CheckName = 'unique' | 'not_null' | 'accepted_values' | 'range' | 'team_codes' | 'row_count' | 'freshness';
export type CheckStatus = 'pass' | 'fail' | 'warn';
export type PartitionValues = Record<string, string | null>;

export interface CheckResult {
  check: CheckName;
  column?: string;
  /** The partition checked; null for table-level checks (freshness). */
  partition: PartitionValues | null;
  status: CheckStatus;
  severity: 'error' | 'warn';
  /** Rows (or keys) that break the rule; for row_count/freshness the measured value. */
  failing: number;
  message: string;
  /** Up to five offending rows: key columns, partition columns and the checked column. */
  examples: Record<string, unknown>[];
}

/** Human text naming a partition: `season=2020/stat_type=passing`, or `(whole table)`. */
export function partitionLabel(values: PartitionValues | null): string {
  if (!values || Object.keys(values).length === 0) return '(whole table)';
  return Object.entries(values)
    .map(([k, v]) => `${k}=${v ?? 'NULL'}`)
    .join('/');
}

/** The first error-severity failure, for the run's error message. */
export function firstFailure(results: readonly CheckResult[]): CheckResult | undefined {
  return results.find((r) => r.status === 'fail');
}
