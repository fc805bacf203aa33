import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { LakeError, PIPELINE_VERSION } from '../../core/index.js';
import { columnMappingMode, type Snapshot } from '../../delta/index.js';
import { ident, literal, scanSql } from '../../engine/index.js';
import { findSnapshot, prepareQuery, resolveTable, writeTable, type TableRef, type WriteResult } from '../../table/index.js';
import { displayPath, toRunError, type RunError } from '../run/index.js';
import { rowsDigestSql } from '../quality/index.js';
import type { MartRule } from './mart-rule.js';
import { pinnedSql, planScope, sourceStates, type GoldContext, type Scope, type SourceState } from './plan.js';

/**
 * One mart of a build-gold run: plan (sources, scope), stage the rows of the scope to Parquet files
 * (a group of seasons each, `stageMart`), check the grain on the staged rows, commit them as one
 * Delta commit (a partition replace of the seasons, or an overwrite) recording the source versions read.
 */
export interface MartOutcome {
  mart: string;
  table: string;
  /** committed | unchanged (no source change) | planned (dry run) | failed | skipped (a gold source failed). */
  status: 'committed' | 'unchanged' | 'planned' | 'failed' | 'skipped';
  /** Partitioned by season (else rebuilt whole). */
  partitioned: boolean;
  /** full: every season (or an unpartitioned mart); seasons: the seasons listed. */
  mode: 'full' | 'seasons' | null;
  reason: string;
  seasons: number[] | null;
  versionBefore: number | null;
  version: number | null;
  /** The version of every existing source read. */
  sourceVersions: Record<string, number>;
  /** Sources that do not exist yet (read as empty relations with their canonical columns). */
  missingSources: string[];
  rows: number | null;
  rowsBySeason: Record<string, number>;
  /** Statements that staged the rows: one per group of seasons (GOLD_SEASONS_PER_STAGE), or one. */
  stages: number;
  filesAdded: number;
  filesRemoved: number;
  error?: RunError;
  ms: number;
}

/** A mart as planned: its table, current snapshot, sources and scope. */
interface MartPlan {
  rule: MartRule;
  ref: TableRef;
  mart: Snapshot | undefined;
  sources: SourceState[];
  scope: Scope;
}

function emptyOutcome(rule: MartRule): MartOutcome {
  return { mart: rule.mart, table: rule.table, status: 'unchanged', partitioned: rule.partitionBy.length > 0, mode: null, reason: '', seasons: null, versionBefore: null, version: null, sourceVersions: {}, missingSources: [], rows: null, rowsBySeason: {}, stages: 0, filesAdded: 0, filesRemoved: 0, ms: 0 };
}

/**
 * Builds one mart; `failedSources` are gold sources that failed in this run (the mart is skipped).
 * Progress: the mart is a task counting seasons (an unpartitioned mart: one table); its build is an
 * item through the steps plan, stage, check, commit, with the rows and bytes staged.
 */
export async function buildMart(ctx: GoldContext, rule: MartRule, failedSources: string[]): Promise<MartOutcome> {
  const t0 = ctx.clock.now();
  const outcome = emptyOutcome(rule);
  const staged = path.join(ctx.stagingRoot, rule.mart);
  const partitioned = rule.partitionBy.length > 0;
  const task = ctx.progress.task(rule.mart, partitioned ? { unit: 'season' } : { unit: 'table', units: 1 });
  const build = task.item(rule.table, { step: 'plan' });
  try {
    if (failedSources.length > 0) {
      outcome.status = 'skipped';
      outcome.reason = `${failedSources.join(', ')} failed`;
      return outcome;
    }
    const plan = await planMart(ctx, rule, outcome);
    if (plan.scope.mode === null || plan.scope.seasons) task.total(plan.scope.seasons?.length ?? 0);
    if (plan.scope.mode === null) return outcome;
    if (ctx.options.dryRun) {
      outcome.status = 'planned';
      ctx.planned.set(rule.table, plan.scope.seasons ? new Set(plan.scope.seasons) : 'all');
      return outcome;
    }
    build.step('stage');
    const files = await stageMart(ctx, plan, staged);
    outcome.stages = files.length;
    build.step('check');
    await checkStaged(ctx, rule, files, outcome);
    if (partitioned && !plan.scope.seasons) task.total(Object.keys(outcome.rowsBySeason).length);
    build.update({ rows: outcome.rows ?? 0, bytes: await stagedBytes(files) });
    build.step('commit');
    const result = await commitMart(ctx, plan, files, outcome);
    if (result.status === 'committed') {
      outcome.status = 'committed';
      outcome.version = result.version;
      outcome.filesAdded = result.filesAdded;
      outcome.filesRemoved = result.filesRemoved;
    }
    return outcome;
  } catch (error) {
    outcome.status = 'failed';
    outcome.error = toRunError(error);
    return outcome;
  } finally {
    await rm(staged, { recursive: true, force: true });
    outcome.ms = ctx.clock.now() - t0;
    const built = outcome.status === 'committed' || outcome.status === 'planned';
    const units = !built ? 0 : partitioned ? (outcome.seasons?.length ?? Object.keys(outcome.rowsBySeason).length) : 1;
    build.finish({ status: outcome.status, rows: outcome.rows ?? 0, units });
    task.finish(outcome.status);
  }
}

