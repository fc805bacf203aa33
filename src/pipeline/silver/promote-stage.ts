import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { LakeError, isLakeError } from '../../core/index.js';
import { ident, literal, scanSql, storageCast } from '../../engine/index.js';
import { EMPTY_FINGERPRINT, checkPartitions, fingerprintPartitions, partitionKeySql, partitionLabel, rowRuleViolations, rowsDigestSql, type CheckContext } from '../quality/index.js';
import { STAMP_COLUMNS } from '../bronze/index.js';
import { displayPath, type TaskProgress } from '../run/index.js';
import { admitAlone, type TableWrite } from '../../table/index.js';
import type { AddAction, StructType } from '../../delta/index.js';
import type { DatasetPromoteOutcome, PartitionOutcome, PromoteContext, PromotePlan } from './promote-plan.js';
import { mergeBound, writesDirect } from './promote-direct.js';
import { GROUP_CELLS, incomingSql as ruleRowsSql, mergeSql, numRecords, planGroups, sourceIdSql, stagePartitions, type WorkItem } from './silver-rule.js';

/**
 * Staging of a promote: the changed partitions, in groups of at most `groupCells` cells, are
 * merged with their silver rows, deduplicated and written to Parquet files under `staging`
 * — or, for a single-batch group (writesDirect) or a group of one partition that fits one file
 * (mergeBound), straight into the table's final files; each group is measured (rows
 * before/after, newest batch, fingerprints) and its partition-level quality checks run while its
 * incoming batch is still on disk.
 */

/**
 * Stages every group of the plan; returns the staged files, filling `outcome.partitions` and
 * `outcome.checks`. Each group is an item of `task` (rows and bytes staged, its partitions as units).
 */
export async function stagePromote(
  ctx: PromoteContext,
  plan: PromotePlan,
  checkCtx: CheckContext,
  staging: string,
  outcome: DatasetPromoteOutcome,
  task: TaskProgress,
  write: TableWrite | undefined,
): Promise<string[]> {
  const { rule } = plan;
  await mkdir(staging, { recursive: true });
  const staged: string[] = [];
  for (const group of planGroups(plan.work, plan.silverGroups, rule.columns.length, ctx.options.groupCells ?? GROUP_CELLS)) {
    // A large group keeps DuckDB's memory budget to itself (table/lake.ts SHARED_INPUT_FRACTION).
    const { bronzeFiles, existing } = groupFiles(plan, group);
    const input = [...bronzeFiles, ...existing].reduce((n, f) => n + f.size, 0);
    const stage = (): Promise<void> => stageGroup(ctx, { plan, checkCtx, staging, outcome, task, write, staged }, group);
    await (ctx.admit ?? admitAlone)(input, stage);
  }
  return staged;
}

/** A group's input: its bronze files, and the silver files of its partitions that merge. */
function groupFiles(plan: PromotePlan, group: readonly WorkItem[]): { bronzeFiles: AddAction[]; existing: AddAction[] } {
  return {
    bronzeFiles: group.flatMap(([, item]) => item.files),
    existing: group.flatMap(([key, item]) => (item.mode === 'merge' ? (plan.silverGroups.get(key)?.files ?? []) : [])),
  };
}

/** What stagePromote's groups share; `staged` collects the staging files. */
interface StageJob {
  plan: PromotePlan;
  checkCtx: CheckContext;
  staging: string;
  outcome: DatasetPromoteOutcome;
  task: TaskProgress;
  write: TableWrite | undefined;
  staged: string[];
}

