export { EXIT, ERROR_CODES, LakeError, isLakeError, errnoCode } from './errors.js';
export type { ErrorCode, ExitCode, LakeErrorOptions } from './errors.js';
export { systemClock } from './clock.js';
export type { Clock } from './clock.js';
export { createLogger, logger, setLogger } from './logger.js';
export type { Logger } from './logger.js';
export { PIPELINE_VERSION, ENGINE_INFO } from './version.js';
