export { acquireLock, describeHolder } from './lock.js';
export type { HeldLock, LockHolder } from './lock.js';
export { createRunLogger, newRunId } from './run-log.js';
