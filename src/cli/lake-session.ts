import { Option } from 'commander';
import { acquireLock, describeHolder, lakeLockFile, newRunId } from '../pipeline/index.js';
import { openLake, type Lake } from '../table/index.js';

/**
 * How CLI commands hold a lake: readers just open it; every run-level command that writes to the
 * lake (ingest, promote, build-gold, rollback, vacuum) also takes the lake lock
 * (`<root>/.lake.lock`) for its whole run, so two runs never commit the same rebuild; the
 * single-table verbs (write, restore, checkpoint) rely on the commit's optimistic concurrency. A busy lock is LOCK_BUSY (exit 4) naming its holder, or, with `--wait <s>`,
 * waited for with a progress line every few seconds; a stale lock of a dead process is taken over.
 */
export async function withLake<T>(fn: (lake: Lake) => Promise<T>): Promise<T> {
  const lake = await openLake();
  try {
    return await fn(lake);
  } finally {
    lake.close();
  }
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

/** Opens the lake and runs `fn` under its lock (a dry run only reads, so it takes no lock). */
export async function withWritableLake<T>(command: string, options: LockOptions & { dryRun?: boolean }, err: (text: string) => void, fn: (lake: Lake) => Promise<T>): Promise<T> {
  return withLake(async (lake) => {
    const release = await lockLake(lake.root, command, options, err);
    try {
      return await fn(lake);
    } finally {
      await release();
    }
  });
}

/** The `--wait <seconds>` option of every command that writes to the lake. */
export function waitOption(): Option {
  return new Option('--wait <seconds>', 'wait up to this long for the lake lock when another writer holds it (default: fail at once with LOCK_BUSY, exit 4)').argParser((v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--wait takes a number of seconds, got ${v}`);
    return n;
  });
}
