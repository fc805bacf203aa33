import path from 'node:path';
import { Option, type Command } from './commander.js';
import { LakeError } from '../core/index.js';
import { DEFAULT_CATALOG_FILE, ENV,  parseYears, type SeasonRequest, type Catalog, type ResolvedSettings, runIngest, type DatasetOutcome, type IngestCommand, type IngestRunResult } from '../pipeline/index.js';
import { openLake, refreshDuckdbViews, type Lake } from '../table/index.js';
import { handOffIngest, loadSettings, lockLake, waitOption } from './lake-session.js';
import { formatBytes, progressDisplay, progressOption, stderrTerminal, type ProgressMode } from './progress.js';

/** `lake bootstrap | update | recache-pbp`: render runs of src/pipeline/bronze/ingest-run.ts. */
export interface IngestIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether `err` is a terminal (progress is then a live display; see progress.ts). */
  isTTY?: boolean;
}

interface CommonOptions {
  datasets?: string;
  maxWorkers?: number;
  dryRun?: boolean;
  force?: boolean;
  /** `--force-rewrite`: the seed's name for `--force`. */
  forceRewrite?: boolean;
  since?: Date;
  json?: boolean;
  catalog?: string;
  wait?: number;
  progress?: ProgressMode;
}

function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new LakeError('USAGE', `${flag} must be a positive integer, got '${value}'`);
    return n;
  };
}

function yearRange(flag: string, allowOpen: boolean) {
  return (value: string): SeasonRequest => {
    const span = parseYears(value);
    if (!span || span.kind === 'all' || (span.to === undefined && !allowOpen)) {
      throw new LakeError('USAGE', `${flag} must be a season or a range like 1999-2024, got '${value}'`);
    }
    return { from: span.from, to: span.to ?? span.from };
  };
}

/** `--since YYYY-MM-DD`: midnight UTC of that day; a date that does not exist is USAGE. */
export function sinceDate(value: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  const date = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  if (!m || !date || date.getUTCMonth() !== Number(m[2]) - 1 || date.getUTCDate() !== Number(m[3])) {
    throw new LakeError('USAGE', `--since must be a date YYYY-MM-DD, got '${value}'`, { hint: 'Example: --since 2025-09-01 (midnight UTC of that day).' });
  }
  return date;
}

function withCommon(command: Command): Command {
  return command
    .option('--datasets <names>', 'comma-separated datasets (default: every enabled dataset in the catalog)')
    .option('--max-workers <n>', 'datasets processed in parallel (default: lake.max_workers or LAKE_MAX_WORKERS)', positiveInt('--max-workers'))
    .option('--dry-run', 'print the plan (files that would be fetched, tables that would be written) and stop')
    .option('--force', 'download every file in full and append it again even when unchanged')
    .option('--force-rewrite', 'the same as --force (the name the project seed uses)')
    .option('--since <date>', 'only upstream files changed on or after this day (YYYY-MM-DD, UTC), by their Last-Modified; older files are skipped with a notice', sinceDate)
    .option('--json', 'machine-readable output')
    .addOption(new Option('--catalog <file>', 'the catalog').env(ENV.catalog).default(DEFAULT_CATALOG_FILE))
    .addOption(waitOption())
    .addOption(progressOption());
}

function datasetLine(d: DatasetOutcome): string[] {
  const name = d.table.padEnd(28);
  if (d.status === 'failed') {
    return [`  ${name} FAILED [${d.error!.code}] ${d.error!.message}`, ...(d.error!.hint ? [`  ${' '.repeat(28)} hint: ${d.error!.hint}`] : [])];
  }
  const versions = d.assets.filter((a) => a.status === 'committed').map((a) => a.version);
  const unchanged = d.assets.filter((a) => a.status === 'unchanged').length;
  const parts: string[] = [];
  if (d.commits > 0) parts.push(`committed v${versions.join(', v')}: +${d.rows.toLocaleString('en-US')} row${d.rows === 1 ? '' : 's'} from ${d.commits} file${d.commits === 1 ? '' : 's'} (${formatBytes(d.bytes)})`);
  if (unchanged > 0) parts.push(`${unchanged} unchanged`);
  if (d.assets.length === 0 && d.notices.length === 0) parts.push('no files for these seasons');
  const lines = [`  ${name} ${parts.join('; ') || 'nothing committed'} · ${(d.ms / 1000).toFixed(1)} s`];
  for (const notice of d.notices) lines.push(`  ${' '.repeat(28)} notice: ${notice}`);
  return lines;
}

