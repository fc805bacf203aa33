import { mkdir, readdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { EXIT, LakeError, PIPELINE_VERSION, isLakeError, systemClock, type Clock, type Logger } from '../../core/index.js';
import type { AddAction, Snapshot } from '../../delta/index.js';
import { ident, literal } from '../../engine/index.js';
import {
  NO_GATES,
  EMPTY_FINGERPRINT,
  checkPartitions,
  checkTable,
  fingerprintPartitions,
  firstFailure,
  partitionKeySql,
  partitionLabel,
  reportPath,
  summarizeChecks,
  validateSpec,
  writeQualityReport,
  type CheckContext,
  type CheckResult,
  type PartitionValues,
  type QualityReport,
  type ReportPartition,
} from '../quality/index.js';
import { bronzeTable, STAMP_COLUMNS } from '../bronze/index.js';
import { openLake, tableSnapshot, type Lake, type TableRef, writeTable } from '../../table/index.js';
import { lastPromote } from './last-promote.js';
import {
  DEFAULT_SILVER_SQL_DIR,
  GROUP_CELLS,
  changedPartitions,
  groupFiles,
  loadSilverRule,
  loadTeamCodes,
  numRecords,
  planGroups,
  schemaDrift,
  silverTable,
  stagePartitions,
  type RuleDrift,
  type SilverRule,
  type WorkItem,
} from './silver-rule.js';
import { newRunId } from '../run/index.js';
import type { Catalog, DatasetDef } from '../catalog/index.js';

/**
 * `lake promote`: bronze → silver, per dataset one Delta commit that replaces exactly the
 * partitions whose bronze rows changed since the bronze version the last promote read (recorded
 * in silver's commitInfo, DESIGN.md decisions 8 and 9). Each changed partition is merged with its
 * current silver rows and deduplicated on its own, checked against the catalog's quality gates,
 * and fingerprinted; a failing gate stops that table's commit and the other datasets go on.
 * Every run writes a quality report per dataset. Never prints: returns a typed result.
 */
export interface PromoteOptions {
  catalog: Catalog;
  /** Dataset names; default every enabled dataset whose silver rule is enabled. */
  datasets?: string[];
  dryRun?: boolean;
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
  logger?: Logger;
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
}

export interface RunError {
  code: string;
  message: string;
  hint: string | undefined;
  exitCode: number;
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

export interface PromoteRunResult {
  runId: string;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  datasets: DatasetPromoteOutcome[];
  commits: number;
  failures: number;
  exitCode: number;
}

function selectDatasets(catalog: Catalog, names: string[] | undefined): DatasetDef[] {
  if (!names || names.length === 0) return catalog.datasets.filter((d) => d.enabled && d.silver?.enabled !== false);
  const unknown = names.filter((n) => !catalog.datasets.some((d) => d.name === n));
  if (unknown.length > 0) {
    throw new LakeError('USAGE', `unknown dataset${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (catalog ${catalog.file})`, { hint: `Known datasets: ${catalog.datasets.map((d) => d.name).join(', ')}` });
  }
  return names.map((n) => catalog.datasets.find((d) => d.name === n)!);
}

async function trySnapshot(lake: Lake, table: TableRef): Promise<Snapshot | undefined> {
  try {
    return await tableSnapshot(lake, table);
  } catch (error) {
    if (isLakeError(error, 'TABLE_NOT_FOUND')) return undefined;
    throw error;
  }
}

/** A path as the user sees it: relative to the working directory when inside it. */
function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

function toRunError(error: unknown): RunError {
  if (isLakeError(error)) return { code: error.code, message: error.message, hint: error.hint, exitCode: error.exitCode };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), hint: 'This is a bug; please report it with the command you ran.', exitCode: EXIT.unexpected };
}

interface RunContext {
  options: PromoteOptions;
  lake: Lake;
  runId: string;
  clock: Clock;
  reportDir: string;
  sqlDir: string;
  stagingRoot: string;
}

