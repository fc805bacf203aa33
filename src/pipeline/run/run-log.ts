import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createLogger, type Logger } from '../../core/index.js';

/** `20261125T200612Z-3fa9c1`: sortable by start time, unique per run. */
export function newRunId(now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/** The run's structured log: JSON lines in `<logsDir>/<runId>.jsonl`, every line carrying run_id. */
export function createRunLogger(logsDir: string, runId: string, level = 'info'): { logger: Logger; file: string } {
  const file = path.join(logsDir, `${runId}.jsonl`);
  return { logger: createLogger({ level, destination: file }).child({ run_id: runId }), file };
}
