/**
 * A cache of parsed checkpoints in the lake's temp folder. Checkpoint files are immutable (a
 * writer never rewrites one: PROTOCOL.md "Checkpoints"), so what was parsed from a set of
 * checkpoint files can be reused as long as every file still has the name, size and mtime it had:
 * the next snapshot load of the table then skips DuckDB's Parquet read and replays the cached
 * checkpoint plus the JSON commits since. The adds (most of a checkpoint) are stored column-wise
 * in a small binary layout (numbers as typed arrays, paths and stats as one NUL-separated text
 * each, partition values and tags as dictionaries) and come back as `AddColumns`, without one JS
 * object per file; anything else is stored as the action objects. A cache that cannot be read or
 * written is ignored: it only ever saves time.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Action, AddColumns, ColumnarCheckpoint } from '../delta/index.js';
import { resolveLocation, statIfExists, touchCacheEntry, writeCacheEntry } from '../storage/index.js';

/** Bumped when the layout below changes: old entries are then never matched. */
const FORMAT = 2;
const MAGIC = 'LKCP';
const EXTENSION = '.cpc';
/** Entries kept per cache folder (newest by use); older ones are removed after a write. */
const MAX_ENTRIES = 16;
/** Checkpoints whose paths and stats exceed this many characters are not cached (wide tables' stats with stats loaded). */
const MAX_CHARS = 128 * 1024 * 1024;
const NUL = '\u0000';

/** The small part of an entry, as JSON after the fixed prefix; the columns follow it. */
interface Header {
  format: number;
  length: number;
  values: Record<string, string | null>[];
  tagSets: Record<string, string>[];
  /** Sparse `AddColumns.rest`: [row, fields]. */
  rest: [number, Record<string, unknown>][];
  /** Byte lengths of the NUL-joined paths and stats (-1: stats not loaded). */
  pathBytes: number;
  statsBytes: number;
  other: Action[];
}

/** The cache file for `files` read with or without stats; undefined when a file cannot be stat'ed. */
export async function checkpointCacheFile(cacheDir: string, files: readonly string[], withStats: boolean): Promise<string | undefined> {
  // Through the storage port: checkpoints on S3 are cached too (immutable, keyed by size and time).
  const stats = await Promise.all(files.map((f) => statIfExists(f).catch(() => undefined)));
  if (stats.some((s) => s === undefined)) return undefined;
  const key = JSON.stringify([FORMAT, withStats, files.map((f, i) => [resolveLocation(f), stats[i]!.size, stats[i]!.mtimeMs])]);
  return path.join(cacheDir, `${createHash('sha256').update(key).digest('hex').slice(0, 40)}${EXTENSION}`);
}

const pad8 = (n: number): number => (n + 7) & ~7;

function encode(checkpoint: ColumnarCheckpoint): Buffer | undefined {
  const { adds, other } = checkpoint;
  const n = adds.length;
  const paths = adds.path.join(NUL);
  const stats = adds.stats ? adds.stats.map((s) => s ?? '').join(NUL) : undefined;
  if (paths.length + (stats?.length ?? 0) > MAX_CHARS) return undefined;
  // A NUL inside a value would split it: such checkpoints (never valid paths or JSON) are not cached.
  if (adds.path.some((p) => p.includes(NUL)) || adds.stats?.some((s) => s !== null && (s === '' || s.includes(NUL)))) return undefined;
  const pathBuf = Buffer.from(paths, 'utf8');
  const statsBuf = stats === undefined ? undefined : Buffer.from(stats, 'utf8');
  const rest: [number, Record<string, unknown>][] = [];
  adds.rest?.forEach((r, i) => {
    if (r) rest.push([i, r]);
  });
  const header: Header = { format: FORMAT, length: n, values: adds.values, tagSets: adds.tagSets, rest, pathBytes: pathBuf.length, statsBytes: statsBuf?.length ?? -1, other };
  const headerBuf = Buffer.from(JSON.stringify(header), 'utf8');
  const start = pad8(12 + headerBuf.length);
  const numbers = Buffer.alloc(start + n * 8 * 2 + n * 4 * 2 + pad8(n));
  numbers.write(MAGIC, 0, 'latin1');
  numbers.writeUInt32LE(FORMAT, 4);
  numbers.writeUInt32LE(headerBuf.length, 8);
  headerBuf.copy(numbers, 12);
  let at = start;
  for (const column of [adds.size, adds.modificationTime]) for (let i = 0; i < n; i++, at += 8) numbers.writeDoubleLE(column[i]!, at);
  for (const column of [adds.partitionValues, adds.tags]) for (let i = 0; i < n; i++, at += 4) numbers.writeInt32LE(column[i]!, at);
  for (let i = 0; i < n; i++) numbers[at + i] = adds.dataChange[i]!;
  return Buffer.concat(statsBuf ? [numbers, pathBuf, statsBuf] : [numbers, pathBuf]);
}

