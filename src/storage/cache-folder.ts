/**
 * Local cache folders (parsed checkpoints, prepared queries): entries written whole under their
 * final name (a temp file renamed into place, so a reader sees all of an entry or none), kept by
 * most recent use (an entry's mtime, set when it is read), the oldest removed when the folder holds
 * too many. A cache is only ever a shortcut: its callers ignore any failure here.
 */
import { mkdirSync, promises as fs, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface CacheFolderLimits {
  /** Names ending so are the folder's entries (others are left alone). */
  suffixes: readonly string[];
  /** Entries kept after a trim, the most recently used. */
  keep: number;
  /** Entries beyond `keep` tolerated before a write trims the folder (0: trim at every write past `keep`). */
  slack?: number;
}

/** Writes `data` as the entry `file`, then trims its folder to `limits`. */
export async function writeCacheEntry(file: string, data: string | Uint8Array, limits: CacheFolderLimits): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  try {
    await fs.writeFile(temp, data);
    await fs.rename(temp, file);
  } catch (error) {
    // As in the synchronous write: a full disk leaves no half-written temp file behind.
    await fs.rm(temp, { force: true });
    throw error;
  }
  trimCacheFolder(dir, limits);
}

/** `writeCacheEntry` for small entries, synchronously: no trip through libuv's thread pool (see `touchCacheEntry`). */
export function writeCacheEntrySync(file: string, data: string | Uint8Array, limits: CacheFolderLimits): void {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, data);
    renameSync(temp, file);
  } catch (error) {
    // A full disk leaves no half-written temp file behind.
    rmSync(temp, { force: true });
    throw error;
  }
  trimCacheFolder(dir, limits);
}

/**
 * Removes the least recently used entries of `dir` beyond `limits.keep`, once more than `slack`
 * extra have accumulated. Synchronous: a listing, and a stat per entry only when over the limit.
 */
function trimCacheFolder(dir: string, limits: CacheFolderLimits): void {
  const names = readdirSync(dir).filter((n) => limits.suffixes.some((s) => n.endsWith(s)));
  if (names.length <= limits.keep + (limits.slack ?? 0)) return;
  const dated = names.map((n) => ({ n, t: statSync(path.join(dir, n), { throwIfNoEntry: false })?.mtimeMs ?? 0 }));
  dated.sort((a, b) => b.t - a.t);
  for (const { n } of dated.slice(limits.keep)) rmSync(path.join(dir, n), { force: true });
}

/**
 * Marks the entry `file` as just used, so trimming keeps it longest. Synchronous: one local
 * utimes takes microseconds, while the first trip through libuv's thread pool starts its four
 * threads, which then compete with DuckDB's for the cores while a cold query runs (measured on
 * the reads bench's cold time travel: ~8 ms more CPU per query with the asynchronous call).
 */
export function touchCacheEntry(file: string): void {
  const now = new Date();
  try {
    utimesSync(file, now, now);
  } catch {
    // an entry removed meanwhile is simply not kept
  }
}