/** Per partition of a staged group: rows before/after, the newest batch, fingerprints. */
async function measureGroup(ctx: RunContext, rule: SilverRule, def: DatasetDef, group: WorkItem[], silverGroups: Map<string, { files: AddAction[] }>, file: string, incomingFile: string): Promise<PartitionOutcome[]> {
  const { engine } = ctx.lake;
  const pk = partitionKeySql(def.partitions);
  const batches = await engine.rows<{ pk: string; n: bigint | number; versions: (string | null)[] | null }>(
    `SELECT pk, count(*) AS n, list(DISTINCT upstream_version ORDER BY upstream_version) AS versions
     FROM (SELECT * FROM (SELECT *, ${pk} AS pk FROM read_parquet(${literal(incomingFile)})) QUALIFY ingested_at = max(ingested_at) OVER (PARTITION BY pk, ${ident('source')}))
     GROUP BY pk`,
  );
  const batchOf = new Map(batches.map((b) => [b.pk, b]));
  const fingerprintKey = rule.key.length > 0 ? rule.key : rule.columns.map((c) => c.name).filter((c) => !(STAMP_COLUMNS as readonly string[]).includes(c));
  const fingerprints = await fingerprintPartitions(engine, `read_parquet(${literal(file)})`, def.partitions, fingerprintKey);
  const keys = new Set(group.map(([key]) => key));
  const stray = [...fingerprints.keys()].find((k) => !keys.has(k));
  if (stray !== undefined) {
    throw new LakeError('DATA_INVALID', `silver.${def.name}: the silver rule produced rows for partition ${stray}, which is not one being promoted (${[...keys].join(', ')})`, {
      hint: `The rule must keep the partition columns (${def.partitions.join(', ')}) as bronze has them; fix ${shown(rule.file)}.`,
    });
  }
  return group.map(([key, item]) => {
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
    };
  });
}

