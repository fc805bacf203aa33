import { hostname } from 'node:os';
import { readFile, rm } from 'node:fs/promises';
import { LakeError, errnoCode } from '../../core/index.js';
import { putIfAbsent } from '../../storage/index.js';

/**
 * One ingest run at a time per raw folder (it guards the manifest and the bronze writes). The
 * lock file is created put-if-absent and names its holder. A lock left by a process that no
 * longer runs on this host is taken over; anything else is LOCK_BUSY (exit 4).
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
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

export async function acquireLock(file: string, holder: Omit<LockHolder, 'pid' | 'hostname'>): Promise<HeldLock> {
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
    if (other && other.hostname === me.hostname && !alive(other.pid)) {
      // Stale: its process is gone. Remove it only if it is still that same holder.
      const again = await readHolder(file);
      if (again && again.pid === other.pid && again.runId === other.runId) await rm(file, { force: true }).catch((e: unknown) => (errnoCode(e) === 'ENOENT' ? undefined : Promise.reject(e)));
      continue;
    }
    throw new LakeError('LOCK_BUSY', `another ingest run holds the lock ${file}: ${other ? describeHolder(other) : 'holder unknown (lock file being written)'}`, {
      hint: 'Wait for that run to finish and start again. If its process is gone from another host, delete the lock file.',
      details: { lock: file, holder: other },
    });
  }
  throw new LakeError('LOCK_BUSY', `could not take the lock ${file} (it keeps changing hands)`, { hint: 'Another run is starting at the same time; try again.' });
}
