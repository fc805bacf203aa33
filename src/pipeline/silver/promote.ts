import { faultPoint } from '../../core/index.js';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { onLakeWorkers, openLake, type TableWrite } from '../../table/index.js';
import { ProgressReporter, finishRun, logSink, selectDatasets, stagingRoot, startRun, toRunError, type RunSummary } from '../run/index.js';
import type { Catalog, DatasetDef } from '../catalog/index.js';
import { checkContext, gateFailure } from './promote-check.js';
import { beginPromoteWrite, commitPromote } from './promote-commit.js';
import { emptyOutcome, planPromote, type DatasetPromoteOutcome, type PromoteContext, type PromoteOptions } from './promote-plan.js';
import { writeReport } from './promote-report.js';
import { stagePromote } from './promote-stage.js';
import { DEFAULT_SILVER_SQL_DIR, silverTable } from './silver-rule.js';

/**
 * `lake promote`: bronze → silver, per dataset one Delta commit that replaces exactly the
 * partitions whose bronze rows changed since the bronze version the last promote read (recorded
 * in silver's commitInfo). Each dataset is planned (promote-plan.ts), staged and measured
 * (promote-stage.ts), gated (promote-check.ts) and committed (promote-commit.ts); a failing gate
 * stops that table's commit and the other datasets go on. Every run writes a quality report per
 * dataset (promote-report.ts). Never prints: returns a typed result; progress (per dataset and per
 * staged group of partitions: rows, bytes staged) goes to the logger and `options.progress`.
 */
export interface PromoteRunResult extends RunSummary {
  datasets: DatasetPromoteOutcome[];
}

async function promoteDataset(ctx: PromoteContext, def: DatasetDef): Promise<DatasetPromoteOutcome> {
  const started = ctx.clock.now();
  const outcome = emptyOutcome(def, silverTable(ctx.lake, def.name));
  const staging = path.join(ctx.stagingRoot, def.name);
  const task = ctx.progress.task(def.name, { unit: 'partition' });
  let write: TableWrite | undefined;
  try {
    task.step('plan');
    const plan = await planPromote(ctx, def, outcome);
    if (!plan) return outcome;
    task.total(plan.work.size);
    const checkCtx = await checkContext(ctx, plan);
    // A dry run writes nothing into the table: every group goes through staging.
    write = ctx.options.dryRun ? undefined : await beginPromoteWrite(ctx, plan);
    const staged = await stagePromote(ctx, plan, checkCtx, staging, outcome, task, write);
    const gate = gateFailure(ctx, plan, checkCtx, outcome);
    const failure = ctx.options.validate === false ? undefined : gate;
    if (gate && !failure) ctx.options.logger?.warn({ run_id: ctx.runId, dataset: def.name, validate: false, failed_checks: outcome.checks.filter((c) => c.status === 'fail').map((c) => c.check), would_fail: gate.message }, 'quality gate failed but not enforced (--no-validate)');
    if (failure) {
      outcome.status = 'failed';
      outcome.error = failure;
    } else if (ctx.options.dryRun) {
      outcome.status = 'planned';
    } else {
      const commit = task.item('commit', { step: 'commit' });
      outcome.version = await commitPromote(ctx, plan, write!, staged, outcome, started);
      write = undefined;
      commit.finish({ status: `committed v${outcome.version}`, units: 0 });
      outcome.status = 'committed';
      faultPoint('promote.between-tables');
    }
    return outcome;
  } catch (error) {
    outcome.status = 'failed';
    outcome.error = toRunError(error);
    return outcome;
  } finally {
    // Files written for a commit that did not happen (a failed gate, an error) are removed.
    await write?.discard();
    await rm(staging, { recursive: true, force: true });
    outcome.ms = ctx.clock.now() - started;
    if (!ctx.options.dryRun && outcome.status !== 'skipped') outcome.report = await writeReport(ctx, def, outcome, started);
    task.finish(outcome.status);
  }
}

/** Staging folders older than this are left-overs of killed runs, removed by the next promote. */
export const STALE_STAGING_MS = 24 * 3_600_000;

/**
 * Removes the `promote-*` folders beside `own` (just created) older than STALE_STAGING_MS. Age is
 * file-system time (mtimes, measured against `own`'s), not the run's Clock.
 */
async function removeStaleStaging(own: string): Promise<void> {
  await mkdir(own, { recursive: true });
  const now = (await stat(own)).mtimeMs;
  const root = path.dirname(own);
  const entries = await readdir(root).catch(() => [] as string[]);
  for (const name of entries.filter((n) => n.startsWith('promote-'))) {
    const folder = path.join(root, name);
    const info = await stat(folder).catch(() => undefined);
    if (info && now - info.mtimeMs > STALE_STAGING_MS) await rm(folder, { recursive: true, force: true });
  }
}

export function defaultReportDir(catalog: Catalog): string {
  return path.join(path.dirname(path.resolve(catalog.file)), 'quality');
}

export async function runPromote(options: PromoteOptions): Promise<PromoteRunResult> {
  const run = startRun(options);
  const defs = selectDatasets(options.catalog, options.datasets, (d) => d.silver?.enabled !== false);
  const lake = options.lake ?? (await openLake({ root: options.root ?? options.catalog.lake.root, footerCache: false }));
  const progress = new ProgressReporter({
    clock: run.clock,
    run: 'lake promote',
    taskKind: 'dataset',
    itemKind: 'group',
    tasks: defs.length,
    sinks: [logSink(options.logger, { taskKind: 'dataset', itemKind: 'group' }), options.progress],
  });
  try {
    const ctx: PromoteContext = {
      options,
      lake,
      runId: run.runId,
      clock: run.clock,
      reportDir: options.reportDir ?? defaultReportDir(options.catalog),
      sqlDir: options.sqlDir ?? DEFAULT_SILVER_SQL_DIR,
      stagingRoot: stagingRoot(lake.root, 'promote', run.runId),
      progress,
    };
    await removeStaleStaging(ctx.stagingRoot);
    if (options.validate === false) options.logger?.warn({ run_id: run.runId, validate: false }, 'quality gates skipped (--no-validate): failing checks are reported but do not stop commits');
    // Each worker on its own connection: datasets promote side by side, not one statement at a time.
    const datasets = await onLakeWorkers(lake, options.maxWorkers ?? options.catalog.lake.maxWorkers, defs, (on, def, admit) => promoteDataset({ ...ctx, lake: on, admit }, def));
    for (const d of datasets) options.logger?.info({ run_id: run.runId, dataset: d.dataset, status: d.status, version: d.version, partitions: d.partitions.length, ms: d.ms, code: d.error?.code }, 'promote finished');
    const result = await finishRun({ ...run, dryRun: options.dryRun === true, staging: ctx.stagingRoot }, datasets);
    progress.finish(result.failures > 0 ? 'failed' : 'ok');
    return { ...result, datasets };
  } finally {
    progress.finish('failed');
    if (!options.lake) lake.close();
  }
}
