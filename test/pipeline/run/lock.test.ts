import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock } from '../../../src/pipeline/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const holder = (runId: string) => ({ runId, command: 'lake update', startedAt: '2026-11-25T12:00:00.000Z' });

describe('ingest lock', () => {
  it('is exclusive, names its holder, and is released', async () => {
    const file = path.join(dir, 'a/ingest.lock');
    const lock = await acquireLock(file, holder('run-1'));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, hostname: hostname(), runId: 'run-1' });
    await expect(acquireLock(file, holder('run-2'))).rejects.toMatchObject({
      code: 'LOCK_BUSY',
      exitCode: 4,
      message: expect.stringMatching(/holds the lock .*ingest\.lock: run run-1 \(lake update\), pid \d+ on .*, started 2026-11-25T12:00:00.000Z/),
    });
    await lock.release();
    const again = await acquireLock(file, holder('run-3'));
    await again.release();
  });

  it('takes over a lock left by a process that no longer runs on this host', async () => {
    const file = path.join(dir, 'b/ingest.lock');
    const first = await acquireLock(file, holder('run-1'));
    const stale = { ...JSON.parse(readFileSync(file, 'utf8')), pid: 2 ** 22 + 12345 };
    writeFileSync(file, JSON.stringify(stale));
    const lock = await acquireLock(file, holder('run-2'));
    expect(lock.holder.runId).toBe('run-2');
    await lock.release();
    await first.release();
  });
});
