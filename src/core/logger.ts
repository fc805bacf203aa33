import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The process logger. Structured, constant messages, data in fields. Writes to stderr so that
 * command output on stdout stays machine-readable. Level from LAKE_LOG_LEVEL (default `warn`).
 */
export function createLogger(options: { level?: string; destination?: string } = {}): Logger {
  const level = options.level ?? process.env['LAKE_LOG_LEVEL'] ?? 'warn';
  const destination = options.destination === undefined ? pino.destination(2) : pino.destination({ dest: options.destination, mkdir: true, sync: true });
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

let current: Logger | undefined;

export function logger(): Logger {
  current ??= createLogger();
  return current;
}

export function setLogger(next: Logger): void {
  current = next;
}
