/**
 * A cache of parsed checkpoints in the lake's temp folder. Checkpoint files are immutable (a
 * writer never rewrites one: PROTOCOL.md "Checkpoints"), so the actions parsed from a set of
 * checkpoint files can be reused as long as every file still has the name, size and mtime it had:
 * the next snapshot load of the table then skips DuckDB's Parquet read and replays the cached
 * actions plus the JSON commits since. Adds (most of a checkpoint) are stored column-wise, with
 * partition values and tags as dictionaries, which parses several times faster than the
 * checkpoint itself; anything else is stored as the action objects. A cache that cannot be read
 * or written is ignored: it only ever saves time.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Action, AddAction } from '../delta/index.js';

/** Bumped when the layout below changes: old entries are then never matched. */
const FORMAT = 1;
/** Entries kept per cache folder (newest by use); older ones are removed after a write. */
const MAX_ENTRIES = 16;
/** Checkpoints whose paths and stats exceed this many characters are not cached (wide tables' stats with stats loaded). */
const MAX_CHARS = 128 * 1024 * 1024;

interface CachedCheckpoint {
  format: number;
  adds: {
    path: string[];
    /** Index into `values`. */
    partitionValues: number[];
    values: Record<string, string | null>[];
    size: number[];
    modificationTime: number[];
    dataChange: number[];
    /** Index into `tagSets`, -1 for none. */
    tags: number[];
    tagSets: Record<string, string>[];
    stats: (string | null)[];
    /** Any other fields of the add (deletion vector, row ids, …), or null. */
    rest: (Record<string, unknown> | null)[];
  };
  other: Action[];
}

const ADD_COLUMNS = new Set(['path', 'partitionValues', 'size', 'modificationTime', 'dataChange', 'tags', 'stats']);

/** The cache file for `files` read with or without stats; undefined when a file cannot be stat'ed. */
export async function checkpointCacheFile(cacheDir: string, files: readonly string[], withStats: boolean): Promise<string | undefined> {
  const stats = await Promise.all(files.map((f) => fs.stat(f).catch(() => undefined)));
  if (stats.some((s) => s === undefined)) return undefined;
  const key = JSON.stringify([FORMAT, withStats, files.map((f, i) => [path.resolve(f), stats[i]!.size, stats[i]!.mtimeMs])]);
  return path.join(cacheDir, `${createHash('sha256').update(key).digest('hex').slice(0, 40)}.json`);
}

function encode(actions: readonly Action[]): CachedCheckpoint {
  const values = new Map<string, number>();
  const tagSets = new Map<string, number>();
  const intern = (map: Map<string, number>, value: object): number => {
    const text = JSON.stringify(value);
    let index = map.get(text);
    if (index === undefined) map.set(text, (index = map.size));
    return index;
  };
  const adds: CachedCheckpoint['adds'] = { path: [], partitionValues: [], values: [], size: [], modificationTime: [], dataChange: [], tags: [], tagSets: [], stats: [], rest: [] };
  const other: Action[] = [];
  for (const action of actions) {
    if (action.kind !== 'add') {
      other.push(action);
      continue;
    }
    const add = action.add;
    adds.path.push(add.path);
    adds.partitionValues.push(intern(values, add.partitionValues));
    adds.size.push(add.size);
    adds.modificationTime.push(add.modificationTime);
    adds.dataChange.push(add.dataChange ? 1 : 0);
    adds.tags.push(add.tags ? intern(tagSets, add.tags) : -1);
    adds.stats.push(typeof add.stats === 'string' ? add.stats : null);
    const rest = Object.entries(add).filter(([k, v]) => !ADD_COLUMNS.has(k) && v !== undefined);
    adds.rest.push(rest.length > 0 ? Object.fromEntries(rest) : null);
  }
  adds.values = [...values.keys()].map((t) => JSON.parse(t) as Record<string, string | null>);
  adds.tagSets = [...tagSets.keys()].map((t) => JSON.parse(t) as Record<string, string>);
  return { format: FORMAT, adds, other };
}

function decode(cached: CachedCheckpoint): Action[] {
  const { adds } = cached;
  const actions: Action[] = [];
  for (let i = 0; i < adds.path.length; i++) {
    const add: AddAction = {
      path: adds.path[i]!,
      partitionValues: { ...adds.values[adds.partitionValues[i]!]! },
      size: adds.size[i]!,
      modificationTime: adds.modificationTime[i]!,
      dataChange: adds.dataChange[i] === 1,
    };
    const tags = adds.tags[i]!;
    if (tags >= 0) add.tags = { ...adds.tagSets[tags]! };
    const stats = adds.stats[i];
    if (stats !== null && stats !== undefined) add.stats = stats;
    const rest = adds.rest[i];
    if (rest) Object.assign(add, rest);
    actions.push({ kind: 'add', add });
  }
  return [...cached.other, ...actions];
}

/** The cached actions of `file`, or undefined on a miss (or an unreadable entry). */
export async function readCachedCheckpoint(file: string): Promise<Action[] | undefined> {
  try {
    const cached = JSON.parse(await fs.readFile(file, 'utf8')) as CachedCheckpoint;
    if (cached.format !== FORMAT) return undefined;
    const now = new Date();
    await fs.utimes(file, now, now).catch(() => undefined);
    return decode(cached);
  } catch {
    return undefined;
  }
}

/** Stores `actions` as `file` (atomically: a temp file renamed into place) and trims the folder to the newest entries. */
export async function writeCachedCheckpoint(file: string, actions: readonly Action[]): Promise<void> {
  try {
    let chars = 0;
    for (const a of actions) if (a.kind === 'add') chars += a.add.path.length + (typeof a.add.stats === 'string' ? a.add.stats.length : 0);
    if (chars > MAX_CHARS) return;
    const dir = path.dirname(file);
    await fs.mkdir(dir, { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(temp, JSON.stringify(encode(actions)));
    await fs.rename(temp, file);
    const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.json'));
    if (names.length <= MAX_ENTRIES) return;
    const dated = await Promise.all(names.map(async (n) => ({ n, t: (await fs.stat(path.join(dir, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
    dated.sort((a, b) => b.t - a.t);
    await Promise.all(dated.slice(MAX_ENTRIES).map(({ n }) => fs.rm(path.join(dir, n), { force: true })));
  } catch {
    // a cache that cannot be written costs the next load its Parquet read, nothing more
  }
}
