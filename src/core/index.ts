/**
 * core: what every room shares and nothing else: the error base with its stable codes and exit
 * codes, the injected clock, the logger and the version. Uses no other room; reads no environment.
 */
export { EXIT, ERROR_CODES, LakeError, isLakeError, errnoCode, asDiskFull } from './errors.js';
export { FAULT_POINTS, configureFaults, faultPoint } from './faults.js';
export type { FaultAction, FaultPointName } from './faults.js';
export type { ErrorCode, ExitCode, LakeErrorOptions } from './errors.js';
export { processAlive } from './processes.js';
export { systemClock } from './clock.js';
export type { Clock } from './clock.js';
export { configureLogging, createLogger, logger, logsAt, useLogger } from './logger.js';
export type { Logger, LoggingOptions } from './logger.js';
export { PIPELINE_VERSION, ENGINE_INFO } from './version.js';
