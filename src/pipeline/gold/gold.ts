import { faultPoint, systemClock, type Clock } from '../../core/index.js';
import { openLake, type Lake } from '../../table/index.js';
import { DEFAULT_SILVER_SQL_DIR, type SilverColumn } from '../silver/index.js';
import { ProgressReporter, finishRun, logSink, stagingRoot, startRun, type RunSummary } from '../run/index.js';
import { buildMart, type MartOutcome } from './build.js';
import { DEFAULT_GOLD_SQL_DIR, loadGoldMacros, loadMarts, selectMarts, type MartRule } from './mart-rule.js';
import { sourceColumns, type BuildGoldOptions, type GoldContext } from './plan.js';

/**
 * `lake build-gold`: silver → gold marts (mart-rule.ts), built in dependency order, each
 * planned (plan.ts) and staged, checked and committed (build.ts) on its own; a mart whose gold
 * source failed is skipped, the others go on. Never prints: returns a typed result; progress (per
 * mart: its step, rows and bytes staged, seasons) goes to the logger and `options.progress`.
 */
export interface GoldRunResult extends RunSummary {
  marts: MartOutcome[];
}

function openContext(options: BuildGoldOptions, lake: Lake, runId: string, clock: Clock, progress: ProgressReporter): GoldContext {
  return { options, lake, runId, clock, stagingRoot: stagingRoot(lake.root, 'gold', runId), planned: new Map(), described: new Map(), progress };
}

function progressOf(options: BuildGoldOptions, clock: Clock, marts: number, sinks: boolean): ProgressReporter {
  const kinds = { taskKind: 'mart', itemKind: 'build' };
  return new ProgressReporter({ clock, run: 'lake build-gold', ...kinds, tasks: marts, sinks: sinks ? [logSink(options.logger, kinds), options.progress] : [] });
}

/** Builds the selected marts in dependency order; a mart whose gold source failed is skipped. */
export async function buildGold(options: BuildGoldOptions): Promise<GoldRunResult> {
  const run = startRun(options);
  const sqlDir = options.sqlDir ?? DEFAULT_GOLD_SQL_DIR;
  const rules = selectMarts(loadMarts(sqlDir, options.silverSqlDir), options.marts, sqlDir);
  const lake = options.lake ?? (await openLake({ root: options.root ?? options.catalog.lake.root, footerCache: false }));
  const progress = progressOf(options, run.clock, rules.length, true);
  const ctx = openContext(options, lake, run.runId, run.clock, progress);
  try {
    await loadGoldMacros(lake, sqlDir, options.silverSqlDir ?? DEFAULT_SILVER_SQL_DIR);
    const marts: MartOutcome[] = [];
    for (const rule of rules) {
      const failed = rule.sources.filter((s) => marts.some((m) => m.table === s && (m.status === 'failed' || m.status === 'skipped')));
      const outcome = await buildMart(ctx, rule, failed);
      options.logger?.info({ run_id: run.runId, mart: rule.mart, status: outcome.status, mode: outcome.mode, seasons: outcome.seasons, version: outcome.version, rows: outcome.rows, ms: outcome.ms, code: outcome.error?.code }, 'mart finished');
      marts.push(outcome);
      if (outcome.status === 'committed') faultPoint('gold.between-tables');
    }
    const result = await finishRun({ ...run, dryRun: options.dryRun === true, staging: ctx.stagingRoot }, marts);
    progress.finish(result.failures > 0 ? 'failed' : 'ok');
    return { ...result, marts };
  } finally {
    progress.finish('failed');
    if (!options.lake) lake.close();
  }
}

export interface MartDescription extends MartRule {
  /** Output columns with their DuckDB types, in order. */
  types: SilverColumn[];
}

/** Every mart with its output column types (from its SQL over empty sources; no data read). */
export async function describeMarts(options: Pick<BuildGoldOptions, 'catalog' | 'sqlDir' | 'silverSqlDir' | 'lake' | 'root' | 'cwd'>): Promise<MartDescription[]> {
  const lake = options.lake ?? (await openLake({ root: options.root ?? options.catalog.lake.root, footerCache: false }));
  const ctx = openContext(options, lake, 'describe', systemClock, progressOf(options, systemClock, 0, false));
  try {
    await loadGoldMacros(lake, options.sqlDir ?? DEFAULT_GOLD_SQL_DIR, options.silverSqlDir ?? DEFAULT_SILVER_SQL_DIR);
    const out: MartDescription[] = [];
    for (const rule of loadMarts(options.sqlDir ?? DEFAULT_GOLD_SQL_DIR, options.silverSqlDir)) out.push({ ...rule, types: (await sourceColumns(ctx, rule.table)) ?? [] });
    return out;
  } finally {
    if (!options.lake) lake.close();
  }
}
