export { acquireLock, describeHolder, lakeLockFile } from './lock.js';
export type { HeldLock, LockHolder, LockWait } from './lock.js';
export { createRunLogger, newRunId } from './run-log.js';
export { toRunError } from './run-error.js';
export type { RunError } from './run-error.js';
export { selectDatasets } from './dataset-selection.js';
export { displayPath } from './display-path.js';
export { finishRun, stagingRoot, startRun } from './run-result.js';
export type { RunItem, RunStart, RunSummary } from './run-result.js';
