import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configureLogging, createLogger, logsAt, useLogger } from '../../src/core/index.js';

afterEach(() => {
  configureLogging({});
  useLogger(undefined);
});

describe('logsAt', () => {
  it('answers from the configured level without creating the logger (no pino start-up on hot paths)', () => {
    useLogger(undefined);
    configureLogging({ level: 'warn' });
    expect(logsAt('debug')).toBe(false);
    expect(logsAt('info')).toBe(false);
    configureLogging({ level: 'debug' });
    expect([logsAt('trace'), logsAt('debug'), logsAt('info')]).toEqual([false, true, true]);
    configureLogging({ level: 'silent' });
    expect(logsAt('info')).toBe(false);
    // Still no process logger: the checks above created none.
    expect(useLogger(undefined)).toBeUndefined();
  });

  it('follows the level of a logger put in place', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lake-logsat-'));
    try {
      useLogger(createLogger({ level: 'info', destination: path.join(dir, 'log.jsonl') }));
      expect([logsAt('debug'), logsAt('info')]).toEqual([false, true]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
