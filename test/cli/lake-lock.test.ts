import { cpSync, existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listLog } from '../../src/delta/index.js';
import { lakeLockFile } from '../../src/pipeline/index.js';
import { describeChild, requireBuild, runCliProcess, startNode, CLI_MAIN, type ChildHandle, type ChildResult } from '../helpers/child.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { startUpstreamServer, type UpstreamServer } from '../helpers/upstream-server.js';

/**
 * The lake lock between real `lake` processes (src/cli/lake-session.ts): a promote that holds it
 * (slowed at the `lock.taken` fault point, LAKE_FAULTPOINT=lock.taken=sleep(ms)) makes a second
 * promote fail at once with LOCK_BUSY naming the holder, and a third with --wait wait and then
 * succeed; a command whose lake fails to open right after taking the lock releases it.
 */
const dirs = tempDirs('lake-lock');
let server: UpstreamServer;
let template: string;
const DATASETS = 'schedules,teams';
const HOLD_MS = 8000;

function env(dir: string, fault?: string): Record<string, string | undefined> {
  return { LAKE_ROOT: path.join(dir, 'tables'), LAKE_RAW_DIR: path.join(dir, 'raw'), LAKE_LOGS_DIR: path.join(dir, 'logs'), LAKE_CATALOG: 'catalog/datasets.yml', LAKE_FAULTPOINT: fault, ...server.env() };
}

async function copyOfTemplate(): Promise<string> {
  const dir = await dirs.make('lake');
  cpSync(template, dir, { recursive: true });
  return dir;
}

async function untilExists(file: string, child: ChildHandle, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (child.exited) throw new Error(`the holder exited before taking the lock:\n${describeChild(await child.done)}`);
    if (Date.now() > deadline) throw new Error(`${file} not created within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function commits(dir: string, table: string): Promise<number[]> {
  return [...(await listLog(path.join(dir, 'tables', table))).commits.keys()].sort((a, b) => a - b);
}

beforeAll(async () => {
  requireBuild();
  server = await startUpstreamServer();
  template = await dirs.make('template');
  const r = await runCliProcess(['update', '--datasets', DATASETS, '--season', '2020'], { env: env(template) });
  expect(r.code, describeChild(r)).toBe(0);
}, 120_000);
afterAll(async () => {
  await server?.close();
  await dirs.cleanup();
});

describe('two `lake promote` processes and the lake lock', () => {
  it('while one holds the lock: the second exits 4 LOCK_BUSY naming the holder; with --wait it waits, then finds nothing left to do', async () => {
    const dir = await copyOfTemplate();
    const lockFile = lakeLockFile(path.join(dir, 'tables'));
    const holder = startNode(CLI_MAIN, ['promote', '--datasets', DATASETS], { id: 'holder', env: env(dir, `lock.taken=sleep(${HOLD_MS})`) });
    await untilExists(lockFile, holder);
    const held = JSON.parse(readFileSync(lockFile, 'utf8')) as { pid: number; command: string; startedAt: string; runId: string };
    expect(held).toMatchObject({ pid: holder.process.pid, command: 'lake promote', hostname: hostname() });

    const [busy, waiter] = [
      startNode(CLI_MAIN, ['promote', '--datasets', DATASETS], { id: 'busy', env: env(dir) }),
      startNode(CLI_MAIN, ['promote', '--datasets', DATASETS, '--wait', '120'], { id: 'waiter', env: env(dir) }),
    ];
    const busyResult: ChildResult = await busy.done;
    expect(holder.exited, 'the holder must still hold the lock when the second promote gives up').toBe(false);
    expect(busyResult.code, describeChild(busyResult)).toBe(4);
    const escapedLock = lockFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(busyResult.stderr).toMatch(
      new RegExp(`^error \\[LOCK_BUSY\\]: another run holds the lock ${escapedLock}: run ${held.runId} \\(lake promote\\), pid ${held.pid} on \\S+, started ${held.startedAt.replace(/\./g, '\\.')}\\n`),
    );
    expect(busyResult.stderr).toMatch(/\nhint: Wait for that run to finish \(or pass --wait <seconds>\)/);

    const [holderResult, waiterResult] = await Promise.all([holder.done, waiter.done]);
    expect(holderResult.code, describeChild(holderResult)).toBe(0);
    expect(holderResult.stdout).toMatch(/2 commits, 0 failures/);
    expect(waiterResult.code, describeChild(waiterResult)).toBe(0);
    expect(waiterResult.stderr).toMatch(new RegExp(`waiting for the lake lock \\(\\d+ of 120 s\\): held by run ${held.runId} \\(lake promote\\), pid ${held.pid}`));
    expect(waiterResult.stdout).toMatch(/0 commits, 0 failures/);
    // One rebuild committed, by the holder only; the lock is gone.
    expect(await commits(dir, 'silver/schedules')).toEqual([0]);
    expect(await commits(dir, 'silver/teams')).toEqual([0]);
    expect(existsSync(lockFile)).toBe(false);
  }, 180_000);
});

describe('--wait <seconds>', () => {
  it.each(['abc', '-1', ''])("refuses '%s' as a usage error (exit 2), not a crash", async (value) => {
    const r = await runCliProcess(['vacuum', '--wait', value], { env: env(await dirs.make('wait')) });
    expect(r.code, describeChild(r)).toBe(2);
    expect(r.stderr).toMatch(/option '--wait <seconds>' argument '.*' is invalid\. give a number of seconds/);
    expect(r.stderr).not.toMatch(/unexpected error/);
  });
});

describe('the lock is released when the lake fails to open after it was taken', () => {
  it.each([
    ['promote', ['promote', '--datasets', DATASETS]],
    ['build-gold', ['build-gold', '--marts', 'dim_team']],
    ['vacuum', ['vacuum', '--retain-hours', '0', '--force']],
  ])('lake %s: the error is reported and no lock file is left', async (_name, args) => {
    const dir = await copyOfTemplate();
    const failed = await runCliProcess(args, { env: env(dir, 'lock.taken=error') });
    expect(failed.code, describeChild(failed)).toBe(1);
    expect(failed.stderr).toMatch(/fault point lock\.taken/);
    expect(existsSync(lakeLockFile(path.join(dir, 'tables')))).toBe(false);
    // And the next run takes the lock at once (no stale-lock takeover needed).
    const next = await runCliProcess([...args, '--json'], { env: env(dir) });
    expect(next.code, describeChild(next)).toBe(0);
  });
});
