import { hostname } from 'node:os';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { LakeError, errnoCode, isLakeError, processAlive, systemClock, type Clock } from '../../core/index.js';
import { localStateDir, putIfAbsent } from '../../storage/index.js';

/**
 * Run locks: a lock file created put-if-absent that names its holder. A lock left by a process
 * that no longer runs on this host is taken over; anything else is LOCK_BUSY (exit 4), or, with
 * `waitMs`, waited for (polling, reporting each wait) until it frees or the wait runs out.
 * Two locks exist: the lake lock (`lakeLockFile`: every command that writes to a lake takes it,
 * readers never do) and the ingest lock in the raw folder (it guards the download manifest,
 * which several lakes may share).
 */
export interface LockHolder {
  pid: number;
  hostname: string;
  runId: string;
  command: string;
  startedAt: string;
}

export interface HeldLock {
  file: string;
  holder: LockHolder;
  release(): Promise<void>;
}

async function readHolder(file: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

export function describeHolder(holder: LockHolder): string {
  return `run ${holder.runId} (${holder.command}), pid ${holder.pid} on ${holder.hostname}, started ${holder.startedAt}`;
}

/**
 * The lake lock: `<lake root>/.lake.lock` (hidden, so no table listing or vacuum ever sees it).
 * For a lake on S3 it is a local file (localStateDir): it keeps the runs of one machine apart; the
 * commits themselves rest on conditional PUT (docs/s3.md).
 */
export function lakeLockFile(lakeRoot: string): string {
  return path.join(localStateDir(lakeRoot) ?? lakeRoot, '.lake.lock');
}

export interface LockWait {
  /** How long to wait for a busy lock before LOCK_BUSY (default 0: fail at once). */
  waitMs?: number;
  clock?: Clock;
  /** Called on each wait with the holder and the time waited so far (for progress lines). */
  onWait?: (holder: LockHolder | undefined, waitedMs: number) => void;
}

const POLL_MS = 250;

/** Takes the lock at `file`, waiting up to `wait.waitMs` for a live holder to release it. */
export async function acquireLock(file: string, holder: Omit<LockHolder, 'pid' | 'hostname'>, wait: LockWait = {}): Promise<HeldLock> {
  const clock = wait.clock ?? systemClock;
  const started = clock.now();
  for (;;) {
    try {
      return await tryLock(file, holder);
    } catch (error) {
      const waited = clock.now() - started;
      if (!isLakeError(error, 'LOCK_BUSY') || waited >= (wait.waitMs ?? 0)) throw error;
      wait.onWait?.((error.details?.['holder'] as LockHolder | undefined) ?? undefined, waited);
      await clock.sleep(Math.min(POLL_MS, (wait.waitMs ?? 0) - waited));
    }
  }
}

async function tryLock(file: string, holder: Omit<LockHolder, 'pid' | 'hostname'>): Promise<HeldLock> {
  const me: LockHolder = { pid: process.pid, hostname: hostname(), ...holder };
  for (let attempt = 0; attempt < 3; attempt++) {
    const put = await putIfAbsent(file, `${JSON.stringify(me)}\n`);
    if (put.status === 'written') {
      return {
        file,
        holder: me,
        release: async () => {
          const current = await readHolder(file);
          if (current && current.runId === me.runId && current.pid === me.pid) await rm(file, { force: true });
        },
      };
    }
    const other = await readHolder(file);
    if (other && other.hostname === me.hostname && !processAlive(other.pid)) {
      // Stale: its process is gone. Remove it only if it is still that same holder.
      const again = await readHolder(file);
      if (again && again.pid === other.pid && again.runId === other.runId) await rm(file, { force: true }).catch((e: unknown) => (errnoCode(e) === 'ENOENT' ? undefined : Promise.reject(e)));
      continue;
    }
    throw new LakeError('LOCK_BUSY', `another run holds the lock ${file}: ${other ? describeHolder(other) : 'holder unknown (lock file being written)'}`, {
      hint: 'Wait for that run to finish (or pass --wait <seconds>) and start again. If its process is gone from another host, delete the lock file.',
      details: { lock: file, holder: other },
    });
  }
  throw new LakeError('LOCK_BUSY', `could not take the lock ${file} (it keeps changing hands)`, { hint: 'Another run is starting at the same time; try again.' });
}