function decode(buf: Buffer): ColumnarCheckpoint | undefined {
  if (buf.toString('latin1', 0, 4) !== MAGIC || buf.readUInt32LE(4) !== FORMAT) return undefined;
  const headerBytes = buf.readUInt32LE(8);
  const header = JSON.parse(buf.toString('utf8', 12, 12 + headerBytes)) as Header;
  const n = header.length;
  let at = pad8(12 + headerBytes);
  // Copies: a Buffer's offset in its ArrayBuffer need not be aligned for typed-array views.
  const take = <T>(bytes: number, make: (b: ArrayBuffer) => T): T => {
    const copy = new Uint8Array(bytes);
    copy.set(buf.subarray(at, at + bytes));
    at += bytes;
    return make(copy.buffer);
  };
  const size = take(n * 8, (b) => new Float64Array(b));
  const modificationTime = take(n * 8, (b) => new Float64Array(b));
  const partitionValues = take(n * 4, (b) => new Int32Array(b));
  const tags = take(n * 4, (b) => new Int32Array(b));
  const dataChange = take(pad8(n), (b) => new Uint8Array(b, 0, n));
  const text = (bytes: number): string[] => {
    const s = buf.toString('utf8', at, at + bytes);
    at += bytes;
    return n === 0 ? [] : s.split(NUL);
  };
  const paths = text(header.pathBytes);
  const adds: AddColumns = { length: n, path: paths, partitionValues, values: header.values.map((v) => Object.freeze(v)), size, modificationTime, dataChange, tags, tagSets: header.tagSets.map((v) => Object.freeze(v)) };
  if (header.statsBytes >= 0) adds.stats = text(header.statsBytes).map((s) => (s === '' ? null : s));
  if (header.rest.length > 0) {
    const rest: (Record<string, unknown> | null)[] = new Array<Record<string, unknown> | null>(n).fill(null);
    for (const [i, r] of header.rest) rest[i] = r;
    adds.rest = rest;
  }
  if (paths.length !== n || (adds.stats && adds.stats.length !== n) || at !== buf.length) return undefined;
  return { adds, other: header.other };
}

/** The cached checkpoint in `file`, or undefined on a miss (or an unreadable entry). */
export async function readCachedCheckpoint(file: string): Promise<ColumnarCheckpoint | undefined> {
  try {
    const decoded = decode(await fs.readFile(file));
    if (!decoded) return undefined;
    touchCacheEntry(file);
    return decoded;
  } catch {
    return undefined;
  }
}

/** Stores `checkpoint` as `file` and trims the folder to the newest entries. */
export async function writeCachedCheckpoint(file: string, checkpoint: ColumnarCheckpoint): Promise<void> {
  try {
    const bytes = encode(checkpoint);
    if (!bytes) return;
    // Entries of older formats (`.json`) age out with the rest.
    await writeCacheEntry(file, bytes, { suffixes: [EXTENSION, '.json'], keep: MAX_ENTRIES });
  } catch {
    // a cache that cannot be written costs the next load its Parquet read, nothing more
  }
}