/** One group of stagePromote: written (staged, direct or merged), measured and checked. */
async function stageGroup(ctx: PromoteContext, job: StageJob, group: WorkItem[]): Promise<void> {
  const { plan, checkCtx, staging, outcome, task, write, staged } = job;
  const { lake } = ctx;
  const { def, rule } = plan;
  const file = path.join(staging, `g${staged.length}.parquet`);
  const progress = task.item(groupLabel(group), { step: 'stage' });
  const { bronzeFiles, existing } = groupFiles(plan, group);
  try {
    // The group's rows (`candidate`) and the rule's rows over its bronze files (`incoming`), and where they went.
    let candidate: string;
    let incoming: string;
    let bytes: number;
    const direct = write !== undefined && (await writesDirect(ctx, plan, group));
    const bound = direct || write === undefined ? undefined : mergeBound(ctx, plan, group);
    // The final files a group wrote (direct or merged into them), dropped again if found unchanged.
    let adds: AddAction[] = [];
    if (direct) {
      // Straight into the table's final files (still the `stage` step); the gates then read the rule's rows again.
      const rows = await ruleRowsSql(lake.engine, { rule, bronze: plan.bronzeSnapshot, bronzeFiles });
      adds = await write.writeFiles([rows]);
      candidate = incoming = `(${rows})`;
      bytes = adds.reduce((n, a) => n + a.size, 0);
    } else if (bound !== undefined) {
      // Merged and deduplicated straight into the partition's final file; measured and gated on that file.
      const merge = await mergeSql(lake.engine, { rule, partitionColumns: def.partitions, bronze: plan.bronzeSnapshot, bronzeFiles, silver: plan.silverSnapshot, silverFiles: existing });
      adds = await write!.writeFiles([merge.merged], { partition: group[0]![1].values, rowsAtMost: bound });
      incoming = `(${merge.incoming})`;
      candidate = `(${await scanSql(lake.engine, { ...plan.silverSnapshot!, schema: write!.schema, files: adds })})`;
      bytes = adds.reduce((n, a) => n + a.size, 0);
    } else {
      incoming = `(${await stagePartitions(lake.engine, {
        rule,
        partitionColumns: def.partitions,
        bronze: plan.bronzeSnapshot,
        bronzeFiles,
        silver: plan.silverSnapshot,
        silverFiles: existing,
        file,
        compression: ctx.options.catalog.lake.compression,
      })})`;
      candidate = `read_parquet(${literal(file)})`;
      bytes = (await stat(file)).size;
      staged.push(file);
    }
    progress.step('check');
    const { parts, ruleCounts } = await measureGroup(ctx, plan, checkCtx, group, candidate, incoming, direct);
    if (!direct && outcome.mode === 'incremental') {
      const same = await unchangedPartitions(ctx, plan, group, parts, { relation: bound === undefined ? `read_parquet(${literal(file)})` : candidate, schema: write?.schema });
      for (const part of parts) if (same.has(partitionKeyOf(plan.def.partitions, part.partition))) part.contentUnchanged = true;
    }
    outcome.partitions.push(...parts);
    const inputs = parts.map((p) => ({ partition: p.partition, rowsBefore: p.rowsBefore ?? undefined, rowsInBatch: p.rowsInBatch }));
    // A direct group under a key dedupe is one batch (one source, one ingested_at) per partition, read as it is.
    const singleBatch = direct && rule.dedupe === 'key';
    outcome.checks.push(...(await checkPartitions(checkCtx, { partitions: inputs, candidate, incoming, singleBatch, ruleCounts })));
    // A merged partition's file that holds what the partition holds already is not committed.
    if (bound !== undefined && parts[0]?.contentUnchanged) await write!.drop(adds);
    progress.finish({ status: 'staged', rows: parts.reduce((n, p) => n + p.rowsAfter, 0), bytes, units: group.length });
  } catch (error) {
    progress.finish({ status: 'failed', units: 0 });
    if (isLakeError(error, 'SQL_ERROR')) {
      throw new LakeError('DATA_INVALID', `${plan.silver.name} ${group.map(([, item]) => partitionLabel(item.values)).join(', ')}: the silver rule cannot be applied to the bronze rows: ${error.message.replace(/^DuckDB: /, '')}`, {
        cause: error,
        hint: `Nothing was committed. Fix ${displayPath(rule.file, ctx.options.cwd)} or the bronze data, then promote again.`,
      });
    }
    throw error;
  }
}

/** `season=2020/week=1`, or the first and last partition of a group of several. */
function groupLabel(group: WorkItem[]): string {
  const first = partitionLabel(group[0]![1].values);
  return group.length === 1 ? first : `${first} … ${partitionLabel(group[group.length - 1]![1].values)} (${group.length} partitions)`;
}

