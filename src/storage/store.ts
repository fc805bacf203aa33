/**
 * The storage port: one set of operations, two adapters, picked by the location's scheme. Local
 * paths go to file-store.ts (put-if-absent by hard link), `s3://bucket/key` locations to
 * s3-store.ts (put-if-absent by PutObject with `If-None-Match: *`). Callers never branch on the
 * store: they build locations with location.ts and call these.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../core/index.js';
import * as local from './file-store.js';
import type { FileEntry, PutFaults, PutResult } from './file-store.js';
import { isRemote, parseS3Location } from './location.js';
import * as s3 from './s3-store.js';

/** Writes `data` to `target` only if nothing is there: `exists` when another writer won. */
export function putIfAbsent(target: string, data: string | Uint8Array, faults?: PutFaults): Promise<PutResult> {
  return isRemote(target) ? s3.s3PutIfAbsent(target, data, faults) : local.putIfAbsent(target, data, faults);
}

/** Writes `data` to `target`, replacing it atomically (replaceable hints only, e.g. `_last_checkpoint`). */
export function replaceFile(target: string, data: string | Uint8Array): Promise<void> {
  return isRemote(target) ? s3.s3ReplaceFile(target, data) : local.replaceFile(target, data);
}

export function readTextIfExists(file: string): Promise<string | undefined> {
  return isRemote(file) ? s3.s3ReadTextIfExists(file) : local.readTextIfExists(file);
}

export function readFileIfExists(file: string): Promise<Uint8Array | undefined> {
  return isRemote(file) ? s3.s3ReadFileIfExists(file) : local.readFileIfExists(file);
}

export function readRangeIfExists(file: string, offset: number, length: number): Promise<Uint8Array | undefined> {
  return isRemote(file) ? s3.s3ReadRangeIfExists(file, offset, length) : local.readRangeIfExists(file, offset, length);
}

export function statIfExists(file: string): Promise<{ size: number; mtimeMs: number } | undefined> {
  return isRemote(file) ? s3.s3StatIfExists(file) : local.statIfExists(file);
}

/**
 * The stamp of a local folder (file-store.ts `folderStamp`): it changes whenever an entry is added,
 * removed or renamed there. Undefined on S3, which has no folders to stamp.
 */
export function folderStamp(dir: string): { stamp: string; ageMs: number } | undefined {
  return isRemote(dir) ? undefined : local.folderStamp(dir);
}

/**
 * Names directly inside `dir`, sorted; empty when missing. `startAfter` keeps only names that sort
 * after it (on S3 the listing starts there: ListObjectsV2 StartAfter).
 */
export async function listNames(dir: string, options: { startAfter?: string } = {}): Promise<string[]> {
  if (isRemote(dir)) return s3.s3ListNames(dir, options);
  const names = await local.listNames(dir);
  const after = options.startAfter;
  return after === undefined ? names : names.filter((n) => n > after);
}

/** Files directly inside `dir` (with sizes) and the names of its sub-folders; empty when missing. */
export async function listEntries(dir: string): Promise<{ files: FileEntry[]; folders: string[] }> {
  if (isRemote(dir)) return s3.s3ListEntries(dir);
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return { files: [], folders: [] };
    throw error;
  }
  const files: FileEntry[] = [];
  const folders: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory()) folders.push(entry.name);
    else if (entry.isFile()) {
      const stat = await local.statIfExists(path.join(dir, entry.name));
      if (stat) files.push({ name: entry.name, ...stat });
    }
  }
  return { files, folders };
}

export function listFilesRecursive(dir: string): Promise<FileEntry[]> {
  return isRemote(dir) ? s3.s3ListFilesRecursive(dir) : local.listFilesRecursive(dir);
}

export function deleteFile(file: string): Promise<boolean> {
  return isRemote(file) ? s3.s3DeleteFile(file) : local.deleteFile(file);
}

export function exists(file: string): Promise<boolean> {
  return isRemote(file) ? s3.s3Exists(file) : local.exists(file);
}

/** True when `dir` exists (on disk) or holds any object (on an object store, where folders exist only through their objects). */
export async function hasEntries(dir: string): Promise<boolean> {
  return isRemote(dir) ? s3.s3HasEntries(dir) : existsSync(dir);
}

/**
 * Refuses (STORAGE_UNSAFE) to write under `location` when its store cannot guarantee put-if-absent
 * (an S3-compatible server that ignores `If-None-Match: *`); checked once per process and bucket.
 * Writers call it before their first data file, so an unsafe store leaves nothing behind.
 */
export async function assertSafeStore(location: string): Promise<void> {
  if (!isRemote(location)) return;
  const { bucket, key } = parseS3Location(location);
  await s3.assertConditionalPut(bucket, key);
}

/** Makes sure files can be written under `dir` (mkdir -p on disk; object stores have no folders). */
export async function ensureDir(dir: string): Promise<void> {
  if (!isRemote(dir)) await fs.mkdir(dir, { recursive: true });
}
