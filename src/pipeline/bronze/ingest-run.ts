import { rm } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { EXIT, LakeError, isLakeError, systemClock, type Clock, type Logger } from '../../core/index.js';
import { IngestError, ManifestStore, landAsset, planDataset, type Asset, type DatasetPlan, type ManifestEntry, type SchemaDrift, type SeasonRequest } from '../upstream/index.js';
import { bronzeTable, writeBronze } from './bronze.js';
import { openLake, tableSnapshot, type Lake, tableHistory } from '../../table/index.js';
import { acquireLock, createRunLogger, newRunId } from '../run/index.js';
import { currentSeason, type Catalog, type DatasetDef, type ResolvedSettings } from '../catalog/index.js';

/**
 * One ingest run (`lake bootstrap | update | recache-pbp`): plan the upstream files, take the
 * lock, then per dataset (in parallel, capped by max workers; downloads capped per upstream)
 * land each file and append it to bronze. A failing dataset stops with its error; the others
 * continue. The run never prints: it returns a typed result and reports progress events.
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
  clock?: Clock;
  today?: Date;
  random?: () => number;
  runId?: string;
  /** An open lake (tests); otherwise one is opened at settings.root and closed at the end. */
  lake?: Lake;
  onProgress?: (event: ProgressEvent) => void;
}

export type AssetStatus = 'committed' | 'unchanged' | 'absent' | 'failed' | 'planned';

export interface AssetOutcome {
  key: string;
  url: string;
  season?: number;
  variant?: string;
  status: AssetStatus;
  version?: number;
  rows?: number;
  bytes: number;
  attempts: number;
  ms: number;
  /** Dry run: whether the request would be conditional (the manifest knows the file). */
  conditional?: boolean;
  drift?: SchemaDrift;
}

export interface RunError {
  code: string;
  message: string;
  hint: string | undefined;
  exitCode: number;
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

export interface IngestRunResult {
  runId: string;
  command: IngestCommand;
  dryRun: boolean;
  logFile: string | undefined;
  startedAt: string;
  finishedAt: string;
  datasets: DatasetOutcome[];
  commits: number;
  failures: number;
  exitCode: number;
}

export type ProgressEvent =
  | { type: 'asset'; dataset: string; asset: string; status: AssetStatus; done: number; total: number; rows?: number; bytes: number }
  | { type: 'retry'; dataset: string; asset: string; attempt: number; delayMs: number; failure: string }
  | { type: 'dataset'; dataset: string; status: 'ok' | 'failed'; commits: number };

function selectDatasets(catalog: Catalog, names: string[] | undefined): DatasetDef[] {
  if (!names || names.length === 0) return catalog.datasets.filter((d) => d.enabled);
  const unknown = names.filter((n) => !catalog.datasets.some((d) => d.name === n));
  if (unknown.length > 0) {
    throw new LakeError('USAGE', `unknown dataset${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (catalog ${catalog.file})`, {
      hint: `Known datasets: ${catalog.datasets.map((d) => d.name).join(', ')}`,
    });
  }
  return names.map((n) => catalog.datasets.find((d) => d.name === n)!);
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

function toRunError(error: unknown): RunError {
  if (isLakeError(error)) return { code: error.code, message: error.message, hint: error.hint, exitCode: error.exitCode };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), hint: 'This is a bug; please report it with the command you ran.', exitCode: EXIT.unexpected };
}

/** The sha256 of the last file committed under `appId`, read from the table history (used when the manifest lost the file). */
async function lastCommittedSha(lake: Lake, def: DatasetDef, appId: string): Promise<string | undefined> {
  const history = await tableHistory(lake, bronzeTable(lake, def.name)).catch(() => []);
  for (const entry of history) {
    const file = entry.commitInfo?.['upstream_file'] as { app_id?: unknown; sha256?: unknown } | undefined;
    if (file?.app_id === appId && typeof file.sha256 === 'string') return file.sha256;
  }
  return undefined;
}

