import { summarizeChecks, writeQualityReport, type QualityReport, type ReportPartition } from '../quality/index.js';
import type { DatasetDef } from '../catalog/index.js';
import type { DatasetPromoteOutcome, PartitionOutcome, PromoteContext } from './promote-plan.js';

/** The quality report every promote writes per dataset (`<reportDir>/<dataset>/<run_id>.json`), whatever the outcome. */
export function reportPartition(p: PartitionOutcome): ReportPartition & { upstream_versions: string[]; exact_duplicates_removed?: number; content_unchanged?: boolean } {
  return {
    partition: p.partition,
    mode: p.mode,
    rows_before: p.rowsBefore,
    rows_in_batch: p.rowsInBatch,
    rows_after: p.rowsAfter,
    sha256_fingerprint: p.sha256Fingerprint,
    min_ingested_at: p.minIngestedAt,
    max_ingested_at: p.maxIngestedAt,
    upstream_versions: p.upstreamVersions,
    ...(p.exactDuplicatesRemoved !== undefined ? { exact_duplicates_removed: p.exactDuplicatesRemoved } : {}),
    ...(p.contentUnchanged ? { content_unchanged: true } : {}),
  };
}

/** Writes the report; its path, or null when it could not be written (logged, never fails the promote). */
export async function writeReport(ctx: PromoteContext, def: DatasetDef, outcome: DatasetPromoteOutcome, started: number): Promise<string | null> {
  const report: QualityReport = {
    run_id: ctx.runId,
    dataset: def.name,
    table: outcome.table,
    status: outcome.status === 'failed' ? (outcome.error?.code === 'QUALITY_GATE_FAILED' ? 'failed' : 'error') : outcome.status === 'committed' ? 'committed' : 'unchanged',
    started_at: new Date(started).toISOString(),
    finished_at: new Date(ctx.clock.now()).toISOString(),
    bronze_table: `bronze.${def.name}`,
    bronze_version: outcome.bronzeVersion,
    bronze_from_version: outcome.bronzeFromVersion,
    silver_version_before: outcome.versionBefore,
    silver_version_after: outcome.version,
    partitions: outcome.partitions.map(reportPartition),
    checks: outcome.checks,
    summary: summarizeChecks(outcome.checks),
    ...(ctx.options.validate === false ? { quality_gates: 'skipped' as const } : {}),
    ...(outcome.error ? { error: { code: outcome.error.code, message: outcome.error.message } } : {}),
  };
  try {
    return await writeQualityReport(ctx.reportDir, report);
  } catch (error) {
    ctx.options.logger?.warn({ dataset: def.name, err: String(error) }, 'quality report not written');
    return null;
  }
}
