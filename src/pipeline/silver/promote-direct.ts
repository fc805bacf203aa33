import { filesFor, ident, scanSql } from '../../engine/index.js';
import { fileLayout } from '../catalog/index.js';
import { partitionKeySql } from '../quality/index.js';
import type { PromoteContext, PromotePlan } from './promote-plan.js';
import { numRecords, sourceIdSql, type WorkItem } from './silver-rule.js';

/**
 * Whether a staged group's rows may go from the silver rule straight into the table's final data
 * files, skipping the staging file (one full write of the group less). That is so when the
 * dedupe cannot change the rows: every partition of the group is rebuilt from bronze alone (no
 * silver rows to merge) and holds exactly one batch — one ingested_at (and, for a `key` dedupe,
 * one source) per partition. Then `latest_batch` keeps every row, and `key` keeps every row
 * unless a key repeats inside the batch, which the `unique` quality gate fails (nothing is
 * committed and the written files are discarded), so the direct path needs that gate enforced.
 * Never for a dry run (it writes nothing into the table), `--no-validate`, or
 * `exact_duplicates: drop`. A full promote after a bootstrap is all single-batch rebuilds.
 */
export async function writesDirect(ctx: PromoteContext, plan: PromotePlan, group: readonly WorkItem[]): Promise<boolean> {
  const { rule, def, spec } = plan;
  if (ctx.options.dryRun || ctx.options.validate === false || rule.exactDuplicates === 'drop') return false;
  if (group.some(([, item]) => item.mode !== 'rebuild' || item.files.length === 0)) return false;
  if (rule.dedupe === 'key' && !(spec.unique && rule.key.length > 0)) return false;
  const { engine } = ctx.lake;
  const files = group.flatMap(([, item]) => item.files);
  const scan = await scanSql(engine, { ...plan.bronzeSnapshot, files }, { columns: [...def.partitions, 'ingested_at', 'source'] });
  const perPartition =
    rule.dedupe === 'key'
      ? `SELECT ${partitionKeySql(def.partitions)} AS pk, count(DISTINCT ingested_at) AS stamps, count(DISTINCT ${ident('source')}) AS sources FROM (${scan}) AS bronze GROUP BY pk`
      : `SELECT ${partitionKeySql(def.partitions)} AS pk, ${sourceIdSql()} AS source_id, count(DISTINCT ingested_at) AS stamps, 1 AS sources FROM (${scan}) AS bronze GROUP BY ALL`;
  const [row] = await engine.rows<{ mixed: bigint | number }>(`SELECT count(*) AS mixed FROM (${perPartition}) AS batches WHERE stamps > 1 OR sources > 1`);
  return Number(row?.mixed ?? 1) === 0;
}

/**
 * For a group the dedupe can change (writesDirect said no) that is one partition fitting one data
 * file: the most rows its merge can have (its silver rows, when merged, plus its bronze rows, from
 * the log stats). Such a group is merged and deduplicated straight into the table's final data
 * file — one sorted COPY, no staging file, no second write — and measured and gated on that file
 * (a merged partition found unchanged has its file dropped: not committed). Undefined otherwise
 * (several partitions, a partition of several files, unknown row counts, no silver table yet, a
 * dry run): the group is staged.
 */
export function mergeBound(ctx: PromoteContext, plan: PromotePlan, group: readonly WorkItem[]): number | undefined {
  if (ctx.options.dryRun || !plan.silverSnapshot || group.length !== 1) return undefined;
  const [key, item] = group[0]!;
  if (item.files.length === 0) return undefined;
  const bronzeRows = numRecords(item.files);
  const silverRows = item.mode === 'merge' ? numRecords(plan.silverGroups.get(key)?.files ?? []) : 0;
  if (bronzeRows === null || silverRows === null) return undefined;
  const bound = bronzeRows + silverRows;
  return filesFor(bound, { maxRowsPerFile: fileLayout(ctx.options.catalog, plan.def.name).maxRowsPerFile }) === 1 ? bound : undefined;
}