/**
 * Per partition of a staged group (its rows: `candidate`, a relation): rows before/after, the
 * newest batch, fingerprints. A `direct` group's rows are its one batch per source (writesDirect),
 * so the fingerprint scan also gives the batch's rows and upstream versions: one scan, not two.
 * The same scan counts the quality gate's row rules over `candidate` (`ruleCounts`, by partition
 * key, for checkPartitions): the gates need no scan of their own for them.
 */
async function measureGroup(
  ctx: PromoteContext,
  plan: PromotePlan,
  checkCtx: CheckContext,
  group: WorkItem[],
  candidate: string,
  incoming: string,
  direct: boolean,
): Promise<{ parts: PartitionOutcome[]; ruleCounts: Map<string, number[]> }> {
  const { engine } = ctx.lake;
  const { def, rule, silverGroups } = plan;
  const pk = partitionKeySql(def.partitions);
  const dropsDuplicates = rule.exactDuplicates === 'drop';
  const duplicates = dropsDuplicates ? `, count(*) - count(DISTINCT (${rule.columns.map((c) => ident(c.name)).join(', ')})) AS dups` : '';
  const fingerprintKey = rule.key.length > 0 ? rule.key : rule.columns.map((c) => c.name).filter((c) => !(STAMP_COLUMNS as readonly string[]).includes(c));
  const fingerprints = await fingerprintPartitions(engine, candidate, def.partitions, fingerprintKey, { versions: direct, flags: rowRuleViolations(checkCtx) });
  // writesDirect never takes `exact_duplicates: drop`, so a direct group needs no duplicate count.
  const batches =
    direct && !dropsDuplicates
      ? [...fingerprints].map(([key, fp]) => ({ pk: key, n: fp.rowCount, versions: fp.upstreamVersions ?? [], dups: undefined }))
      : await engine.rows<{ pk: string; n: bigint | number; versions: (string | null)[] | null; dups?: bigint | number }>(
          `SELECT pk, count(*) AS n, list(DISTINCT upstream_version ORDER BY upstream_version) AS versions${duplicates}
     FROM (SELECT * FROM (SELECT *, ${pk} AS pk FROM ${incoming} AS incoming) QUALIFY ingested_at = max(ingested_at) OVER (PARTITION BY pk, ${sourceIdSql()}))
     GROUP BY pk`,
        );
  const batchOf = new Map<string, { n: bigint | number; versions: (string | null)[] | null; dups?: bigint | number }>(batches.map((b) => [b.pk, b]));
  const keys = new Set(group.map(([key]) => key));
  // The incoming rows too: a merged group's file is written for its one partition, whatever the rows say.
  const stray = [...fingerprints.keys(), ...batches.map((b) => b.pk)].find((k) => !keys.has(k));
  if (stray !== undefined) {
    throw new LakeError('DATA_INVALID', `silver.${def.name}: the silver rule produced rows for partition ${stray}, which is not one being promoted (${[...keys].join(', ')})`, {
      hint: `The rule must keep the partition columns (${def.partitions.join(', ')}) as bronze has them; fix ${displayPath(rule.file, ctx.options.cwd)}.`,
    });
  }
  const ruleCounts = new Map([...fingerprints].map(([key, fp]) => [key, fp.flagCounts ?? []]));
  const parts = group.map(([key, item]) => {
    const fp = fingerprints.get(key) ?? EMPTY_FINGERPRINT;
    const batch = batchOf.get(key);
    return {
      partition: item.values,
      mode: item.mode,
      rowsBefore: silverGroups.has(key) ? numRecords(silverGroups.get(key)!.files) : null,
      rowsInBatch: Number(batch?.n ?? 0),
      rowsAfter: fp.rowCount,
      sha256Fingerprint: fp.sha256,
      minIngestedAt: fp.minIngestedAt,
      maxIngestedAt: fp.maxIngestedAt,
      upstreamVersions: (batch?.versions ?? []).filter((v): v is string => v !== null),
      ...(dropsDuplicates ? { exactDuplicatesRemoved: Number(batch?.dups ?? 0) } : {}),
    };
  });
  return { parts, ruleCounts };
}