/** Reads the mart and its sources, records their versions in `outcome`, and decides the scope. */
async function planMart(ctx: GoldContext, rule: MartRule, outcome: MartOutcome): Promise<MartPlan> {
  const ref = resolveTable(ctx.lake, rule.table);
  const mart = await findSnapshot(ctx.lake, ref);
  outcome.versionBefore = mart?.version ?? null;
  outcome.version = outcome.versionBefore;
  const sources = await sourceStates(ctx, rule, false);
  for (const s of sources) {
    if (s.snapshot) outcome.sourceVersions[s.name] = s.snapshot.version;
    else outcome.missingSources.push(s.name);
  }
  const scope = await planScope(ctx, rule, mart, sources);
  outcome.mode = scope.mode;
  outcome.seasons = scope.seasons;
  outcome.reason = scope.reason;
  return { rule, ref, mart, sources, scope };
}

/**
 * Seasons of a season-partitioned mart staged by one statement. The mart's SQL joins and windows
 * its sources season by season (the nightly build of a few seasons relies on the same), so staging
 * the history in groups keeps a full build's memory that of a few seasons, however long the history:
 * fact_player_week over 1999–2025 in one statement peaked at 1.34 GiB RSS under the 1 GiB budget,
 * 0.88 GiB staged (and written) four seasons at a time.
 */
export const GOLD_SEASONS_PER_STAGE = 4;

/** The staged rows of a mart: every file `stageMart` wrote. */
function stagedRows(files: readonly string[]): string {
  return `read_parquet([${files.map(literal).join(', ')}])`;
}

async function stagedBytes(files: readonly string[]): Promise<number> {
  let bytes = 0;
  for (const file of files) bytes += (await stat(file)).size;
  return bytes;
}

/**
 * Every season the mart's season-partitioned sources hold, ascending; undefined when the rows are
 * staged by one statement: a mart not partitioned by season, no source partitioned by season, or a
 * partition value that is not a plain season (NULL, column mapping).
 */
function sourceSeasons(rule: MartRule, sources: readonly SourceState[]): number[] | undefined {
  if (rule.partitionBy.join(',') !== 'season') return undefined;
  const seasons = new Set<number>();
  let partitioned = false;
  for (const { snapshot } of sources) {
    if (!snapshot?.partitionColumns.includes('season')) continue;
    if (columnMappingMode(snapshot.metadata.configuration ?? {}) !== 'none') return undefined;
    partitioned = true;
    for (const file of snapshot.files) {
      const value = file.partitionValues['season'];
      if (value === null || value === undefined || !/^\d{1,4}$/.test(value)) return undefined;
      seasons.add(Number(value));
    }
  }
  return partitioned ? [...seasons].sort((a, b) => a - b) : undefined;
}

/**
 * Writes the rows of the scope (the pinned SELECT, filtered to its seasons) to Parquet files in the
 * folder `staged`, GOLD_SEASONS_PER_STAGE seasons per statement (ctx.options.seasonsPerStage). A
 * full build names the seasons its sources hold and stages last the rows of any other season (or
 * none), from the unpartitioned sources alone (the season-partitioned ones read as empty): the
 * same rows as one statement over everything. Returns the files written, one per statement, in order.
 */