interface RunContext {
  options: IngestRunOptions;
  lake: Lake;
  manifest: ManifestStore;
  clock: Clock;
  today: Date;
  runId: string;
  log: Logger;
  upstreamLimits: Map<string, ReturnType<typeof pLimit>>;
}

async function ingestAsset(ctx: RunContext, def: DatasetDef, asset: Asset, outcome: AssetOutcome, notices: string[]): Promise<void> {
  const { options, lake, manifest } = ctx;
  const settings = options.settings;
  const limit = ctx.upstreamLimits.get(asset.upstream)!;
  const previous = manifest.get(asset.key);
  const landing = await limit(() =>
    landAsset({
      asset,
      manifest,
      engine: lake.engine,
      clock: ctx.clock,
      http: settings.http,
      unconditional: options.force === true || options.unconditional === true,
      random: options.random,
      onRetry: (info) => {
        ctx.log.warn({ dataset: def.name, url: asset.url, attempt: info.attempt, delay_ms: info.delayMs, failure: info.failure }, 'retrying download');
        options.onProgress?.({ type: 'retry', dataset: def.name, asset: asset.key, ...info });
      },
    }),
  );
  outcome.attempts = landing.attempts;
  if (landing.kind === 'absent') {
    const current = currentSeason(def.seasonRule === 'none' ? 'S' : def.seasonRule, ctx.today);
    if (asset.season !== undefined && asset.season >= current) {
      outcome.status = 'absent';
      const notice = `${asset.path}: not published upstream yet (HTTP ${landing.httpStatus}); the table keeps its last version, run again later`;
      notices.push(notice);
      ctx.log.info({ dataset: def.name, url: asset.url, status: landing.httpStatus }, 'not yet published');
      return;
    }
    throw new IngestError('INGEST_HTTP_STATUS', `${asset.url}: HTTP ${landing.httpStatus}: the upstream file is missing`, {
      hint: 'Check the dataset path in catalog/datasets.yml and the base URL (NFLVERSE_BASE_URL); nothing was committed.',
      details: { dataset: def.name, url: asset.url, status: landing.httpStatus },
    });
  }
  outcome.bytes = landing.bytes;
  ctx.log.info({ dataset: def.name, url: asset.url, outcome: landing.kind, bytes: landing.bytes, attempts: landing.attempts }, 'file fetched');

  let entry: ManifestEntry = landing.entry;
  if (landing.kind === 'landed' && entry.committed && entry.committed.sha256 === entry.sha256 && options.force !== true) {
    // Back to the bytes last committed (after a bad version that was never committed): nothing new.
    await manifest.put({ ...entry, sequence: entry.committed.sequence });
    if (previous && previous.file !== entry.file) await rm(path.join(manifest.rawDir, previous.file), { force: true });
    outcome.status = 'unchanged';
    return;
  }
  if (landing.kind === 'unchanged') {
    const committed = entry.committed !== undefined && entry.committed.sequence >= entry.sequence;
    if (committed && options.force !== true) {
      outcome.status = 'unchanged';
      return;
    }
    if (committed) {
      entry = { ...entry, sequence: entry.sequence + 1 };
      await manifest.put(entry);
    }
  }

  // The manifest did not know this file but the table does (the raw folder was lost): continue
  // the table's txn sequence, and commit nothing when the bytes are the ones last committed.
  const table = bronzeTable(lake, def.name);
  if (!previous && options.force !== true) {
    const txn = await tableTxn(lake, table.tableRoot, asset.appId);
    if (txn !== undefined && txn >= entry.sequence) {
      const sha = await lastCommittedSha(lake, def, asset.appId);
      if (sha === entry.sha256) {
        await manifest.put({ ...entry, sequence: txn, committed: { sequence: txn, sha256: entry.sha256, tableVersion: -1, committedAt: new Date(ctx.clock.now()).toISOString(), runId: ctx.runId } });
        outcome.status = 'unchanged';
        return;
      }
      entry = { ...entry, sequence: txn + 1 };
      await manifest.put(entry);
    }
  }

  const result = await writeBronze(lake, {
    dataset: def,
    asset,
    entry,
    file: path.join(manifest.rawDir, entry.file),
    runId: ctx.runId,
    ingestedAt: ctx.clock.now(),
    compression: settings.compression,
    rowGroupSize: settings.rowGroupSize,
    configuration: {
      'delta.logRetentionDuration': `interval ${settings.retention.logHours} hours`,
      'delta.deletedFileRetentionDuration': `interval ${settings.retention.deletedFileHours} hours`,
    },
    logger: ctx.log,
    now: () => ctx.clock.now(),
  });
  await manifest.put({
    ...entry,
    committed: { sequence: entry.sequence, sha256: entry.sha256, tableVersion: result.version, committedAt: new Date(ctx.clock.now()).toISOString(), runId: ctx.runId },
    columns: result.columns,
  });
  if (previous && previous.file !== entry.file) await rm(path.join(manifest.rawDir, previous.file), { force: true });
  outcome.version = result.version;
  if (result.status === 'skipped') {
    outcome.status = 'unchanged';
    ctx.log.info({ dataset: def.name, table: result.table, version: result.version, reason: result.reason }, 'already committed');
    return;
  }
  outcome.status = 'committed';
  outcome.rows = result.rows;
  outcome.drift = result.drift;
  ctx.log.info({ dataset: def.name, table: result.table, version: result.version, rows: result.rows, files: result.files, partitions: result.partitions, url: asset.url, sha256: entry.sha256 }, 'commit written');
}

