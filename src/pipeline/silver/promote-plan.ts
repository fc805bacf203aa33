import type { Clock, Logger } from '../../core/index.js';
import type { AddAction, Snapshot } from '../../delta/index.js';
import { NO_GATES, validateSpec, type CheckResult, type PartitionValues, type QualitySpec } from '../quality/index.js';
import { bronzeTable } from '../bronze/index.js';
import { findSnapshot, type Admit, type Lake, type TableRef } from '../../table/index.js';
import type { ProgressReporter, ProgressSink, RunError } from '../run/index.js';
import { partitionLayoutError, type Catalog, type DatasetDef } from '../catalog/index.js';
import { lastPromote } from './last-promote.js';
import { changedPartitions, groupFiles, loadSilverRule, schemaDrift, silverTable, type PartitionWork, type RuleDrift, type SilverRule } from './silver-rule.js';

/**
 * The plan of one dataset's promote: read bronze and silver once, load the rule, and find the
 * partitions to replace (every partition bronze changed since the bronze version the last promote
 * read, or all of them for a `full` reason). Reads logs only; stages nothing.
 */
export interface PromoteOptions {
  catalog: Catalog;
  /** Dataset names; default every enabled dataset whose silver rule is enabled. */
  datasets?: string[];
  dryRun?: boolean;
  /**
   * `--no-validate` (false): the quality checks still run and are reported, but a failing one does
   * not stop the commit; the commit (`validate: false`, `quality_gates: "skipped"`), the report and
   * the run log say so. Default true; never turned off by configuration.
   */
  validate?: boolean;
  maxWorkers?: number;
  runId?: string;
  clock?: Clock;
  /** Where reports go: `<dir>/<dataset>/<run_id>.json`; default `quality/` next to the catalog file. */
  reportDir?: string;
  sqlDir?: string;
  /** An open lake; otherwise one is opened at `root` (default the catalog's lake root) and closed. */
  lake?: Lake;
  root?: string;
  /** Table properties for silver tables created by this run. */
  configuration?: Record<string, string>;
  /** Rows × columns staged together at most (default GROUP_CELLS). */
  groupCells?: number;
  /** Paths in messages and commits are shown relative to this folder (the CLI's working directory); absolute otherwise. */
  cwd?: string;
  logger?: Logger;
  /** Where progress goes besides `logger` (the CLI's display). */
  progress?: ProgressSink;
}

/** What every dataset of one promote run shares. */
export interface PromoteContext {
  options: PromoteOptions;
  lake: Lake;
  runId: string;
  clock: Clock;
  reportDir: string;
  sqlDir: string;
  stagingRoot: string;
  progress: ProgressReporter;
  /** Admission of a group's input among the run's workers (onLakeWorkers); none: the group runs at once. */
  admit?: Admit;
}

export interface PartitionOutcome {
  partition: PartitionValues;
  mode: 'merge' | 'rebuild';
  rowsBefore: number | null;
  rowsInBatch: number;
  rowsAfter: number;
  sha256Fingerprint: string;
  minIngestedAt: string | null;
  maxIngestedAt: string | null;
  upstreamVersions: string[];
  /** Rows of the newest batch that repeated another row exactly and were dropped (`silver.exact_duplicates: drop` only). */
  exactDuplicatesRemoved?: number;
  /** Its staged rows equal its silver rows (stamps aside): the commit leaves it untouched (incremental promotes only). */
  contentUnchanged?: boolean;
}

export interface DatasetPromoteOutcome {
  dataset: string;
  table: string;
  /** committed | unchanged (no bronze commit since the last promote) | planned (dry run) | failed | skipped (no bronze table). */
  status: 'committed' | 'unchanged' | 'planned' | 'failed' | 'skipped';
  version: number | null;
  versionBefore: number | null;
  bronzeVersion: number | null;
  bronzeFromVersion: number | null;
  mode: 'incremental' | 'full' | null;
  /** Why every partition is rebuilt (mode full). */
  fullReason: string | null;
  partitions: PartitionOutcome[];
  checks: CheckResult[];
  drift: RuleDrift | null;
  report: string | null;
  notices: string[];
  error?: RunError;
  ms: number;
}

export interface PromotePlan {
  def: DatasetDef;
  silver: TableRef;
  bronze: TableRef;
  bronzeSnapshot: Snapshot;
  silverSnapshot: Snapshot | undefined;
  rule: SilverRule;
  spec: QualitySpec;
  /** The partitions to replace, by partition key. */
  work: Map<string, PartitionWork>;
  /** Silver's current files by partition key. */
  silverGroups: Map<string, { values: PartitionValues; files: AddAction[] }>;
}

export function emptyOutcome(def: DatasetDef, silver: TableRef): DatasetPromoteOutcome {
  return { dataset: def.name, table: silver.name, status: 'unchanged', version: null, versionBefore: null, bronzeVersion: null, bronzeFromVersion: null, mode: null, fullReason: null, partitions: [], checks: [], drift: null, report: null, notices: [], ms: 0 };
}

/**
 * Plans the promote of `def`, recording what it read in `outcome` (versions, drift, mode).
 * Undefined when there is nothing to stage: no bronze table (status skipped) or no changed partition.
 */
export async function planPromote(ctx: PromoteContext, def: DatasetDef, outcome: DatasetPromoteOutcome): Promise<PromotePlan | undefined> {
  const { lake } = ctx;
  const silver = silverTable(lake, def.name);
  const bronze = bronzeTable(lake, def.name);
  const bronzeSnapshot = await findSnapshot(lake, bronze);
  if (!bronzeSnapshot) {
    outcome.status = 'skipped';
    outcome.notices.push(`${bronze.name} does not exist yet: run lake bootstrap first`);
    return undefined;
  }
  const silverSnapshot = await findSnapshot(lake, silver);
  for (const [table, snapshot] of [[bronze.name, bronzeSnapshot], [silver.name, silverSnapshot]] as const) {
    const layout = snapshot ? partitionLayoutError(ctx.options.catalog, def, table, snapshot.partitionColumns) : undefined;
    if (layout) throw layout;
  }
  outcome.versionBefore = silverSnapshot?.version ?? null;
  outcome.version = outcome.versionBefore;
  outcome.bronzeVersion = bronzeSnapshot.version;
  const rule = await loadSilverRule(lake.engine, def, ctx.sqlDir);
  const spec = def.quality ?? NO_GATES;
  validateSpec(spec, rule.key, new Set(rule.columns.map((c) => c.name)), def.name, ctx.options.catalog.file);
  outcome.drift = schemaDrift(rule, bronzeSnapshot.schema.fields.map((f) => f.name));
  const last = silverSnapshot ? await lastPromote(silver) : undefined;
  outcome.bronzeFromVersion = last?.bronzeVersion ?? null;
  const { mode, reason, work } = await changedPartitions(bronzeSnapshot, silverSnapshot, last, rule.sha256);
  outcome.mode = mode;
  outcome.fullReason = reason ?? null;
  if (work.size === 0) return undefined;
  const silverGroups = groupFiles(bronzeSnapshot.partitionColumns, silverSnapshot?.files ?? []);
  return { def, silver, bronze, bronzeSnapshot, silverSnapshot, rule, spec, work, silverGroups };
}
