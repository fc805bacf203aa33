import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import { LakeError, isLakeError } from '../core/index.js';
import { loadSnapshot, type CheckpointReader, type Snapshot, type SnapshotOptions } from '../delta/index.js';
import { duckdbCheckpointReader, engineBudget, memoryLimitBytes, openEngine, removeStaleSpillFolders, type Engine } from '../engine/index.js';
import { isRemote, joinLocation, localStateDir, resolveLocation } from '../storage/index.js';

export { memoryLimitBytes };

export const LAYERS = ['bronze', 'silver', 'gold'] as const;
export type Layer = (typeof LAYERS)[number];

/** A lake: its root folder plus one DuckDB engine for the process. */
export interface Lake {
  root: string;
  engine: Engine;
  checkpoints: CheckpointReader;
  /** Folder of prepared queries a later process can reuse (src/table/prepared-cache.ts); none without a temp folder. */
  queryCache?: string;
  /**
   * The same lake on another connection to its DuckDB database (Engine.fork), so that a worker's
   * statements run beside the others' instead of queueing on one connection. Its `close` closes
   * that connection only.
   */
  fork(): Promise<Lake>;
  close(): void;
}

export interface OpenLakeOptions {
  root?: string;
  threads?: number;
  memoryLimit?: string;
  /** Create the lake root if missing (commands that write); otherwise a missing root is left alone and spills go to the OS temp folder. */
  create?: boolean;
  /**
   * Keep Parquet footers between queries (default true, for reads). The pipeline opens its lakes
   * with false: a write reads most files once, and DuckDB's footer cache only grows (docs/storage.md).
   */
  footerCache?: boolean;
}

/** The folder under the lake's temp folder that holds parsed checkpoints. */
export const CHECKPOINT_CACHE_DIR = 'checkpoints';
/** The folder under the lake's temp folder that holds prepared queries. */
export const QUERY_CACHE_DIR = 'queries';

/**
 * The lake's own temp folder: DuckDB spill folders and work files live here, one per engine,
 * removed when it closes. For a lake on S3 it is a local folder per lake root under the OS temp
 * folder (docs/s3.md "What stays local"), since spills and caches must be local files.
 */
export function lakeTempRoot(root: string): string {
  return localStateDir(root) ?? path.join(root, LAKE_TEMP_NAME);
}

/** The name of the lake's temp folder inside a local lake root. */
export const LAKE_TEMP_NAME = '.lake-tmp';

export function defaultLakeRoot(): string {
  return resolveLocation(process.env['LAKE_ROOT'] ?? 'tables');
}

export async function openLake(options: OpenLakeOptions = {}): Promise<Lake> {
  const root = resolveLocation(options.root ?? defaultLakeRoot());
  const remote = isRemote(root);
  if (options.create && !remote) mkdirSync(root, { recursive: true });
  // LAKE_TEMP_DIR (the process budget's tempRoot) wins: the user named a folder for spills.
  let tempRoot = engineBudget().tempRoot;
  if (tempRoot === undefined && (remote || existsSync(root))) {
    tempRoot = lakeTempRoot(root);
    mkdirSync(tempRoot, { recursive: true });
    removeStaleSpillFolders(tempRoot);
  }
  const engine = await openEngine({ threads: options.threads, memoryLimit: options.memoryLimit, tempRoot, s3: remote, footerCache: options.footerCache });
  return lakeOn(root, engine, tempRoot);
}

function lakeOn(root: string, engine: Engine, tempRoot: string | undefined): Lake {
  return {
    root,
    engine,
    // Parsed checkpoints are cached beside the spill folders (see checkpoint-cache.ts).
    checkpoints: duckdbCheckpointReader(engine, { cacheDir: tempRoot === undefined ? undefined : path.join(tempRoot, CHECKPOINT_CACHE_DIR) }),
    ...(tempRoot === undefined ? {} : { queryCache: path.join(tempRoot, QUERY_CACHE_DIR) }),
    fork: async () => lakeOn(root, await engine.fork(), tempRoot),
    close: () => engine.close(),
  };
}

/**
 * Runs `work` with room for `bytes` of input (Parquet or CSV bytes a step reads) in the database,
 * beside the other workers: see `onLakeWorkers`.
 */
export type Admit = <T>(bytes: number, work: () => Promise<T>) => Promise<T>;

/** The `Admit` of a step run on its own: no one to wait for. */
export const admitAlone: Admit = (_bytes, work) => work();

/**
 * Of the memory limit, the share of input bytes the workers of a run may process at once: a step
 * with more input than this runs alone. DuckDB's buffer pool is one budget for every connection,
 * and a wide write or window can use all of it (a pbp season: 30 MB of Parquet, 1 GiB in a sort),
 * so large steps keep the budget to themselves (they spill instead of failing with
 * OUT_OF_MEMORY) and small ones, which a nightly update is made of, run side by side. Measured on
 * the 1999–2025 bootstrap (4 workers, 1 GiB): 1/64 peaked at 1.61 GiB, 1/256 at 1.18 GiB (one
 * worker: 1.22 GiB) and was as fast on a night, with less contention on two cores.
 */
export const SHARED_INPUT_FRACTION = 1 / 256;

/**
 * Admission by input size: at most `capacity` bytes admitted at once, in the order asked (a large
 * step waits for the running ones and holds back those after it, so it is never starved); a step
 * larger than the capacity takes all of it.
 */
