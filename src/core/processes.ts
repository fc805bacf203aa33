import { errnoCode } from './errors.js';

/**
 * Whether a process with this pid runs on this host (signal 0 probes without signalling; EPERM
 * means it runs under another user). Used to tell a crashed process's leftovers — a lake lock, a
 * DuckDB spill folder — from a live one's.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}