async function tableTxn(lake: Lake, tableRoot: string, appId: string): Promise<number | undefined> {
  try {
    const snapshot = await tableSnapshot(lake, { name: tableRoot, tableRoot });
    return snapshot.txns.get(appId);
  } catch (error) {
    if (isLakeError(error, 'TABLE_NOT_FOUND')) return undefined;
    throw error;
  }
}

async function runDataset(ctx: RunContext, plan: DatasetPlan, progress: { done: number; total: number }): Promise<DatasetOutcome> {
  const def = plan.dataset;
  const started = Date.now();
  const outcome: DatasetOutcome = { dataset: def.name, table: `bronze.${def.name}`, status: 'ok', assets: [], notices: plan.skipped.map((s) => s.reason), commits: 0, rows: 0, bytes: 0, ms: 0 };
  for (const notice of outcome.notices) ctx.log.info({ dataset: def.name, notice }, 'season skipped');
  for (const asset of plan.assets) {
    const t0 = Date.now();
    const a: AssetOutcome = { key: asset.key, url: asset.url, ...(asset.season !== undefined ? { season: asset.season } : {}), ...(asset.variant !== undefined ? { variant: asset.variant } : {}), status: 'failed', bytes: 0, attempts: 0, ms: 0 };
    outcome.assets.push(a);
    try {
      await ingestAsset(ctx, def, asset, a, outcome.notices);
    } catch (error) {
      a.status = 'failed';
      outcome.status = 'failed';
      outcome.error = toRunError(error);
      ctx.log.error({ dataset: def.name, url: asset.url, code: outcome.error.code, err: outcome.error.message, details: isLakeError(error) ? error.details : undefined }, 'dataset failed');
    } finally {
      a.ms = Date.now() - t0;
      progress.done += 1;
      ctx.options.onProgress?.({ type: 'asset', dataset: def.name, asset: asset.key, status: a.status, done: progress.done, total: progress.total, ...(a.rows !== undefined ? { rows: a.rows } : {}), bytes: a.bytes });
    }
    if (outcome.status === 'failed') break;
  }
  outcome.commits = outcome.assets.filter((a) => a.status === 'committed').length;
  outcome.rows = outcome.assets.reduce((n, a) => n + (a.rows ?? 0), 0);
  outcome.bytes = outcome.assets.reduce((n, a) => n + a.bytes, 0);
  outcome.ms = Date.now() - started;
  ctx.log.info({ dataset: def.name, status: outcome.status, ms: outcome.ms, bytes: outcome.bytes, rows: outcome.rows, commits: outcome.commits, files: outcome.assets.length }, 'dataset finished');
  ctx.options.onProgress?.({ type: 'dataset', dataset: def.name, status: outcome.status, commits: outcome.commits });
  return outcome;
}