export function admission(capacity: number): Admit {
  let used = 0;
  const waiting: { weight: number; start: () => void }[] = [];
  const grant = (): void => {
    while (waiting.length > 0 && used + waiting[0]!.weight <= capacity) {
      const next = waiting.shift()!;
      used += next.weight;
      next.start();
    }
  };
  return async <T>(bytes: number, work: () => Promise<T>): Promise<T> => {
    const weight = Math.min(capacity, Math.max(0, bytes));
    await new Promise<void>((start) => {
      waiting.push({ weight, start });
      grant();
    });
    try {
      return await work();
    } finally {
      used -= weight;
      grant();
    }
  };
}

/**
 * Runs `work` for every item, at most `workers` at once, each worker on a connection of its own
 * (the first on the lake's, the others on forks, closed at the end): DuckDB then runs the workers'
 * statements side by side. `admit` (one per call) bounds the input the workers process at once
 * (SHARED_INPUT_FRACTION of the memory limit): a worker wraps each large step in it. Waits for
 * every item before failing with the first error, so no connection closes under a running
 * statement. Results in the items' order.
 */
export async function onLakeWorkers<I, R>(lake: Lake, workers: number, items: readonly I[], work: (lake: Lake, item: I, admit: Admit) => Promise<R>): Promise<R[]> {
  const idle: Lake[] = [lake];
  const forks: Lake[] = [];
  const limit = pLimit(Math.max(1, workers));
  const admit = admission(memoryLimitBytes(lake.engine.memoryLimit) * SHARED_INPUT_FRACTION);
  const take = async (): Promise<Lake> => {
    const ready = idle.pop();
    if (ready) return ready;
    const fork = await lake.fork();
    forks.push(fork);
    return fork;
  };
  try {
    const settled = await Promise.allSettled(
      items.map((item) =>
        limit(async () => {
          const on = await take();
          try {
            return await work(on, item, admit);
          } finally {
            idle.push(on);
          }
        }),
      ),
    );
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<R>).value);
  } finally {
    for (const fork of forks) fork.close();
  }
}

export interface TableRef {
  /** As the user named it: `silver.pbp` or a path. */
  name: string;
  tableRoot: string;
  layer?: Layer;
  dataset?: string;
}

const NAME_PART = /^[a-z0-9_]+$/;
const URI = /^([a-z][a-z0-9+.-]*):\/\//i;

/** A path as the user must write one: absolute, `./x`, `../x`, `.`, `..`, or anything with a `/`. */
export function looksLikePath(name: string): boolean {
  return name === '.' || name === '..' || name.includes('/') || name.includes('\\');
}

/**
 * Resolves a table reference. `layer.dataset` (one dot, no slash) is a lake table under the lake
 * root: an unknown layer or a name outside `[a-z0-9_]` is a USAGE error, never a folder. Anything
 * else must look like a path (see `looksLikePath`) and is taken as one; a bare word is an error,
 * so a typo never creates a table in the working folder.
 */
export function resolveTable(lake: Pick<Lake, 'root'>, name: string): TableRef {
  const uri = URI.exec(name);
  if (uri) {
    if (uri[1]!.toLowerCase() === 'file') return { name, tableRoot: path.resolve(decodeURIComponent(name.slice('file://'.length))) };
    if (uri[1]!.toLowerCase() === 's3') return { name, tableRoot: resolveLocation(name) };
    throw new LakeError('USAGE', `${name}: ${uri[1]}:// tables are not supported; the lake reads and writes local folders and s3:// locations`, {
      hint: 'Give a local path (./x or /x), an s3://bucket/prefix location or a lake table (layer.dataset).',
    });
  }
  if (looksLikePath(name)) return { name, tableRoot: path.resolve(name) };
  const parts = name.split('.');
  if (parts.length === 2) {
    const [layer, dataset] = parts as [string, string];
    if (!(LAYERS as readonly string[]).includes(layer)) {
      throw new LakeError('USAGE', `${name}: unknown layer '${layer}'; lake tables are ${LAYERS.map((l) => `${l}.<dataset>`).join(', ')}`, {
        hint: `Use one of the layers ${LAYERS.join(', ')}, or write a path as ./${name} to mean a folder.`,
      });
    }
    if (!NAME_PART.test(dataset)) {
      throw new LakeError('USAGE', `${name}: '${dataset}' is not a dataset name (lowercase letters, digits and _ only)`, {
        hint: 'Rename it, or write a path as ./<folder> to mean a folder.',
      });
    }
    return { name, tableRoot: joinLocation(lake.root, layer, dataset), layer: layer as Layer, dataset };
  }
  if (name.trim() === '') throw new LakeError('USAGE', 'empty table name', { hint: 'Name a table as layer.dataset (e.g. silver.pbp) or give a path (./x, /x).' });
  throw new LakeError('USAGE', `${name}: not a table name; name a lake table as layer.dataset (${LAYERS.join(', ')}) or a folder as a path`, {
    hint: `Did you mean ./${name} (a folder here) or silver.${name.replace(/[^a-z0-9_]/g, '_')}?`,
  });
}

export async function tableSnapshot(lake: Lake, ref: TableRef, options: SnapshotOptions = {}): Promise<Snapshot> {
  return loadSnapshot(ref.tableRoot, lake.checkpoints, options, ref.name);
}

/** The table's latest snapshot, or undefined when no table exists there yet. */
export async function findSnapshot(lake: Lake, ref: TableRef): Promise<Snapshot | undefined> {
  try {
    return await tableSnapshot(lake, ref);
  } catch (error) {
    if (isLakeError(error, 'TABLE_NOT_FOUND')) return undefined;
    throw error;
  }
}
