import { Writable } from 'node:stream';
import { pino } from 'pino';
import { useLogger } from '../../src/core/index.js';

/** One log record as pino writes it (level 40 = warn). */
export interface LogRecord {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/**
 * Runs `fn` with the process logger writing into memory instead of stderr, so a test that causes
 * an expected warning keeps it out of the test output and can assert on it.
 */
export async function captureLogs<T>(fn: () => Promise<T>): Promise<{ result: T; records: LogRecord[] }> {
  const records: LogRecord[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') records.push(JSON.parse(line) as LogRecord);
      done();
    },
  });
  const previous = useLogger(pino({ level: 'trace', base: undefined }, sink));
  try {
    return { result: await fn(), records };
  } finally {
    useLogger(previous);
  }
}
