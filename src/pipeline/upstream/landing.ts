import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { LakeError, type Clock } from '../../core/index.js';
import { literal, type Engine } from '../../engine/index.js';
import type { Asset } from './assets.js';
import type { SourceFormat } from '../catalog/index.js';
import { download, type DownloadResult } from './http.js';
import type { ManifestEntry, ManifestStore } from './manifest.js';
import type { RetryPolicy } from './retry.js';

/**
 * Landing: fetch one upstream file into `data/raw/` and record it in the manifest. A file is
 * validated (Parquet magic bytes and footer; CSV that is not an HTML page) before the manifest
 * names it, so an error page or a truncated download is never taken for data.
 * Raw files are content-addressed: `<upstream>/<path>.<sha256[0:12]>.<ext>`.
 */
export interface LandingOptions {
  asset: Asset;
  manifest: ManifestStore;
  engine: Engine;
  clock: Clock;
  http: { timeoutMs: number; userAgent: string; retries: RetryPolicy };
  /** Ignore ETag/Last-Modified: always GET the whole file (recache, --force). */
  unconditional?: boolean;
  /**
   * `--since`: only a file changed upstream at or after this instant lands. A file the manifest
   * does not know is requested with `If-Modified-Since: <since>`; any 200 whose Last-Modified is
   * older is discarded. A file without Last-Modified lands (its age is unknown, nothing is lost).
   */
  since?: Date | undefined;
  onRetry?: (info: { attempt: number; delayMs: number; failure: string }) => void;
  /** Download progress: bytes received so far and the size announced (see DownloadRequest.onBytes). */
  onBytes?: (received: number, expected: number | undefined) => void;
  random?: () => number;
}

export type LandingOutcome =
  | { kind: 'absent'; httpStatus: number; attempts: number }
  /** Upstream unchanged (304, or 200 with the same sha256); `entry` is the manifest's. */
  | { kind: 'unchanged'; entry: ManifestEntry; notModified: boolean; attempts: number; bytes: number }
  /** `since` was given and the upstream file was last changed before it (304 to If-Modified-Since, or an older Last-Modified). */
  | { kind: 'older'; lastModified: string | undefined; attempts: number; bytes: number }
  /** New bytes landed; `entry` is the new manifest entry (not committed yet). */
  | { kind: 'landed'; entry: ManifestEntry; previous: ManifestEntry | undefined; attempts: number; bytes: number };

export function rawFileName(asset: Asset, sha256: string): string {
  const ext = `.${asset.format}`;
  const stem = asset.key.endsWith(ext) ? asset.key.slice(0, -ext.length) : asset.key;
  return `${stem}.${sha256.slice(0, 12)}${ext}`;
}

async function readEdges(file: string, bytes: number): Promise<{ size: number; head: Buffer; tail: Buffer }> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(Math.min(bytes, size));
    await handle.read(head, 0, head.length, 0);
    const tail = Buffer.alloc(Math.min(bytes, size));
    await handle.read(tail, 0, tail.length, Math.max(0, size - tail.length));
    return { size, head, tail };
  } finally {
    await handle.close();
  }
}

function looksLikeHtml(text: string): boolean {
  return /^\s*(<!doctype html|<html|<head|<body|<\?xml|<title)/i.test(text);
}

function preview(bytes: Buffer): string {
  return JSON.stringify(bytes.subarray(0, 40).toString('latin1').replace(/\s+/g, ' '));
}

function invalid(asset: Asset, problem: string, details: Record<string, unknown> = {}): LakeError {
  return new LakeError('DATA_INVALID', `${asset.url}: ${problem}`, {
    hint: 'Nothing was committed and the raw manifest still names the last good file; run again later, or check the base URL if this persists.',
    details: { dataset: asset.dataset, url: asset.url, ...details },
  });
}

/** Checks that the bytes are what the format promises; throws DATA_INVALID otherwise. */
export async function validateRawFile(file: string, format: SourceFormat, asset: Asset): Promise<void> {
  const { size, head, tail } = await readEdges(file, 64);
  if (size === 0) throw invalid(asset, 'the upstream sent an empty file');
  if (looksLikeHtml(head.toString('latin1'))) throw invalid(asset, `the upstream sent an HTML page instead of ${format} data (starts with ${preview(head)})`);
  if (format === 'parquet') {
    if (size < 12 || head.subarray(0, 4).toString('latin1') !== 'PAR1') throw invalid(asset, `not a Parquet file (starts with ${preview(head)})`, { size });
    if (tail.subarray(tail.length - 4).toString('latin1') !== 'PAR1') throw invalid(asset, `truncated Parquet file: ${size} bytes and no footer (the download was cut short or the file is being replaced)`, { size });
    return;
  }
  if (format === 'csv.gz') {
    if (head[0] !== 0x1f || head[1] !== 0x8b) throw invalid(asset, `not a gzip file (starts with ${preview(head)})`);
    return;
  }
  if (head.includes(0)) throw invalid(asset, `not a text CSV file (binary bytes at the start: ${preview(head)})`);
}