function renderResult(result: IngestRunResult): string {
  const lines: string[] = [];
  if (result.dryRun) {
    lines.push(`plan for lake ${result.command} (dry run: nothing is fetched or written)`);
    for (const d of result.datasets) {
      lines.push(`  ${d.table} ← ${d.assets.length} file${d.assets.length === 1 ? '' : 's'}`);
      for (const a of d.assets) lines.push(`    GET ${a.url}${a.conditional ? ' (conditional: known ETag/Last-Modified)' : ''}`);
      for (const n of d.notices) lines.push(`    notice: ${n}`);
    }
    return `${lines.join('\n')}\n`;
  }
  lines.push(`run ${result.runId} (lake ${result.command})`);
  for (const d of result.datasets) lines.push(...datasetLine(d));
  lines.push(`${result.commits} commit${result.commits === 1 ? '' : 's'}, ${result.failures} failure${result.failures === 1 ? '' : 's'} · log ${result.logFile ? path.relative(process.cwd(), result.logFile) : '-'}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Runs the ingest under the lake lock. A real run opens one lake for the ingest and the views
 * refresh; with `--build-gold` (gold-commands.ts) a successful run hands that lake and the loaded
 * settings to the follow-up on `cmd` instead of closing it.
 */
async function execute(io: IngestIo, command: IngestCommand, opts: CommonOptions & { buildGold?: boolean }, seasons: SeasonRequest | undefined, datasets: string[] | undefined, unconditional: boolean, cmd: Command): Promise<void> {
  const { catalog, settings } = loadSettings(opts.catalog ?? DEFAULT_CATALOG_FILE);
  const unlock = await lockLake(settings.root, command, opts, io.err);
  let lake: Lake | undefined;
  try {
    if (!opts.dryRun) lake = await openLake({ root: settings.root, create: true, footerCache: false });
    await ingest(io, command, opts, { catalog, settings, seasons, datasets, unconditional, lake });
    if (lake && opts.buildGold === true) {
      handOffIngest(cmd, { catalog, settings, lake });
      lake = undefined;
    }
  } finally {
    lake?.close();
    await unlock();
  }
}

async function ingest(io: IngestIo, command: IngestCommand, opts: CommonOptions, run: { catalog: Catalog; settings: ResolvedSettings; seasons: SeasonRequest | undefined; datasets: string[] | undefined; unconditional: boolean; lake: Lake | undefined }): Promise<void> {
  const { catalog, settings, seasons, datasets, unconditional, lake } = run;
  const display = opts.dryRun ? undefined : progressDisplay(opts.progress, stderrTerminal({ isTTY: io.isTTY, write: io.err }), opts.json === true);
  const result = await runIngest({
    catalog,
    settings,
    command,
    datasets: datasets ?? opts.datasets?.split(',').map((d) => d.trim()).filter(Boolean),
    seasons,
    maxWorkers: opts.maxWorkers,
    dryRun: opts.dryRun === true,
    force: opts.force === true || opts.forceRewrite === true,
    ...(opts.since ? { since: opts.since } : {}),
    unconditional,
    progress: display,
    ...(lake ? { lake } : {}),
  }).finally(() => display?.stop());
  io.out(opts.json ? `${JSON.stringify(result, null, 2)}\n` : renderResult(result));
  // Keep tables/lake.duckdb (when the user created it with `lake duckdb`) at the latest versions.
  if (lake && result.datasets.some((d) => d.commits > 0)) await refreshDuckdbViews(lake);
  if (result.failures > 0) {
    const failed = result.datasets.filter((d) => d.status === 'failed');
    const first = failed[0]!.error!;
    throw new LakeError(first.code, `${failed.length} of ${result.datasets.length} datasets failed: ${failed.map((d) => `${d.dataset} [${d.error!.code}]`).join(', ')} (run ${result.runId}; the other datasets are unaffected)`, {
      hint: `${first.hint ?? ''}${result.logFile ? ` Details: ${path.relative(process.cwd(), result.logFile)}` : ''}`.trim(),
    });
  }
}

export function registerIngestCommands(program: Command, io: IngestIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), isTTY: process.stderr.isTTY }): void {
  const tty = io.isTTY ?? process.stderr.isTTY === true;
  const ttyIo: IngestIo = { ...io, isTTY: tty };

  withCommon(
    program
      .command('bootstrap')
      .description('historical backfill of the nflverse datasets into bronze (idempotent: unchanged files commit nothing)')
      .requiredOption('--years <range>', 'seasons to load, e.g. 1999-2024 (single-file datasets are loaded whole when they overlap)', yearRange('--years', false)),
  ).action(async (opts: CommonOptions & { years: SeasonRequest }, cmd: Command) => {
    await execute(ttyIo, 'bootstrap', opts, opts.years, undefined, false, cmd);
  });

  withCommon(
    program
      .command('update')
      .description('in-season refresh into bronze: conditional requests, commits only changed files; a season not published yet is a notice')
      .option('--season <year>', 'season to refresh (default: the current season of each dataset)', yearRange('--season', false)),
  ).action(async (opts: CommonOptions & { season?: SeasonRequest }, cmd: Command) => {
    await execute(ttyIo, 'update', opts, opts.season, undefined, false, cmd);
  });

  program
    .command('recache-pbp')
    .description("re-download the season's play-by-play in full (stat corrections) and append it when the bytes changed")
    .option('--season <year>', 'season (default: the current season)', yearRange('--season', false))
    .option('--max-workers <n>', 'parallel workers', positiveInt('--max-workers'))
    .option('--dry-run', 'print the plan and stop')
    .option('--force', 'append the file again even when unchanged')
    .option('--force-rewrite', 'the same as --force (the name the project seed uses)')
    .option('--json', 'machine-readable output')
    .addOption(new Option('--catalog <file>', 'the catalog').env(ENV.catalog).default(DEFAULT_CATALOG_FILE))
    .addOption(progressOption())
    .action(async (opts: CommonOptions & { season?: SeasonRequest }, cmd: Command) => {
      await execute(ttyIo, 'recache-pbp', opts, opts.season, ['pbp'], true, cmd);
    });
}
