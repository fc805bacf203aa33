import path from 'node:path';
import pLimit from 'p-limit';
import { isLakeError, type Clock } from '../../core/index.js';
import { ManifestStore, planDataset, type DatasetPlan, type SeasonRequest } from '../upstream/index.js';
import { findSnapshot, onLakeWorkers, openLake, type Lake } from '../../table/index.js';
import { ProgressReporter, acquireLock, createRunLogger, finishRun, logSink, selectDatasets, startRun, toRunError, type ProgressSink, type RunError, type RunStart, type RunSummary } from '../run/index.js';
import { currentSeason, partitionLayoutError, type Catalog, type DatasetDef, type ResolvedSettings } from '../catalog/index.js';
import { assetOutcome, ingestAsset, type AssetContext, type AssetOutcome } from './ingest-asset.js';
import { bronzeTable } from './bronze.js';

/**
 * One ingest run (`lake bootstrap | update | recache-pbp`): plan the upstream files, take the
 * lock, then per dataset (in parallel, capped by max workers; downloads capped per upstream)
 * land each file and append it to bronze. A failing dataset stops with its error; the others
 * continue. The run never prints: it returns a typed result and reports progress (per dataset and
 * per file: bytes as they download, rows committed) to the run log and to `options.progress`.
 */
export type IngestCommand = 'bootstrap' | 'update' | 'recache-pbp';

export const LOCK_FILE = 'ingest.lock';

export interface IngestRunOptions {
  catalog: Catalog;
  settings: ResolvedSettings;
  command: IngestCommand;
  /** Dataset names; default every enabled dataset. Naming a disabled dataset runs it. */
  datasets?: string[];
  /** Seasons asked for; default (update, recache) the current season of each dataset. */
  seasons?: SeasonRequest;
  maxWorkers?: number;
  dryRun?: boolean;
  /** Download every file in full and append it again even when unchanged. */
  force?: boolean;
  /** Download in full (no conditional request) but commit only changed bytes (recache). */
  unconditional?: boolean;
  /** `--since YYYY-MM-DD`: only upstream files changed at or after this instant (Last-Modified; see landing.ts). */
  since?: Date;
  clock?: Clock;
  today?: Date;
  random?: () => number;
  runId?: string;
  /** An open lake (tests); otherwise one is opened at settings.root and closed at the end. */
  lake?: Lake;
  /** Where progress goes besides the run log (the CLI's display). */
  progress?: ProgressSink;
}

export interface DatasetOutcome {
  dataset: string;
  table: string;
  status: 'ok' | 'failed';
  assets: AssetOutcome[];
  notices: string[];
  error?: RunError;
  commits: number;
  rows: number;
  bytes: number;
  ms: number;
}

export interface IngestRunResult extends RunSummary {
  command: IngestCommand;
  logFile: string | undefined;
  datasets: DatasetOutcome[];
}

function seasonsFor(def: DatasetDef, request: SeasonRequest | undefined, today: Date): SeasonRequest {
  if (request) return request;
  const season = currentSeason(def.seasonRule === 'none' ? 'S' : def.seasonRule, today);
  return { from: season, to: season };
}

/** The plan of a run: which files would be requested for which dataset. Pure apart from `today`. */
export function planRun(options: Pick<IngestRunOptions, 'catalog' | 'settings' | 'datasets' | 'seasons'>, today: Date): DatasetPlan[] {
  return selectDatasets(options.catalog, options.datasets).map((def) =>
    planDataset(def, options.settings.baseUrls[def.source.upstream]!, seasonsFor(def, options.seasons, today), today),
  );
}

async function runDataset(ctx: AssetContext & { progress: ProgressReporter; catalogFile: string }, plan: DatasetPlan): Promise<DatasetOutcome> {
  const def = plan.dataset;
  const started = ctx.clock.now();
  const task = ctx.progress.task(def.name, { unit: 'file', units: plan.assets.length });
  const outcome: DatasetOutcome = { dataset: def.name, table: `bronze.${def.name}`, status: 'ok', assets: [], notices: plan.skipped.map((s) => s.reason), commits: 0, rows: 0, bytes: 0, ms: 0 };
  for (const notice of outcome.notices) ctx.log.info({ dataset: def.name, notice }, 'season skipped');
  // The catalog's partitions and an existing table must agree before anything is downloaded.
  const existing = await findSnapshot(ctx.lake, bronzeTable(ctx.lake, def.name));
  const layout = existing ? partitionLayoutError({ file: ctx.catalogFile }, def, `bronze.${def.name}`, existing.partitionColumns) : undefined;
  if (layout) {
    outcome.status = 'failed';
    outcome.error = toRunError(layout);
    ctx.log.error({ dataset: def.name, code: layout.code, err: layout.message }, 'dataset failed');
  }
  for (const asset of layout ? [] : plan.assets) {
    const t0 = ctx.clock.now();
    const a = assetOutcome(asset, 'failed');
    outcome.assets.push(a);
    const item = task.item(asset.key, { step: 'queued' });
    try {
      await ingestAsset(ctx, def, asset, a, outcome.notices, item);
    } catch (error) {
      a.status = 'failed';
      outcome.status = 'failed';
      outcome.error = toRunError(error);
      ctx.log.error({ dataset: def.name, url: asset.url, code: outcome.error.code, err: outcome.error.message, details: isLakeError(error) ? error.details : undefined }, 'dataset failed');
    } finally {
      a.ms = ctx.clock.now() - t0;
      item.finish({ status: a.status, rows: a.rows ?? 0, bytes: a.bytes });
    }
    if (outcome.status === 'failed') break;
  }
  outcome.commits = outcome.assets.filter((a) => a.status === 'committed').length;
  outcome.rows = outcome.assets.reduce((n, a) => n + (a.rows ?? 0), 0);
  outcome.bytes = outcome.assets.reduce((n, a) => n + a.bytes, 0);
  outcome.ms = ctx.clock.now() - started;
  ctx.log.info({ dataset: def.name, status: outcome.status, ms: outcome.ms, bytes: outcome.bytes, rows: outcome.rows, commits: outcome.commits, files: outcome.assets.length }, 'dataset finished');
  task.finish(outcome.status);
  return outcome;
}