/** `nflverse_timestamp` / `nflverse_type` from Parquet key-value metadata; reads the footer (DATA_INVALID when it is damaged). */
export async function parquetProvenance(engine: Engine, file: string, asset: Asset): Promise<{ nflverseTimestamp?: string; nflverseType?: string }> {
  let rows: { k: string; v: string }[];
  try {
    rows = await engine.rows<{ k: string; v: string }>(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${literal(file)})`);
  } catch (cause) {
    throw invalid(asset, `the Parquet footer cannot be read: ${cause instanceof Error ? cause.message.replace(/^DuckDB: /, '') : String(cause)}`);
  }
  const out: { nflverseTimestamp?: string; nflverseType?: string } = {};
  for (const { k, v } of rows) {
    if (k === 'nflverse_timestamp') out.nflverseTimestamp = v;
    if (k === 'nflverse_type') out.nflverseType = v;
  }
  return out;
}

/** Downloads (conditionally when the manifest has the file), validates and lands one asset. */
export async function landAsset(options: LandingOptions): Promise<LandingOutcome> {
  const { asset, manifest } = options;
  const previous = manifest.get(asset.key);
  const rawDir = manifest.rawDir;
  const previousFile = previous ? path.join(rawDir, previous.file) : undefined;
  const havePrevious = previousFile !== undefined && (await stat(previousFile).then((s) => s.size === previous!.size, () => false));
  const conditional = havePrevious && !options.unconditional;
  const tempDir = path.join(rawDir, '.tmp');
  await mkdir(tempDir, { recursive: true });
  const temp = path.join(tempDir, `${randomUUID()}.part`);
  let result: DownloadResult;
  try {
    result = await download({
      url: asset.url,
      target: temp,
      etag: conditional ? previous!.etag : undefined,
      lastModified: conditional ? previous!.lastModified : options.since?.toUTCString(),
      timeoutMs: options.http.timeoutMs,
      userAgent: options.http.userAgent,
      policy: options.http.retries,
      clock: options.clock,
      random: options.random,
      onRetry: options.onRetry,
      onBytes: options.onBytes,
    });
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  if (result.status === 'absent') return { kind: 'absent', httpStatus: result.httpStatus, attempts: result.attempts };
  if (result.status === 'not-modified') {
    if (!conditional && options.since) return { kind: 'older', lastModified: undefined, attempts: result.attempts, bytes: 0 };
    if (!previous || !havePrevious) throw invalid(asset, 'the upstream answered 304 Not Modified to an unconditional request');
    return { kind: 'unchanged', entry: previous, notModified: true, attempts: result.attempts, bytes: 0 };
  }
  try {
    if (options.since && result.lastModified !== undefined && Date.parse(result.lastModified) < options.since.getTime()) {
      return { kind: 'older', lastModified: result.lastModified, attempts: result.attempts, bytes: result.size };
    }
    if (previous && havePrevious && previous.sha256 === result.sha256) {
      // Same bytes (a server without validators, or a recache): refresh the validators only.
      const entry: ManifestEntry = { ...previous, etag: result.etag, lastModified: result.lastModified };
      if (entry.etag !== previous.etag || entry.lastModified !== previous.lastModified) await manifest.put(entry);
      return { kind: 'unchanged', entry, notModified: false, attempts: result.attempts, bytes: result.size };
    }
    await validateRawFile(temp, asset.format, asset);
    const provenance = asset.format === 'parquet' ? await parquetProvenance(options.engine, temp, asset) : {};
    const file = rawFileName(asset, result.sha256);
    await mkdir(path.dirname(path.join(rawDir, file)), { recursive: true });
    await rename(temp, path.join(rawDir, file));
    const entry: ManifestEntry = {
      key: asset.key,
      dataset: asset.dataset,
      url: asset.url,
      file,
      size: result.size,
      sha256: result.sha256,
      ...(result.etag ? { etag: result.etag } : {}),
      ...(result.lastModified ? { lastModified: result.lastModified } : {}),
      ...(result.contentType ? { contentType: result.contentType } : {}),
      ...provenance,
      fetchedAt: new Date(options.clock.now()).toISOString(),
      sequence: (previous?.sequence ?? 0) + 1,
      ...(previous?.committed ? { committed: previous.committed } : {}),
      ...(previous?.columns ? { columns: previous.columns } : {}),
    };
    await manifest.put(entry);
    return { kind: 'landed', entry, previous, attempts: result.attempts, bytes: result.size };
  } finally {
    await rm(temp, { force: true });
  }
}
