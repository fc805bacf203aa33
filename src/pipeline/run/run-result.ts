import { rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { EXIT, systemClock, type Clock } from '../../core/index.js';
import { newRunId } from './run-log.js';
import type { RunError } from './run-error.js';
import { localStateDir } from '../../storage/index.js';

/** The start of a run: its clock (systemClock unless injected), start time and id. */
export interface RunStart {
  clock: Clock;
  startedAt: number;
  runId: string;
}

export function startRun(options: { clock?: Clock | undefined; runId?: string | undefined }): RunStart {
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();
  return { clock, startedAt, runId: options.runId ?? newRunId(startedAt) };
}

/** What every `<Run>RunResult` holds besides its items. `exitCode` is the first failed item's (0 when none failed). */
export interface RunSummary {
  runId: string;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  commits: number;
  failures: number;
  exitCode: number;
}

/** An item of a run: `failed` ones carry their error. */
export interface RunItem {
  status: string;
  error?: RunError;
}

/** `<lake root>/.staging/<verb>-<runId>`: the run's scratch files, removed by finishRun. */
export function stagingRoot(lakeRoot: string, verb: string, runId: string): string {
  // A lake on S3 stages in its local folder (docs/s3.md "What stays local").
  return path.join(localStateDir(lakeRoot) ?? lakeRoot, '.staging', `${verb}-${runId}`);
}

/**
 * Ends a run: removes its staging folder (and `.staging` itself when no other run stages) and
 * sums up its items. `commits` defaults to the number of items with status `committed`.
 */
export async function finishRun(run: RunStart & { dryRun: boolean; staging?: string }, items: readonly RunItem[], commits = items.filter((i) => i.status === 'committed').length): Promise<RunSummary> {
  if (run.staging !== undefined) {
    await rm(run.staging, { recursive: true, force: true });
    await rmdir(path.dirname(run.staging)).catch(() => undefined); // only when empty
  }
  const failed = items.filter((i) => i.status === 'failed');
  return {
    runId: run.runId,
    dryRun: run.dryRun,
    startedAt: new Date(run.startedAt).toISOString(),
    finishedAt: new Date(run.clock.now()).toISOString(),
    commits,
    failures: failed.length,
    exitCode: failed.length === 0 ? EXIT.ok : (failed[0]!.error?.exitCode ?? EXIT.unexpected),
  };
}