async function promoteDataset(ctx: RunContext, def: DatasetDef): Promise<DatasetPromoteOutcome> {
  const started = ctx.clock.now();
  const t0 = Date.now();
  const { lake } = ctx;
  const silver = silverTable(lake, def.name);
  const bronze = bronzeTable(lake, def.name);
  const outcome: DatasetPromoteOutcome = {
    dataset: def.name,
    table: silver.name,
    status: 'unchanged',
    version: null,
    versionBefore: null,
    bronzeVersion: null,
    bronzeFromVersion: null,
    mode: null,
    fullReason: null,
    partitions: [],
    checks: [],
    drift: null,
    report: null,
    notices: [],
    ms: 0,
  };
  const staging = path.join(ctx.stagingRoot, def.name);
  try {
    const bronzeSnapshot = await trySnapshot(lake, bronze);
    if (!bronzeSnapshot) {
      outcome.status = 'skipped';
      outcome.notices.push(`${bronze.name} does not exist yet: run lake bootstrap first`);
      return outcome;
    }
    const silverSnapshot = await trySnapshot(lake, silver);
    outcome.versionBefore = silverSnapshot?.version ?? null;
    outcome.version = outcome.versionBefore;
    outcome.bronzeVersion = bronzeSnapshot.version;
    const rule = await loadSilverRule(lake.engine, def, ctx.sqlDir);
    const spec = def.quality ?? NO_GATES;
    validateSpec(spec, rule.key, new Set(rule.columns.map((c) => c.name)), def.name, ctx.options.catalog.file);
    outcome.drift = schemaDrift(rule, bronzeSnapshot.schema.fields.map((f) => f.name));
    const last = silverSnapshot ? await lastPromote(lake, silver) : undefined;
    outcome.bronzeFromVersion = last?.bronzeVersion ?? null;
    const { mode, reason, work } = await changedPartitions(bronzeSnapshot, silverSnapshot, last, rule.sha256);
    outcome.mode = mode;
    outcome.fullReason = reason ?? null;
    if (work.size === 0) return outcome;

    const checkCtx: CheckContext = {
      engine: lake.engine,
      spec,
      dataset: def.name,
      key: rule.key,
      partitionColumns: def.partitions,
      canonicalTeams: await loadTeamCodes(lake.engine, ctx.sqlDir),
      now: ctx.clock.now(),
    };
    const silverGroups = groupFiles(bronzeSnapshot.partitionColumns, silverSnapshot?.files ?? []);
    await mkdir(staging, { recursive: true });
    const staged: string[] = [];
    for (const group of planGroups(work, silverGroups, rule.columns.length, ctx.options.groupCells ?? GROUP_CELLS)) {
      const file = path.join(staging, `g${staged.length}.parquet`);
      const incomingFile = path.join(staging, `g${staged.length}-in.parquet`);
      try {
        const existing = group.flatMap(([key, item]) => (item.mode === 'merge' ? (silverGroups.get(key)?.files ?? []) : []));
        await stagePartitions(lake.engine, {
          rule,
          partitionColumns: def.partitions,
          bronze: bronzeSnapshot,
          bronzeFiles: group.flatMap(([, item]) => item.files),
          silver: silverSnapshot,
          silverFiles: existing,
          incomingFile,
          file,
          compression: ctx.options.catalog.lake.compression,
        });
        const parts = await measureGroup(ctx, rule, def, group, silverGroups, file, incomingFile);
        outcome.partitions.push(...parts);
        const incoming = `read_parquet(${literal(incomingFile)})`;
        const inputs = parts.map((p) => ({ partition: p.partition, rowsBefore: p.rowsBefore ?? undefined, rowsInBatch: p.rowsInBatch }));
        outcome.checks.push(...(await checkPartitions(checkCtx, { partitions: inputs, candidate: `read_parquet(${literal(file)})`, incoming })));
        await rm(incomingFile, { force: true });
      } catch (error) {
        if (isLakeError(error, 'SQL_ERROR')) {
          throw new LakeError('DATA_INVALID', `${silver.name} ${group.map(([, item]) => partitionLabel(item.values)).join(', ')}: the silver rule cannot be applied to the bronze rows: ${error.message.replace(/^DuckDB: /, '')}`, {
            cause: error,
            hint: `Nothing was committed. Fix ${shown(rule.file)} or the bronze data, then promote again.`,
          });
        }
        throw error;
      }
      staged.push(file);
    }
    const newestIngest = outcome.partitions.map((p) => p.maxIngestedAt).filter((v): v is string => v !== null).sort().pop();
    outcome.checks.push(...checkTable(checkCtx, newestIngest === undefined ? undefined : Date.parse(newestIngest)));

    const failure = firstFailure(outcome.checks);
    if (failure) {
      const failed = outcome.checks.filter((c) => c.status === 'fail');
      outcome.status = 'failed';
      outcome.error = toRunError(
        new LakeError('QUALITY_GATE_FAILED', `${silver.name}: quality gate ${failure.check}${failure.column ? ` (${failure.column})` : ''} failed on ${partitionLabel(failure.partition)}: ${failure.message}${failed.length > 1 ? ` (and ${failed.length - 1} more failing check${failed.length > 2 ? 's' : ''})` : ''}; nothing was committed, ${silver.name} stays at ${outcome.versionBefore === null ? 'no version' : `version ${outcome.versionBefore}`}`, {
          hint: `The report lists every check with example rows${ctx.options.dryRun ? '' : `: ${shown(reportPath(ctx.reportDir, def.name, ctx.runId))}`}. Fix the upstream data (or roll back the bronze run with lake rollback --run <run_id>), then promote again.`,
        }),
      );
      return outcome;
    }
    if (ctx.options.dryRun) {
      outcome.status = 'planned';
      return outcome;
    }
    const result = await writeTable(lake, {
      table: silver,
      source: `SELECT * FROM read_parquet([${staged.map(literal).join(', ')}])`,
      mode: 'replace',
      partitionBy: silverSnapshot ? undefined : def.partitions,
      schemaMode: 'merge',
      replacePartitions: outcome.partitions.map((p) => p.partition),
      configuration: silverSnapshot ? undefined : ctx.options.configuration,
      compression: ctx.options.catalog.lake.compression,
      rowGroupSize: ctx.options.catalog.lake.rowGroupSize,
      operationParameters: { source: `${bronze.name}@${bronzeSnapshot.version}` },
      commitMetadata: lineageMetadata(ctx, def, rule, bronzeSnapshot, outcome, started),
      now: () => ctx.clock.now(),
    });
    outcome.status = 'committed';
    outcome.version = result.version;
    return outcome;
  } catch (error) {
    outcome.status = 'failed';
    outcome.error = toRunError(error);
    return outcome;
  } finally {
    await rm(staging, { recursive: true, force: true });
    outcome.ms = Date.now() - t0;
    if (!ctx.options.dryRun && outcome.status !== 'skipped') outcome.report = await writeReport(ctx, def, outcome, started);
  }
}

