import { InvalidArgumentError, Option } from './commander.js';
import { faultPoint, isLakeError } from '../core/index.js';
import { configureEngines } from '../engine/index.js';
import { acquireLock, engineEnv, describeHolder, lakeLockFile, loadCatalog, newRunId, resolveSettings, type Catalog, type ResolvedSettings } from '../pipeline/index.js';
import { openLake, withLakeContents, type Lake, type OpenLakeOptions } from '../table/index.js';
import { loadDotEnv, resolveLakeRoot } from './environment.js';

export { withLake } from './environment.js';

/**
 * How CLI commands hold a lake: readers just open it; every run-level command that writes to the
 * lake (ingest, promote, build-gold, rollback, vacuum) also takes the lake lock
 * (`<root>/.lake.lock`) for its whole run, so two runs never commit the same rebuild; the
 * single-table verbs (write, restore, checkpoint) rely on the commit's optimistic concurrency. A busy lock is LOCK_BUSY (exit 4) naming its holder, or, with `--wait <s>`,
 * waited for with a progress line every few seconds; a stale lock of a dead process is taken over.
 */

/**
 * The DuckDB budget of this process from LAKE_MEMORY_LIMIT / LAKE_THREADS / LAKE_TEMP_DIR (every
 * command); commands that load the catalog apply its `lake:` block through `loadSettings` (the
 * variables still win).
 */
export function budgetFromEnv(env: NodeJS.ProcessEnv): void {
  configureEngines(engineEnv(env));
}

/**
 * The settings of a command that uses the catalog: `.env`, the catalog file, environment
 * overrides; the memory limit and threads go to every DuckDB engine the command opens. Every other
 * command reaches the same values through environment.ts `resolveLakeRoot`.
 */
export function loadSettings(catalogFile: string): { catalog: Catalog; settings: ResolvedSettings } {
  loadDotEnv();
  const catalog = loadCatalog(catalogFile);
  const settings = resolveSettings(catalog);
  configureEngines({ memoryLimit: settings.memoryLimit, threads: settings.threads });
  return { catalog, settings };
}

/**
 * What an ingest command hands to its own `--build-gold` follow-up (the postAction hook of the same
 * command object, gold-commands.ts): the catalog and settings it loaded and its open lake, so one
 * process parses the catalog once and runs one DuckDB engine for the whole night. The taker owns
 * the lake (closes it); an ingest that fails hands nothing and closes its lake itself.
 */
export interface IngestHandoff {
  catalog: Catalog;
  settings: ResolvedSettings;
  lake: Lake;
}

const handoffs = new WeakMap<object, IngestHandoff>();

export function handOffIngest(command: object, handoff: IngestHandoff): void {
  handoffs.set(command, handoff);
}

/** The handoff left on `command`, once (the caller then owns its lake). */
export function takeIngestHandoff(command: object): IngestHandoff | undefined {
  const handoff = handoffs.get(command);
  handoffs.delete(command);
  return handoff;
}

export interface LockOptions {
  /** `--wait <seconds>`: how long to wait for a busy lake lock. */
  wait?: number;
}

/** Takes the lake lock of `root` (see the file header); returns its release. A dry run passes `dryRun` and takes nothing. */
export async function lockLake(root: string, command: string, options: LockOptions & { dryRun?: boolean }, err: (text: string) => void): Promise<() => Promise<void>> {
  if (options.dryRun) return async () => undefined;
  let lastNotice = -Infinity;
  const lock = await acquireLock(
    lakeLockFile(root),
    { runId: newRunId(Date.now()), command: `lake ${command}`, startedAt: new Date().toISOString() },
    {
      waitMs: (options.wait ?? 0) * 1000,
      onWait: (holder, waitedMs) => {
        if (waitedMs - lastNotice < 5000) return;
        lastNotice = waitedMs;
        err(`waiting for the lake lock (${Math.round(waitedMs / 1000)} of ${options.wait} s): held by ${holder ? describeHolder(holder) : 'another run'}\n`);
      },
    },
  );
  return () => lock.release();
}

/**
 * Takes the lake lock of `open.root`, then opens the lake. When opening fails the lock is
 * released before the error goes on: it is never left behind for a stale takeover.
 */
export async function openLockedLake(
  command: string,
  open: OpenLakeOptions & { root: string },
  options: LockOptions & { dryRun?: boolean },
  err: (text: string) => void,
  handed?: Lake,
): Promise<{ lake: Lake; unlock: () => Promise<void> }> {
  let unlock: (() => Promise<void>) | undefined;
  try {
    unlock = await lockLake(open.root, command, options, err);
    if (!options.dryRun) faultPoint('lock.taken');
    // Every locked command writes: its engine keeps no Parquet footers (OpenLakeOptions.footerCache).
    return { lake: handed ?? (await openLake({ footerCache: false, ...open })), unlock };
  } catch (error) {
    await unlock?.();
    // A lake handed over (IngestHandoff) is owned here: closed when the lock cannot be had.
    handed?.close();
    throw error;
  }
}

/** Runs `fn` under the lake lock on the opened lake (a dry run only reads, so it takes no lock). */
export async function withWritableLake<T>(command: string, options: LockOptions & { dryRun?: boolean }, err: (text: string) => void, fn: (lake: Lake) => Promise<T>): Promise<T> {
  const { lake, unlock } = await openLockedLake(command, { root: await resolveLakeRoot() }, options, err);
  try {
    return await fn(lake);
  } catch (error) {
    throw isLakeError(error, 'TABLE_NOT_FOUND') ? await withLakeContents(lake, error) : error;
  } finally {
    await unlock();
    lake.close();
  }
}

/** The `--wait <seconds>` option of every command that writes to the lake. */
export function waitOption(): Option {
  return new Option('--wait <seconds>', 'wait up to this long for the lake lock when another writer holds it (default: fail at once with LOCK_BUSY, exit 4)').argParser((v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('give a number of seconds (0 or more).');
    return n;
  });
}