async function stageMart(ctx: GoldContext, plan: MartPlan, staged: string): Promise<string[]> {
  const { scope, rule } = plan;
  const perStage = Math.max(1, Math.floor(ctx.options.seasonsPerStage ?? GOLD_SEASONS_PER_STAGE));
  const seasons = scope.seasons ?? sourceSeasons(rule, plan.sources);
  await mkdir(staged, { recursive: true });
  const files: string[] = [];
  // `only`: the seasons the season-partitioned sources are read at (null: every season).
  const stage = async (only: number[] | null, where: string): Promise<void> => {
    const prepared = await prepareQuery(ctx.lake, await pinnedSql(ctx, rule, plan.sources, only));
    const file = path.join(staged, `part-${files.length}.parquet`);
    await ctx.lake.engine.run(`COPY (SELECT * FROM (${prepared.sql}) AS mart${where}) TO ${literal(file)} (FORMAT parquet, COMPRESSION ${ctx.options.catalog.lake.compression})`);
    files.push(file);
  };
  // A full build of at most one group (or of a mart staged whole): one statement over everything.
  if (!seasons || (!scope.seasons && seasons.length <= perStage)) {
    await stage(null, '');
    return files;
  }
  for (let at = 0; at < seasons.length; at += perStage) {
    const group = seasons.slice(at, at + perStage);
    await stage(group, ` WHERE season IN (${group.join(', ')})`);
  }
  if (!scope.seasons) await stage([], ` WHERE season IS NULL${seasons.length > 0 ? ` OR season NOT IN (${seasons.join(', ')})` : ''}`);
  return files;
}

/**
 * Grain keys unique and non-NULL in the staged rows, else QUALITY_GATE_FAILED (nothing committed);
 * then the rows staged, in total and per season (a season-partitioned mart), into `outcome`. One
 * statement: the grain check and the counts read the staged files together.
 */
async function checkStaged(ctx: GoldContext, rule: MartRule, files: readonly string[], outcome: MartOutcome): Promise<void> {
  const keys = rule.grain.map(ident).join(', ');
  const file = stagedRows(files);
  const bySeason = rule.partitionBy.length > 0 ? `, (SELECT list(struct_pack(season := CAST(season AS VARCHAR), n := n) ORDER BY season) FROM (SELECT season, count(*) AS n FROM ${file} GROUP BY ALL)) AS seasons` : '';
  const [row] = await ctx.lake.engine.rows<{ nulls: bigint; dups: bigint; example: string | null; total: bigint; seasons?: { season: string | null; n: bigint }[] | null }>(
    `SELECT (SELECT count(*) FROM ${file} WHERE ${rule.grain.map((c) => `${ident(c)} IS NULL`).join(' OR ')}) AS nulls,
            (SELECT count(*) FROM (SELECT ${keys} FROM ${file} GROUP BY ALL HAVING count(*) > 1)) AS dups,
            (SELECT CAST(to_json(struct_pack(${rule.grain.map((c) => `${ident(c)} := ${ident(c)}`).join(', ')})) AS VARCHAR) FROM ${file} GROUP BY ALL HAVING count(*) > 1 LIMIT 1) AS example,
            (SELECT count(*) FROM ${file}) AS total${bySeason}`,
  );
  const nulls = Number(row?.nulls ?? 0);
  const dups = Number(row?.dups ?? 0);
  if (nulls === 0 && dups === 0) {
    for (const c of row?.seasons ?? []) outcome.rowsBySeason[String(c.season)] = Number(c.n);
    outcome.rows = Number(row?.total ?? 0);
    return;
  }
  throw new LakeError('QUALITY_GATE_FAILED', `${rule.table}: the grain (${rule.grain.join(', ')}) is not a key of the built rows: ${dups} key${dups === 1 ? '' : 's'} held by several rows${row?.example ? ` (e.g. ${row.example})` : ''}, ${nulls} row${nulls === 1 ? '' : 's'} with a NULL key part; nothing was committed`, {
    hint: `Fix ${displayPath(rule.file, ctx.options.cwd)} (or the silver data it reads), then run lake build-gold again.`,
  });
}

/**
 * A full rebuild forced by a source that changed not by season (an unpartitioned lookup such as
 * silver.players): the seasons whose built rows equal the mart's current rows (same count, same
 * order-independent digest of every column as text) are left as they are, so the commit — and
 * the marts and readers downstream — see only the seasons that really changed. Undefined when it
 * does not apply (a new or recreated mart, a mart not partitioned by season).
 */