async function summarize(options: IngestRunOptions, run: RunStart, logFile: string | undefined, datasets: DatasetOutcome[]): Promise<IngestRunResult> {
  const summary = await finishRun({ ...run, dryRun: options.dryRun === true }, datasets, datasets.reduce((n, d) => n + d.commits, 0));
  return { ...summary, command: options.command, logFile, datasets };
}

/** The dry run: every planned file, and whether its request would be conditional. Reads only the manifest. */
async function planOnly(options: IngestRunOptions, plans: DatasetPlan[]): Promise<DatasetOutcome[]> {
  const manifest = await ManifestStore.open(options.settings.rawDir);
  const conditional = options.force !== true && options.unconditional !== true;
  return plans.map((plan) => ({
    dataset: plan.dataset.name,
    table: `bronze.${plan.dataset.name}`,
    status: 'ok',
    assets: plan.assets.map((a) => ({ ...assetOutcome(a, 'planned'), conditional: conditional && manifest.get(a.key) !== undefined })),
    notices: plan.skipped.map((s) => s.reason),
    commits: 0,
    rows: 0,
    bytes: 0,
    ms: 0,
  }));
}

export async function runIngest(options: IngestRunOptions): Promise<IngestRunResult> {
  const run = startRun(options);
  const { clock, startedAt, runId } = run;
  const today = options.today ?? options.settings.today ?? new Date(startedAt);
  const plans = planRun(options, today);
  const settings = options.settings;
  if (options.dryRun) return summarize(options, run, undefined, await planOnly(options, plans));

  const lock = await acquireLock(path.join(settings.rawDir, LOCK_FILE), { runId, command: `lake ${options.command}`, startedAt: new Date(startedAt).toISOString() });
  const { logger: log, file: logFile } = createRunLogger(settings.logsDir, runId);
  const progress = new ProgressReporter({
    clock,
    run: `lake ${options.command}`,
    taskKind: 'dataset',
    itemKind: 'file',
    tasks: plans.length,
    units: { unit: 'file', total: plans.reduce((n, p) => n + p.assets.length, 0) },
    sinks: [logSink(log, { taskKind: 'dataset', itemKind: 'file' }), options.progress],
  });
  let lake: Lake | undefined;
  let manifest: ManifestStore | undefined;
  try {
    log.info({ command: options.command, datasets: plans.map((p) => p.dataset.name), seasons: options.seasons ?? 'current', force: options.force === true, since: options.since?.toISOString() ?? null, root: settings.root }, 'run started');
    manifest = await ManifestStore.open(settings.rawDir);
    lake = options.lake ?? (await openLake({ root: settings.root, create: true, footerCache: false }));
    const ctx = {
      lake,
      manifest,
      settings,
      clock,
      today,
      runId,
      log,
      force: options.force === true,
      unconditional: options.unconditional === true,
      since: options.since,
      random: options.random,
      upstreamLimits: new Map(Object.values(options.catalog.upstreams).map((u) => [u.name, pLimit(u.maxConnections)])),
      progress,
      catalogFile: options.catalog.file,
    };
    // Each worker on its own connection: datasets ingest side by side, not one statement at a time.
    const datasets = await onLakeWorkers(lake, options.maxWorkers ?? settings.maxWorkers, plans, (on, plan, admit) => runDataset({ ...ctx, lake: on, admit }, plan));
    // The manifest is written behind (manifest.ts): what is pending goes to disk before the lock is released.
    await manifest.close();
    const result = await summarize(options, run, logFile, datasets);
    progress.finish(result.failures > 0 ? 'failed' : 'ok');
    log.info({ ms: clock.now() - startedAt, commits: result.commits, failures: result.failures, exit_code: result.exitCode }, 'run finished');
    return result;
  } finally {
    progress.finish('failed');
    if (lake && !options.lake) lake.close();
    // A failed run still records what it landed and committed (a no-op after the close above).
    await manifest?.close().catch((error: unknown) => log.warn({ err: error instanceof Error ? error.message : String(error) }, 'manifest not written'));
    await lock.release();
    log.flush();
  }
}
