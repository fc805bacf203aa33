/**
 * Prepared queries kept on disk in the lake's temp folder, so that a fresh process (`lake sql`, a
 * script calling `runQuery`) running a query it ran before over the same table versions skips the
 * log replay, the SQL analysis and the scan planning, and hands DuckDB the SQL at once. An entry
 * is named by a hash of the query text as the caller wrote it, its options, the lake root and the
 * working folder (what the text's names and relative paths mean), so that finding it needs no
 * parsing; it holds, per table the query reads, the version it read and
 * that version's identity (its commit file: path, version, size, mtime; commits are immutable,
 * and a table re-created at the same path has other commit files). It is used only while every
 * identity is the same now: a read of the latest version misses once a commit lands, and the new
 * preparation replaces it. Only fully inlined native scans are stored (no temp views or temp
 * tables, which live in one process). A stored query may name data files vacuumed since:
 * `runQuery` then drops the entry and prepares the query again, which reports a missing file as
 * usual. A cache that cannot be read or written is ignored: it only ever saves time.
 */
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { PIPELINE_VERSION } from '../core/index.js';
import { touchCacheEntry, writeCacheEntrySync } from '../storage/index.js';
import type { LatestSeen } from './read-cache.js';

/** Bumped when what a prepared query holds, or how scans are written, changes: old entries are then never matched. */
const FORMAT = 2;
const EXTENSION = '.query.json';
/** Entries kept per folder (newest by use); the folder is trimmed when a write finds this many more. */
const MAX_ENTRIES = 256;
const TRIM_SLACK = 64;
/** Prepared SQL longer than this (a scan naming very many files) is not stored. */
const MAX_SQL_CHARS = 256_000;

/** A table version a stored query reads, as it was when the query was prepared. */
export interface StoredTarget {
  tableRoot: string;
  /** The version the query pins (an AT clause or the `asOf` option); null for the latest. */
  version: number | null;
  /** The version's identity then (read-cache.ts `versionIdentity`): the entry holds while it is the same now. */
  identity: string;
  /**
   * For the latest version: the stamp of the table's log folder before the listing that found it
   * (read-cache.ts `LatestSeen`). While the folder has that stamp the latest version is the same,
   * and the check is one stat, not a listing of the log.
   */
  seen?: LatestSeen;
}

export interface StoredQuery<V> {
  sql: string;
  views: V[];
  targets: StoredTarget[];
  /** The result's column types (DuckDB's names), as the query returned them when it was prepared. */
  types?: string[];
}

/** Where a query identified by `parts` (its text, options and the identity of each version it reads) is kept. */
export interface PreparedEntry {
  file: string;
  key: string;
}

/**
 * Two 32-bit FNV-1a hashes (different offsets) of `text`'s UTF-16 units, as 16 hex digits. The
 * entry holds its whole key and is checked on read, so a collision is a miss, never a wrong query;
 * this spares a fresh process the ~1 ms node:crypto takes to start.
 */
function hash64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193);
    b ^= b >>> 15;
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

export function preparedEntry(dir: string, parts: readonly unknown[]): PreparedEntry {
  const key = JSON.stringify([FORMAT, PIPELINE_VERSION, parts]);
  return { file: path.join(dir, `${hash64(key)}${EXTENSION}`), key };
}

/** The stored query of `entry`, or undefined on a miss (or an unreadable entry, or another key's). */
export async function readPreparedFile<V>(entry: PreparedEntry): Promise<StoredQuery<V> | undefined> {
  const { file } = entry;
  try {
    // Synchronous: a small local file, read faster than through libuv's thread pool.
    const value = JSON.parse(readFileSync(file, 'utf8')) as Partial<StoredQuery<V>> & { key?: unknown };
    if (value.key !== entry.key || typeof value.sql !== 'string' || !Array.isArray(value.views) || !Array.isArray(value.targets)) return undefined;
    // Marks the entry as used: trimming keeps the most recently used.
    touchCacheEntry(file);
    return { sql: value.sql, views: value.views, targets: value.targets, ...(Array.isArray(value.types) ? { types: value.types } : {}) };
  } catch {
    return undefined;
  }
}

/** Stores `value` for `entry` (atomically: a temp file renamed into place) and trims the folder to the newest entries. */
export function writePreparedFile<V>(entry: PreparedEntry, value: StoredQuery<V>): void {
  if (value.sql.length > MAX_SQL_CHARS) return;
  try {
    writeCacheEntrySync(entry.file, JSON.stringify({ key: entry.key, sql: value.sql, views: value.views, targets: value.targets, types: value.types }), { suffixes: [EXTENSION], keep: MAX_ENTRIES, slack: TRIM_SLACK });
  } catch {
    // a cache that cannot be written costs the next process its planning, nothing more
  }
}

/** Removes a stored query that failed to run (its files were vacuumed, say). */
export async function dropPreparedFile(file: string): Promise<void> {
  await fs.rm(file, { force: true }).catch(() => undefined);
}