async function seasonsToKeep(ctx: GoldContext, plan: MartPlan, files: readonly string[]): Promise<{ keep: Set<string>; emptied: string[] } | undefined> {
  const { rule, scope, mart } = plan;
  if (scope.seasons || scope.recreate || !mart || rule.partitionBy.join(',') !== 'season' || mart.partitionColumns.join(',') !== 'season') return undefined;
  const columns = mart.schema.fields.map((f) => f.name).filter((c) => c !== 'season');
  const digest = (relation: string): string => rowsDigestSql(relation, 'CAST(season AS VARCHAR)', columns, { asText: true });
  const current = `(${await scanSql(ctx.lake.engine, mart)})`;
  const rows = await ctx.lake.engine.rows<{ season: string | null; built: string | null; now: string | null }>(
    `SELECT coalesce(b.pk, c.pk) AS season, CAST(b.n AS VARCHAR) || ':' || CAST(b.h AS VARCHAR) AS built, CAST(c.n AS VARCHAR) || ':' || CAST(c.h AS VARCHAR) AS now
     FROM (${digest(stagedRows(files))}) AS b FULL JOIN (${digest(current)}) AS c ON b.pk IS NOT DISTINCT FROM c.pk`,
  );
  const keep = new Set(rows.filter((r) => r.built !== null && r.built === r.now).map((r) => String(r.season)));
  const emptied = rows.filter((r) => r.built === null).map((r) => String(r.season));
  return { keep, emptied };
}

/** One Delta commit of the staged rows, recording the rule and the source versions read. */
async function commitMart(ctx: GoldContext, plan: MartPlan, files: readonly string[], outcome: MartOutcome): Promise<WriteResult> {
  const { rule, scope, sources } = plan;
  const kept = await seasonsToKeep(ctx, plan, files);
  const changedSeasons = kept ? Object.keys(outcome.rowsBySeason).filter((s) => !kept.keep.has(s)) : undefined;
  const keepFilter = kept && kept.keep.size > 0 ? ` WHERE CAST(season AS VARCHAR) NOT IN (${[...kept.keep].map(literal).join(', ')})` : '';
  // Each staged file (a group of seasons) is written on its own, in one commit: the write's sort
  // by the grain holds a few seasons at a time, as the staging did, and no season spans two files.
  return writeTable(ctx.lake, {
    table: plan.ref,
    source: `SELECT * FROM ${stagedRows(files)}${keepFilter}`,
    sourceParts: files.map((f) => `SELECT * FROM ${stagedRows([f])}${keepFilter}`),
    mode: scope.seasons || kept ? 'replace' : 'overwrite',
    partitionBy: scope.seasons || kept ? undefined : rule.partitionBy,
    schemaMode: scope.recreate ? 'overwrite' : 'strict',
    replacePartitions: kept ? [...changedSeasons!, ...kept.emptied].map((s) => ({ season: s })) : scope.seasons?.map((s) => ({ season: String(s) })),
    configuration: plan.mart ? undefined : ctx.options.configuration,
    compression: ctx.options.catalog.lake.compression,
    rowGroupSize: ctx.options.catalog.lake.rowGroupSize,
    rowGroupMb: ctx.options.catalog.lake.rowGroupMb,
    maxRowsPerFile: ctx.options.catalog.lake.maxRowsPerFile,
    // Marts have no catalog entry: rows are sorted by their grain.
    sortBy: rule.grain,
    operationParameters: { source: Object.entries(outcome.sourceVersions).map(([t, v]) => `${t}@${v}`).join(', ') },
    commitMetadata: {
      run_id: ctx.runId,
      pipeline_version: PIPELINE_VERSION,
      mart: rule.mart,
      business_key: rule.grain,
      source_versions: outcome.sourceVersions,
      gold: {
        mart: rule.mart,
        rule: { file: `sql/gold/${path.basename(rule.file)}`, sha256: rule.sha256 },
        rule_sha256: rule.sha256,
        grain: rule.grain,
        mode: scope.mode,
        reason: scope.reason,
        seasons: scope.seasons,
        ...(kept ? { changed_seasons: [...changedSeasons!, ...kept.emptied].map(Number), unchanged_seasons: [...kept.keep].map(Number).sort((a, b) => a - b) } : {}),
        source_versions: outcome.sourceVersions,
        source_table_ids: Object.fromEntries(sources.filter((s) => s.snapshot).map((s) => [s.name, s.snapshot!.metadata.id])),
        missing_sources: outcome.missingSources,
        rows: outcome.rows,
        rows_by_season: outcome.rowsBySeason,
      },
    },
    now: () => ctx.clock.now(),
  });
}
