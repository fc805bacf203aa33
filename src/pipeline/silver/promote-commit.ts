import { PIPELINE_VERSION } from '../../core/index.js';
import { ident, literal } from '../../engine/index.js';
import { fileLayout } from '../catalog/index.js';
import { partitionKeySql, reportPath, summarizeChecks } from '../quality/index.js';
import { beginWrite, type TableWrite } from '../../table/index.js';
import { displayPath } from '../run/index.js';
import type { DatasetPromoteOutcome, PromoteContext, PromotePlan } from './promote-plan.js';
import { reportPartition } from './promote-report.js';
import { partitionKeyOf } from './promote-stage.js';

/**
 * The commit of a promote: one Delta commit replacing exactly the staged partitions, carrying the
 * lineage (bronze version read, per-partition fingerprints, quality summary) in its commitInfo.
 */
export async function beginPromoteWrite(ctx: PromoteContext, plan: PromotePlan): Promise<TableWrite> {
  const write = await beginWrite(ctx.lake, {
    table: plan.silver,
    // Described for the schema only: the rule's canonical columns, which every staged file and direct write has.
    source: `SELECT ${plan.rule.columns.map((c) => `CAST(NULL AS ${c.type}) AS ${ident(c.name)}`).join(', ')} WHERE false`,
    mode: 'replace',
    partitionBy: plan.silverSnapshot ? undefined : plan.def.partitions,
    schemaMode: 'merge',
    configuration: plan.silverSnapshot ? undefined : ctx.options.configuration,
    compression: ctx.options.catalog.lake.compression,
    rowGroupSize: ctx.options.catalog.lake.rowGroupSize,
    ...fileLayout(ctx.options.catalog, plan.def.name),
    sortBy: plan.rule.sortBy,
    operationParameters: { source: `${plan.bronze.name}@${plan.bronzeSnapshot.version}` },
    now: () => ctx.clock.now(),
  });
  if ('status' in write) throw new Error(`${plan.silver.name}: a promote write cannot be skipped`);
  return write;
}

/**
 * Writes the staged groups (the groups written straight to final files are already in `write`)
 * and commits: one commit replacing exactly the changed partitions.
 */
export async function commitPromote(ctx: PromoteContext, plan: PromotePlan, write: TableWrite, staged: string[], outcome: DatasetPromoteOutcome, started: number): Promise<number> {
  // Partitions whose rows did not change stay as they are: not replaced, not rewritten.
  const same = outcome.partitions.filter((p) => p.contentUnchanged).map((p) => literal(partitionKeyOf(plan.def.partitions, p.partition)));
  const keep = same.length > 0 ? ` WHERE ${partitionKeySql(plan.def.partitions)} NOT IN (${same.join(', ')})` : '';
  // One staged group at a time: the write's sort and memory stay within one group.
  await write.writeFiles(staged.map((file) => `SELECT * FROM read_parquet(${literal(file)})${keep}`));
  const result = await write.commit({
    replacePartitions: outcome.partitions.filter((p) => !p.contentUnchanged).map((p) => p.partition),
    commitMetadata: lineageMetadata(ctx, plan, outcome, started),
  });
  if (result.status !== 'committed') throw new Error(`${plan.silver.name}: the promote commit was skipped`);
  return result.version;
}

/** commitInfo lineage: run, versions, bronze version read, per-partition fingerprints. */
function lineageMetadata(ctx: PromoteContext, plan: PromotePlan, outcome: DatasetPromoteOutcome, started: number): Record<string, unknown> {
  const { def, rule, bronzeSnapshot: bronze } = plan;
  const newest = [...outcome.partitions].sort((a, b) => ((a.maxIngestedAt ?? '') < (b.maxIngestedAt ?? '') ? -1 : 1)).pop();
  const drift = outcome.drift && (outcome.drift.upstream_added.length > 0 || outcome.drift.upstream_missing.length > 0) ? { schema_drift: outcome.drift } : {};
  const summary = summarizeChecks(outcome.checks);
  return {
    run_id: ctx.runId,
    pipeline_version: PIPELINE_VERSION,
    upstream_version: newest?.upstreamVersions[newest.upstreamVersions.length - 1] ?? null,
    dataset: def.name,
    source_versions: { [`bronze.${def.name}`]: bronze.version },
    ...(ctx.options.validate === false ? { validate: false } : {}),
    promote: {
      bronze_table: `bronze.${def.name}`,
      bronze_table_id: bronze.metadata.id,
      bronze_version: bronze.version,
      bronze_from_version: outcome.bronzeFromVersion,
      mode: outcome.mode,
      ...(outcome.fullReason ? { full_reason: outcome.fullReason } : {}),
      started_at: new Date(started).toISOString(),
      rule: { file: `sql/silver/${def.name}.sql`, sha256: rule.sha256 },
      key: rule.key,
      dedupe: rule.dedupe,
      ...(rule.exactDuplicates === 'drop' ? { exact_duplicates: 'drop', exact_duplicates_removed: outcome.partitions.reduce((n, p) => n + (p.exactDuplicatesRemoved ?? 0), 0) } : {}),
      last_ingest_utc: newest?.maxIngestedAt ?? null,
      rows_last_batch: outcome.partitions.reduce((n, p) => n + p.rowsInBatch, 0),
      changed_partitions: outcome.partitions.filter((p) => !p.contentUnchanged).map((p) => p.partition),
      unchanged_partitions: outcome.partitions.filter((p) => p.contentUnchanged).map((p) => p.partition),
      partitions: outcome.partitions.map((p) => ({ ...reportPartition(p), row_count: p.rowsAfter })),
      quality: { report: displayPath(reportPath(ctx.reportDir, def.name, ctx.runId), ctx.options.cwd), ...summary, ...(ctx.options.validate === false ? { quality_gates: 'skipped' } : {}) },
      ...drift,
    },
  };
}