/** The key `partitionKeySql` computes for a partition's values (log strings; '' counts as null). */
export function partitionKeyOf(columns: readonly string[], values: Record<string, string | null>): string {
  return JSON.stringify(columns.map((c) => (values[c] === '' || values[c] === undefined ? null : values[c])));
}

/**
 * The partitions of a merged group whose new rows (`relation`: staged, or the merged partition's
 * final file) equal their silver rows, stamps aside (same count — a count that differs from the
 * log's needs no digest — and the same order-independent digest of every other column): their
 * upstream file changed elsewhere (nflverse re-publishes a file over every season when one season
 * changes), so the commit leaves them as they are, and gold sees no change there either. Only for
 * an incremental promote: a full one (new rule, new schema) rewrites every partition.
 */
async function unchangedPartitions(
  ctx: PromoteContext,
  plan: PromotePlan,
  group: WorkItem[],
  parts: readonly PartitionOutcome[],
  rows: { relation: string; schema?: StructType },
): Promise<Set<string>> {
  const { engine } = ctx.lake;
  const { def, rule, silverGroups, silverSnapshot } = plan;
  // A partition whose row count changed (the log's count against the rows measured) changed: no digest needed.
  const counted = new Set(parts.filter((p) => p.rowsBefore === null || p.rowsBefore === p.rowsAfter).map((p) => partitionKeyOf(def.partitions, p.partition)));
  const merged = group.filter(([key, item]) => item.mode === 'merge' && counted.has(key) && (silverGroups.get(key)?.files.length ?? 0) > 0);
  if (!silverSnapshot || merged.length === 0) return new Set();
  const skip = new Set<string>([...STAMP_COLUMNS, ...def.partitions]);
  const content = rule.columns.map((c) => c.name).filter((c) => !skip.has(c));
  const silverContent = silverSnapshot.schema.fields.map((f) => f.name).filter((c) => !skip.has(c));
  // A column only one side has makes every row differ: not unchanged.
  if (content.length !== silverContent.length || content.some((c) => !silverContent.includes(c))) return new Set();
  // Where every column is stored as silver has it (the write's schema), the new rows cast to their
  // stored types are compared typed with silver's: what the commit would store against what is
  // stored, several times cheaper than comparing text. Otherwise (a dry run, a changed type) as text.
  const typeOf = (schema: StructType, name: string): string => JSON.stringify(schema.fields.find((f) => f.name === name)?.type ?? null);
  const stored = rows.schema;
  const typed = stored !== undefined && content.every((c) => typeOf(stored, c) !== 'null' && typeOf(stored, c) === typeOf(silverSnapshot.schema, c));
  const digest = (relation: string): string => rowsDigestSql(relation, partitionKeySql(def.partitions), content, { asText: !typed });
  const silverScan = await scanSql(engine, { ...silverSnapshot, files: merged.flatMap(([key]) => silverGroups.get(key)!.files) });
  const only = merged.length === group.length ? '' : ` WHERE ${partitionKeySql(def.partitions)} IN (${merged.map(([key]) => literal(key)).join(', ')})`;
  const columns = typed ? [...def.partitions.map(ident), ...content.map((c) => `${storageCast(ident(c), stored.fields.find((f) => f.name === c)!.type)} AS ${ident(c)}`)].join(', ') : '*';
  const same = await engine.rows<{ pk: string; n_new: bigint; n_old: bigint | null }>(
    `SELECT s.pk, s.n AS n_new, o.n AS n_old FROM (${digest(`(SELECT ${columns} FROM ${rows.relation} AS rel${only})`)}) AS s
     JOIN (${digest(`(${silverScan})`)}) AS o ON o.pk = s.pk AND o.n = s.n AND o.h = s.h`,
  );
  const wanted = new Set(merged.map(([key]) => key));
  return new Set(same.map((r) => r.pk).filter((k) => wanted.has(k)));
}