function summarize(options: IngestRunOptions, runId: string, logFile: string | undefined, startedAt: number, datasets: DatasetOutcome[], clock: Clock): IngestRunResult {
  const failed = datasets.filter((d) => d.status === 'failed');
  return {
    runId,
    command: options.command,
    dryRun: options.dryRun === true,
    logFile,
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(clock.now()).toISOString(),
    datasets,
    commits: datasets.reduce((n, d) => n + d.commits, 0),
    failures: failed.length,
    exitCode: failed.length === 0 ? EXIT.ok : failed[0]!.error!.exitCode,
  };
}

export async function runIngest(options: IngestRunOptions): Promise<IngestRunResult> {
  const clock = options.clock ?? systemClock;
  const today = options.today ?? new Date(clock.now());
  const startedAt = clock.now();
  const runId = options.runId ?? newRunId(startedAt);
  const plans = planRun(options, today);
  const settings = options.settings;

  if (options.dryRun) {
    const manifest = await ManifestStore.open(settings.rawDir);
    const datasets = plans.map((plan): DatasetOutcome => ({
      dataset: plan.dataset.name,
      table: `bronze.${plan.dataset.name}`,
      status: 'ok',
      assets: plan.assets.map((a) => ({
        key: a.key,
        url: a.url,
        ...(a.season !== undefined ? { season: a.season } : {}),
        ...(a.variant !== undefined ? { variant: a.variant } : {}),
        status: 'planned',
        bytes: 0,
        attempts: 0,
        ms: 0,
        conditional: manifest.get(a.key) !== undefined && options.force !== true && options.unconditional !== true,
      })),
      notices: plan.skipped.map((s) => s.reason),
      commits: 0,
      rows: 0,
      bytes: 0,
      ms: 0,
    }));
    return summarize(options, runId, undefined, startedAt, datasets, clock);
  }

  const lock = await acquireLock(path.join(settings.rawDir, LOCK_FILE), { runId, command: `lake ${options.command}`, startedAt: new Date(startedAt).toISOString() });
  const { logger: log, file: logFile } = createRunLogger(settings.logsDir, runId);
  let lake: Lake | undefined;
  try {
    log.info({ command: options.command, datasets: plans.map((p) => p.dataset.name), seasons: options.seasons ?? 'current', force: options.force === true, root: settings.root }, 'run started');
    const manifest = await ManifestStore.open(settings.rawDir);
    lake = options.lake ?? (await openLake({ root: settings.root }));
    const upstreamLimits = new Map(Object.values(options.catalog.upstreams).map((u) => [u.name, pLimit(u.maxConnections)]));
    const ctx: RunContext = { options, lake, manifest, clock, today, runId, log, upstreamLimits };
    const progress = { done: 0, total: plans.reduce((n, p) => n + p.assets.length, 0) };
    const workers = pLimit(Math.max(1, options.maxWorkers ?? settings.maxWorkers));
    const datasets = await Promise.all(plans.map((plan) => workers(() => runDataset(ctx, plan, progress))));
    const result = summarize(options, runId, logFile, startedAt, datasets, clock);
    log.info({ ms: clock.now() - startedAt, commits: result.commits, failures: result.failures, exit_code: result.exitCode }, 'run finished');
    return result;
  } finally {
    if (lake && !options.lake) lake.close();
    await lock.release();
    log.flush();
  }
}