/** commitInfo lineage (DESIGN.md decision 9): run, versions, bronze version read, per-partition fingerprints. */
function lineageMetadata(ctx: RunContext, def: DatasetDef, rule: SilverRule, bronze: Snapshot, outcome: DatasetPromoteOutcome, started: number): Record<string, unknown> {
  const newest = [...outcome.partitions].sort((a, b) => ((a.maxIngestedAt ?? '') < (b.maxIngestedAt ?? '') ? -1 : 1)).pop();
  const drift = outcome.drift && (outcome.drift.upstream_added.length > 0 || outcome.drift.upstream_missing.length > 0) ? { schema_drift: outcome.drift } : {};
  const summary = summarizeChecks(outcome.checks);
  return {
    run_id: ctx.runId,
    pipeline_version: PIPELINE_VERSION,
    upstream_version: newest?.upstreamVersions[newest.upstreamVersions.length - 1] ?? null,
    dataset: def.name,
    source_versions: { [`bronze.${def.name}`]: bronze.version },
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
      last_ingest_utc: newest?.maxIngestedAt ?? null,
      rows_last_batch: outcome.partitions.reduce((n, p) => n + p.rowsInBatch, 0),
      changed_partitions: outcome.partitions.map((p) => p.partition),
      partitions: outcome.partitions.map((p) => ({ ...reportPartition(p), row_count: p.rowsAfter })),
      quality: { report: shown(reportPath(ctx.reportDir, def.name, ctx.runId)), ...summary },
      ...drift,
    },
  };
}

function reportPartition(p: PartitionOutcome): ReportPartition & { upstream_versions: string[] } {
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
  };
}

async function writeReport(ctx: RunContext, def: DatasetDef, outcome: DatasetPromoteOutcome, started: number): Promise<string | null> {
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
    ...(outcome.error ? { error: { code: outcome.error.code, message: outcome.error.message } } : {}),
  };
  try {
    return await writeQualityReport(ctx.reportDir, report);
  } catch (error) {
    ctx.options.logger?.warn({ dataset: def.name, err: String(error) }, 'quality report not written');
    return null;
  }
}

/** Staging folders older than this are left-overs of killed runs, removed by the next promote. */
export const STALE_STAGING_MS = 24 * 3_600_000;

async function removeStaleStaging(root: string, now: number): Promise<void> {
  const entries = await readdir(root).catch(() => [] as string[]);
  for (const name of entries.filter((n) => n.startsWith('promote-'))) {
    const folder = path.join(root, name);
    const info = await stat(folder).catch(() => undefined);
    if (info && now - info.mtimeMs > STALE_STAGING_MS) await rm(folder, { recursive: true, force: true });
  }
}

export function defaultReportDir(catalog: Catalog): string {
  return path.join(path.dirname(path.resolve(catalog.file)), 'quality');
}

export async function runPromote(options: PromoteOptions): Promise<PromoteRunResult> {
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();
  const runId = options.runId ?? newRunId(startedAt);
  const defs = selectDatasets(options.catalog, options.datasets);
  const lake = options.lake ?? (await openLake({ root: options.root ?? options.catalog.lake.root }));
  try {
    const ctx: RunContext = {
      options,
      lake,
      runId,
      clock,
      reportDir: options.reportDir ?? defaultReportDir(options.catalog),
      sqlDir: options.sqlDir ?? DEFAULT_SILVER_SQL_DIR,
      stagingRoot: path.join(lake.root, '.staging', `promote-${runId}`),
    };
    await removeStaleStaging(path.dirname(ctx.stagingRoot), Date.now());
    const workers = pLimit(Math.max(1, options.maxWorkers ?? options.catalog.lake.maxWorkers));
    const datasets = await Promise.all(defs.map((def) => workers(() => promoteDataset(ctx, def))));
    await rm(ctx.stagingRoot, { recursive: true, force: true });
    await rmdir(path.dirname(ctx.stagingRoot)).catch(() => undefined); // only when no other run stages
    for (const d of datasets) options.logger?.info({ run_id: runId, dataset: d.dataset, status: d.status, version: d.version, partitions: d.partitions.length, ms: d.ms, code: d.error?.code }, 'promote finished');
    const failed = datasets.filter((d) => d.status === 'failed');
    return {
      runId,
      dryRun: options.dryRun === true,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(clock.now()).toISOString(),
      datasets,
      commits: datasets.filter((d) => d.status === 'committed').length,
      failures: failed.length,
      exitCode: failed.length === 0 ? EXIT.ok : failed[0]!.error!.exitCode,
    };
  } finally {
    if (!options.lake) lake.close();
  }
}
