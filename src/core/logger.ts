/**
 * The process logger: pino, constant messages, data in fields. Writes to stderr so that command
 * output on stdout stays machine-readable. The level is `warn` until the entry point (the CLI,
 * from `--log-level` or LAKE_LOG_LEVEL) calls `configureLogging`; nothing below it reads the
 * environment.
 */
import { createRequire } from 'node:module';
import type * as Pino from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/** pino, loaded on the first logger: a command that logs nothing (`lake --help`) does not pay for it. */
function pinoModule(): typeof Pino {
  return createRequire(import.meta.url)('pino') as typeof Pino;
}

export interface LoggingOptions {
  /** pino level: trace, debug, info, warn, error, fatal or silent. */
  level?: string;
}

const DEFAULT_LEVEL = 'warn';
let configuredLevel = DEFAULT_LEVEL;
let current: Logger | undefined;

/** Sets the level of the process logger and of loggers created later without one. */
export function configureLogging(options: LoggingOptions): void {
  configuredLevel = options.level ?? DEFAULT_LEVEL;
  if (current) current.level = configuredLevel;
}

/** A logger to stderr, or to `destination` (a file, created with its folder). Level default: `configureLogging`'s. */
export function createLogger(options: { level?: string; destination?: string } = {}): Logger {
  const level = options.level ?? configuredLevel;
  const { pino } = pinoModule();
  const destination = options.destination === undefined ? pino.destination(2) : pino.destination({ dest: options.destination, mkdir: true, sync: true });
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

export function logger(): Logger {
  current ??= createLogger();
  return current;
}

/** pino's level numbers, for `logsAt` before pino is loaded. */
const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/**
 * Whether the process logger would write `level`, without loading pino when no logger exists yet:
 * hot paths that log at debug (every query's file counts) check it first, so a process that logs
 * nothing never pays for pino's start-up.
 */
export function logsAt(level: 'trace' | 'debug' | 'info'): boolean {
  if (current) return current.isLevelEnabled(level);
  return (LEVELS[configuredLevel] ?? Number.POSITIVE_INFINITY) <= LEVELS[level]!;
}

/**
 * Replaces the process logger (undefined: back to the default, created on next use) and returns
 * the one it replaced. Tests that cause an expected warning capture it this way and assert on it.
 */
export function useLogger(next: Logger | undefined): Logger | undefined {
  const previous = current;
  current = next;
  return previous;
}
