import { rm } from 'node:fs/promises';
import path from 'node:path';
import type pLimit from 'p-limit';
import { LakeError, isLakeError, type Clock, type Logger } from '../../core/index.js';
import { landAsset, type Asset, type LandingOutcome, type ManifestEntry, type ManifestStore, type SchemaDrift } from '../upstream/index.js';
import { listLog, readCommitInfo } from '../../delta/index.js';
import { admitAlone, findSnapshot, type Admit, type Lake } from '../../table/index.js';
import type { ItemProgress } from '../run/index.js';
import { currentSeason, type DatasetDef, type ResolvedSettings } from '../catalog/index.js';
import { bronzeTable, writeBronze, type BronzeWriteResult } from './bronze.js';

/**
 * One upstream file of an ingest run: fetch it (land it in the raw folder), decide which manifest
 * entry to commit (or that nothing changed), append it to bronze, record the commit in the
 * manifest. A file of a season not published yet is a notice, not a failure.
 */
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

export interface AssetContext {
  lake: Lake;
  manifest: ManifestStore;
  settings: ResolvedSettings;
  clock: Clock;
  today: Date;
  runId: string;
  log: Logger;
  /** Download every file in full and append it again even when unchanged. */
  force: boolean;
  /** Download in full, commit only changed bytes. */
  unconditional: boolean;
  /** `--since`: files last changed upstream before this instant are skipped (landing.ts). */
  since?: Date | undefined;
  random?: (() => number) | undefined;
  upstreamLimits: Map<string, ReturnType<typeof pLimit>>;
  /** Admission of a file's bronze write among the run's workers (onLakeWorkers); none: it runs at once. */
  admit?: Admit;
}

/** An outcome for `asset` before it is ingested (status failed until it gets further). */
export function assetOutcome(asset: Asset, status: AssetStatus): AssetOutcome {
  return { key: asset.key, url: asset.url, ...(asset.season !== undefined ? { season: asset.season } : {}), ...(asset.variant !== undefined ? { variant: asset.variant } : {}), status, bytes: 0, attempts: 0, ms: 0 };
}

/** Ingests one file into `outcome` (fetch → plan the entry → commit → metrics), reporting its steps to `item`; throws on failure. */
export async function ingestAsset(ctx: AssetContext, def: DatasetDef, asset: Asset, outcome: AssetOutcome, notices: string[], item: ItemProgress): Promise<void> {
  const previous = ctx.manifest.get(asset.key);
  let retries = 0;
  const landing = await fetchAsset(ctx, def, asset, item, () => (retries += 1)).catch((error: unknown) => {
    // A download that gave up: its error counts the attempts; else every retry was one more.
    const attempts = isLakeError(error) ? error.details?.['attempts'] : undefined;
    outcome.attempts = typeof attempts === 'number' ? attempts : retries + 1;
    throw error;
  });
  outcome.attempts = landing.attempts;
  if (landing.kind === 'absent') {
    notices.push(absentNotice(ctx, def, asset, landing.httpStatus));
    outcome.status = 'absent';
    return;
  }
  outcome.bytes = landing.bytes;
  if (landing.kind === 'older') {
    outcome.status = 'unchanged';
    notices.push(`${asset.path}: not changed upstream since ${ctx.since!.toISOString().slice(0, 10)}${landing.lastModified ? ` (Last-Modified ${landing.lastModified})` : ''}: skipped (--since)`);
    ctx.log.info({ dataset: def.name, url: asset.url, outcome: 'older', last_modified: landing.lastModified ?? null, since: ctx.since!.toISOString() }, 'file skipped: not changed since');
    return;
  }
  ctx.log.info({ dataset: def.name, url: asset.url, outcome: landing.kind, bytes: landing.bytes, attempts: landing.attempts }, 'file fetched');
  const entry = await planEntry(ctx, def, asset, landing, previous);
  if (!entry) {
    outcome.status = 'unchanged';
    await dropUncached(ctx, def, landing.entry);
    return;
  }
  item.step('write');
  // A large file's write keeps DuckDB's memory budget to itself (table/lake.ts SHARED_INPUT_FRACTION).
  const commit = (): Promise<BronzeWriteResult> => commitEntry(ctx, def, asset, entry, previous);
  const result = await (ctx.admit ?? admitAlone)(landing.bytes, commit);
  outcome.version = result.version;
  if (result.status === 'skipped') {
    outcome.status = 'unchanged';
    await dropUncached(ctx, def, entry);
    ctx.log.info({ dataset: def.name, table: result.table, version: result.version, reason: result.reason }, 'already committed');
    return;
  }
  outcome.status = 'committed';
  await dropUncached(ctx, def, entry);
  outcome.rows = result.rows;
  outcome.drift = result.drift;
  ctx.log.info({ dataset: def.name, table: result.table, version: result.version, rows: result.rows, files: result.files, partitions: result.partitions, url: asset.url, sha256: entry.sha256 }, 'commit written');
}

/** `options.cache: false`: once bronze holds the file, its raw copy goes (the manifest keeps its sha256 and validators). */
async function dropUncached(ctx: AssetContext, def: DatasetDef, entry: ManifestEntry): Promise<void> {
  if (def.cache) return;
  await rm(path.join(ctx.manifest.rawDir, entry.file), { force: true });
  ctx.log.info({ dataset: def.name, file: entry.file }, 'raw file removed (options.cache: false)');
}

/** Downloads and lands the file, within its upstream's connection limit; `onRetry` is called before each retry. */
async function fetchAsset(ctx: AssetContext, def: DatasetDef, asset: Asset, item: ItemProgress, onRetry: () => void): Promise<LandingOutcome> {
  const limit = ctx.upstreamLimits.get(asset.upstream)!;
  return limit(() => {
    item.step('download');
    return landAsset({
      asset,
      manifest: ctx.manifest,
      engine: ctx.lake.engine,
      clock: ctx.clock,
      http: ctx.settings.http,
      unconditional: ctx.force || ctx.unconditional,
      since: ctx.since,
      random: ctx.random,
      onRetry: (info) => {
        onRetry();
        ctx.log.warn({ dataset: def.name, url: asset.url, attempt: info.attempt, delay_ms: info.delayMs, failure: info.failure }, 'retrying download');
        item.note(`${info.failure}, retrying in ${(info.delayMs / 1000).toFixed(1)} s (attempt ${info.attempt + 1})`);
      },
      // Bytes are counted as they stream, for the progress display and the run log.
      onBytes: (received, expected) => item.update({ bytes: received, bytesTotal: expected ?? null }),
    });
  });
}

/** A missing file of the current season (or later) is a notice; an older one is INGEST_HTTP_STATUS. */
function absentNotice(ctx: AssetContext, def: DatasetDef, asset: Asset, httpStatus: number): string {
  const current = currentSeason(def.seasonRule === 'none' ? 'S' : def.seasonRule, ctx.today);
  if (asset.season === undefined || asset.season < current) {
    throw new LakeError('INGEST_HTTP_STATUS', `${asset.url}: HTTP ${httpStatus}: the upstream file is missing`, {
      hint: 'Check the dataset path in catalog/datasets.yml and the base URL (NFLVERSE_BASE_URL); nothing was committed.',
      details: { dataset: def.name, url: asset.url, status: httpStatus },
    });
  }
  ctx.log.info({ dataset: def.name, url: asset.url, status: httpStatus }, 'not yet published');
  return `${asset.path}: not published upstream yet (HTTP ${httpStatus}); the table keeps its last version, run again later`;
}

/**
 * The manifest entry to append (its sequence is the txn version), or undefined when bronze
 * already holds these bytes. The table's log is the truth: the manifest (which may describe
 * another lake, or a lake since deleted) only proposes "unchanged"; the file is skipped only when
 * the bronze table's last commit of this upstream file carries the same sha256. A commit always
 * continues the table's txn sequence for the file.
 */
async function planEntry(ctx: AssetContext, def: DatasetDef, asset: Asset, landing: Exclude<LandingOutcome, { kind: 'absent' } | { kind: 'older' }>, previous: ManifestEntry | undefined): Promise<ManifestEntry | undefined> {
  const { manifest, lake } = ctx;
  let entry = landing.entry;
  const txn = (await findSnapshot(lake, bronzeTable(lake, def.name)))?.txns.get(asset.appId);
  const tableHolds = async (sha256: string): Promise<boolean> => txn !== undefined && (await lastCommittedSha(lake, def, asset.appId)) === sha256;
  if (!ctx.force && (await tableHolds(entry.sha256))) {
    // The table holds exactly these bytes: nothing new. Keep the manifest in step with the table.
    if (entry.committed?.sha256 !== entry.sha256 || entry.sequence !== txn) {
      await manifest.put({ ...entry, sequence: txn!, committed: { sequence: txn!, sha256: entry.sha256, tableVersion: entry.committed?.tableVersion ?? -1, committedAt: entry.committed?.committedAt ?? new Date(ctx.clock.now()).toISOString(), runId: entry.committed?.runId ?? ctx.runId } });
    }
    if (landing.kind === 'landed' && previous && previous.file !== entry.file) await rm(path.join(manifest.rawDir, previous.file), { force: true });
    return undefined;
  }
  // A commit: after the table's last txn for this file (and after the manifest's own sequence).
  const sequence = Math.max(entry.sequence, txn === undefined ? 0 : txn + 1, entry.committed && txn !== undefined ? entry.committed.sequence + 1 : 0);
  if (sequence !== entry.sequence) {
    entry = { ...entry, sequence };
    await manifest.put(entry);
  }
  return entry;
}

/**
 * The sha256 of the last file committed under `appId`: the newest commit whose commitInfo names
 * it. Commits are read newest first, commitInfo line only, and the walk stops at the first match,
 * so the cost does not grow with the table's history (a nightly file is usually a few commits back).
 */
async function lastCommittedSha(lake: Lake, def: DatasetDef, appId: string): Promise<string | undefined> {
  const tableRoot = bronzeTable(lake, def.name).tableRoot;
  const listing = await listLog(tableRoot).catch(() => undefined);
  const versions = [...(listing?.commits.keys() ?? [])].sort((a, b) => b - a);
  for (const version of versions) {
    const info = await readCommitInfo(tableRoot, version).catch(() => undefined);
    const file = info?.['upstream_file'] as { app_id?: unknown; sha256?: unknown } | undefined;
    if (file?.app_id === appId && typeof file.sha256 === 'string') return file.sha256;
  }
  return undefined;
}

/** Appends the file to bronze, then records the commit in the manifest and drops the replaced raw file. */
async function commitEntry(ctx: AssetContext, def: DatasetDef, asset: Asset, entry: ManifestEntry, previous: ManifestEntry | undefined): Promise<BronzeWriteResult> {
  const { manifest, settings } = ctx;
  const result = await writeBronze(ctx.lake, {
    dataset: def,
    asset,
    entry,
    file: path.join(manifest.rawDir, entry.file),
    runId: ctx.runId,
    ingestedAt: ctx.clock.now(),
    compression: settings.compression,
    rowGroupSize: settings.rowGroupSize,
    rowGroupMb: settings.rowGroupMb,
    maxRowsPerFile: settings.maxRowsPerFile,
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
  return result;
}
