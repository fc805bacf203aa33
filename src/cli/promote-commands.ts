import path from 'node:path';
import { Option, type Command } from './commander.js';
import { rename, rm, writeFile } from 'node:fs/promises';
import { LakeError, errnoCode } from '../core/index.js';
import { DEFAULT_CATALOG_FILE, ENV, createRunLogger,  newRunId, partitionLabel, lakeLineage, profileLayer, runPromote, tableLineage, type LakeLineage, type DatasetPromoteOutcome, type ProfileRun, type PromoteRunResult, type TableLineage } from '../pipeline/index.js';
import { LAYERS, openLake, refreshDuckdbViews, resolveTable, type Layer } from '../table/index.js';
import { loadSettings, openLockedLake, waitOption, withLake } from './lake-session.js';
import { progressDisplay, progressOption, stderrTerminal, type ProgressMode } from './progress.js';
import { renderRows } from './render.js';

/** `lake promote | lineage | profile`: render src/pipeline/silver/promote.ts and src/pipeline/ops/{lineage,profile}.ts. */
export interface PromoteIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether `err` is a terminal (default: process.stderr's); see progress.ts. */
  isTTY?: boolean;
}

const defaultIo: PromoteIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new LakeError('USAGE', `${flag} must be a positive integer, got '${value}'`);
    return n;
  };
}

function list(value: string | undefined): string[] | undefined {
  const items = value?.split(',').map((d) => d.trim()).filter(Boolean);
  return items && items.length > 0 ? items : undefined;
}

function printJson(io: PromoteIo, value: unknown): void {
  io.out(`${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v), 2)}\n`);
}

function signed(n: number): string {
  return `${n >= 0 ? '+' : ''}${n.toLocaleString('en-US')}`;
}

function partitionLines(d: DatasetPromoteOutcome): string[] {
  return d.partitions.map((p) => {
    const before = p.rowsBefore ?? 0;
    return `      ${partitionLabel(p.partition).padEnd(28)} ${p.mode.padEnd(7)} rows ${before.toLocaleString('en-US')} → ${p.rowsAfter.toLocaleString('en-US')} (${signed(p.rowsAfter - before)}), newest batch ${p.rowsInBatch.toLocaleString('en-US')}`;
  });
}

function datasetLines(d: DatasetPromoteOutcome, dryRun: boolean): string[] {
  const name = d.table.padEnd(30);
  const read = d.bronzeFromVersion === null ? `bronze up to v${d.bronzeVersion}` : `bronze v${d.bronzeFromVersion} → v${d.bronzeVersion}`;
  const source = d.bronzeVersion === null ? '' : `${read}${d.mode === 'full' ? `, every partition: ${d.fullReason ?? 'full'}` : d.mode ? `, ${d.mode}` : ''}`;
  const lines: string[] = [];
  if (d.status === 'failed') {
    lines.push(`  ${name} FAILED [${d.error!.code}] ${d.error!.message}`);
    if (d.error!.hint) lines.push(`  ${' '.repeat(30)} hint: ${d.error!.hint}`);
  } else if (d.status === 'skipped') {
    lines.push(`  ${name} skipped: ${d.notices.join('; ')}`);
  } else if (d.status === 'unchanged') {
    lines.push(`  ${name} unchanged: no bronze commit since the last promote (bronze v${d.bronzeVersion})`);
  } else {
    const verb = dryRun ? 'would replace' : `committed v${d.version}:`;
    lines.push(`  ${name} ${verb} ${d.partitions.length} partition${d.partitions.length === 1 ? '' : 's'} (${source}) · ${(d.ms / 1000).toFixed(1)} s`);
  }
  if (d.status !== 'skipped' && d.status !== 'unchanged') lines.push(...partitionLines(d));
  for (const c of d.checks.filter((x) => x.status !== 'pass')) lines.push(`      ${c.status === 'fail' ? 'FAILED' : 'warning'} ${c.check}${c.column ? ` ${c.column}` : ''} ${partitionLabel(c.partition)}: ${c.message}`);
  const drift = d.drift?.upstream_added ?? [];
  if (drift.length > 0) lines.push(`      upstream columns not in silver (recorded in the commit): ${drift.join(', ')}`);
  return lines;
}

export function renderPromote(result: PromoteRunResult): string {
  const lines = [result.dryRun ? `plan for lake promote (dry run: nothing is written) · run ${result.runId}` : `run ${result.runId} (lake promote)`];
  for (const d of result.datasets) lines.push(...datasetLines(d, result.dryRun));
  const reports = result.datasets.map((d) => d.report).filter((r): r is string => r !== null);
  const where = reports.length > 0 ? ` · reports ${path.relative(process.cwd(), path.dirname(path.dirname(reports[0]!)))}/<dataset>/${result.runId}.json` : '';
  lines.push(`${result.commits} commit${result.commits === 1 ? '' : 's'}, ${result.failures} failure${result.failures === 1 ? '' : 's'}${where}`);
  return `${lines.join('\n')}\n`;
}

export function renderLineage(l: TableLineage): string {
  const out: string[] = [`${l.table} at version ${l.version}`, '', 'runs (newest first):'];
  out.push(
    renderRows(
      ['run_id', 'started_at', 'ended_at', 'versions', 'pipeline', 'upstream_version', 'status'],
      l.runs.map((r) => [r.run_id, r.started_at, r.ended_at, r.versions.join(','), r.pipeline_version, r.upstream_version, r.status]),
      'table',
    ).trimEnd(),
  );
  for (const d of l.datasets) {
    out.push('', `dataset ${d.dataset} (version ${d.version}, run ${d.run_id ?? '-'}): last ingest ${d.last_ingest_utc ?? '-'}, rows in the last batch ${d.rows_last_batch ?? '-'}`);
    if (d.bronze_version !== null) out.push(`  read bronze v${d.bronze_from_version ?? '-'} → v${d.bronze_version}`);
    out.push(`  changed partitions: ${d.changed_partitions.map(partitionLabel).join(', ') || '-'}`);
  }
  out.push('', 'partitions:');
  out.push(
    renderRows(
      ['partition', 'row_count', 'files', 'sha256_fingerprint', 'min_ingested_at', 'max_ingested_at', 'version', 'run_id'],
      l.partitions.map((p) => [partitionLabel(p.partition), p.row_count, p.files, p.sha256_fingerprint?.slice(0, 16) ?? null, p.min_ingested_at, p.max_ingested_at, p.version, p.run_id]),
      'table',
    ).trimEnd(),
  );
  return `${out.join('\n')}\n`;
}

export function renderProfile(run: ProfileRun): string {
  const out: string[] = [];
  for (const t of run.tables) {
    out.push(`${t.table} (version ${t.version}, ${t.columns.length} columns, key ${t.key.length > 0 ? t.key.join(', ') : 'none'})`);
    const rows = t.partitions.map((p) => {
      const nulls = Object.entries(p.nulls).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
      const top = nulls.slice(0, 3).map(([c, n]) => `${c} ${((n / p.rows) * 100).toFixed(0)}%`).join(', ');
      return [partitionLabel(p.partition), p.rows, p.distinct_keys, `${nulls.length}/${Object.keys(p.nulls).length}`, top];
    });
    out.push(renderRows(['partition', 'rows', 'distinct_keys', 'columns_with_nulls', 'most_nulls'], rows, 'table').trimEnd(), '');
  }
  if (run.missing.length > 0) out.push(`no ${run.layer} table yet for: ${run.missing.join(', ')}`);
  return `${out.join('\n')}\n`;
}

function catalogOption(): Option {
  return new Option('--catalog <file>', 'the catalog').env(ENV.catalog).default(DEFAULT_CATALOG_FILE);
}

interface PromoteCommandOptions {
  datasets?: string;
  maxWorkers?: number;
  dryRun?: boolean;
  qualityDir?: string;
  /** false with `--no-validate`. */
  validate?: boolean;
  json?: boolean;
  catalog: string;
  wait?: number;
  progress?: ProgressMode;
}

/** `lake promote`: one run under its own run id and log file; a failed dataset makes the command fail with its code. */
async function promote(io: PromoteIo, opts: PromoteCommandOptions): Promise<void> {
  const { catalog, settings } = loadSettings(opts.catalog);
  const runId = newRunId(Date.now());
  const { logger, file: logFile } = createRunLogger(settings.logsDir, runId);
  const { lake, unlock } = await openLockedLake('promote', { root: settings.root, create: true }, opts, io.err);
  const display = opts.dryRun ? undefined : progressDisplay(opts.progress, stderrTerminal({ isTTY: io.isTTY, write: io.err }), opts.json === true);
  if (opts.validate === false) io.err(`warning: --no-validate: quality gates are NOT enforced in run ${runId}; a failing check is reported but the table commits anyway (recorded as validate: false in each commit, the reports and ${path.relative(process.cwd(), logFile)})\n`);
  let result: PromoteRunResult;
  try {
    result = await runPromote({
      catalog,
      lake,
      runId,
      datasets: list(opts.datasets),
      maxWorkers: opts.maxWorkers ?? settings.maxWorkers,
      dryRun: opts.dryRun === true,
      validate: opts.validate !== false,
      reportDir: opts.qualityDir ? path.resolve(opts.qualityDir) : undefined,
      configuration: {
        'delta.logRetentionDuration': `interval ${settings.retention.logHours} hours`,
        'delta.deletedFileRetentionDuration': `interval ${settings.retention.deletedFileHours} hours`,
      },
      cwd: process.cwd(),
      logger,
      progress: display,
    });
    if (result.commits > 0) await refreshDuckdbViews(lake);
  } finally {
    display?.stop();
    await unlock();
    lake.close();
    logger.flush();
  }
  io.out(opts.json ? `${JSON.stringify(result, null, 2)}\n` : renderPromote(result));
  if (result.failures > 0) {
    const failed = result.datasets.filter((d) => d.status === 'failed');
    const first = failed[0]!.error!;
    throw new LakeError(first.code, `${failed.length} of ${result.datasets.length} datasets failed: ${failed.map((d) => `${d.dataset} [${d.error!.code}]`).join(', ')} (run ${result.runId}; the other datasets are unaffected)`, {
      hint: `${first.hint ?? ''} Details: ${path.relative(process.cwd(), logFile)}`.trim(),
    });
  }
}

async function lineage(io: PromoteIo, table: string | undefined, opts: { json?: boolean; all?: boolean; out?: string }): Promise<void> {
  if ((table === undefined) === (opts.all !== true)) {
    throw new LakeError('USAGE', table === undefined ? 'lake lineage needs a table, or --all for every table of the lake' : `lake lineage takes a table or --all, not both (got ${table} and --all)`, { hint: 'Examples: lake lineage silver.pbp · lake lineage --all --out catalog/lineage.json' });
  }
  await withLake(async (lake) => {
    const one: TableLineage | undefined = table === undefined ? undefined : await tableLineage(lake, resolveTable(lake, table));
    const all: LakeLineage | undefined = one ? undefined : await lakeLineage(lake);
    if (opts.out !== undefined) {
      await writeJsonFile(opts.out, one ?? all);
      const summary = one ? `${one.table} at version ${one.version}` : `${all!.tables.length} tables, ${all!.runs.length} runs, ${all!.partitions.length} partitions`;
      io.out(opts.json ? `${JSON.stringify({ file: opts.out, summary })}\n` : `wrote ${opts.out}: ${summary}\n`);
    } else if (one && !opts.json) io.out(renderLineage(one));
    else printJson(io, one ?? all);
  });
}

/** Writes `value` as indented JSON to `file` (its folder must exist), through a temp file so a reader never sees half a document. */
async function writeJsonFile(file: string, value: unknown): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`);
    await rename(temp, file);
  } catch (cause) {
    await rm(temp, { force: true });
    throw new LakeError('USAGE', `--out ${file}: cannot write the file (${errnoCode(cause) ?? String(cause)})`, { cause, hint: 'Give a file in a folder that exists and is writable.' });
  }
}

async function profile(io: PromoteIo, opts: { layer: Layer; datasets?: string; json?: boolean; catalog: string }): Promise<void> {
  const { catalog, settings } = loadSettings(opts.catalog);
  const lake = await openLake({ root: settings.root });
  try {
    const run = await profileLayer(lake, catalog, opts.layer, list(opts.datasets));
    if (opts.json) printJson(io, run);
    else io.out(renderProfile(run));
  } finally {
    lake.close();
  }
}

export function registerPromoteCommands(program: Command, io: PromoteIo = defaultIo): void {
  program
    .command('promote')
    .description('bronze → silver: replace only the partitions whose bronze rows changed since the last promote, one commit per table, behind quality gates')
    .option('--datasets <names>', 'comma-separated datasets (default: every enabled dataset)')
    .option('--max-workers <n>', 'datasets promoted in parallel (default: lake.max_workers or LAKE_MAX_WORKERS)', positiveInt('--max-workers'))
    .option('--dry-run', 'print the partitions and row deltas (and gate results) and write nothing')
    .option('--quality-dir <dir>', 'where quality reports go (default: quality/ next to the catalog, i.e. catalog/quality)')
    .option('--no-validate', 'commit even when a quality gate fails (checks still run and are reported; the commit, the report and the run log record validate: false); never the default')
    .option('--json', 'machine-readable output')
    .addOption(catalogOption())
    .addOption(waitOption())
    .addOption(progressOption())
    .action((opts: PromoteCommandOptions) => promote(io, opts));

  program
    .command('lineage')
    .description("where a table's runs, datasets and partitions came from, derived from its Delta log alone (fingerprints from lake promote)")
    .argument('[table]', 'layer.dataset (e.g. silver.pbp) or a path')
    .option('--all', 'every table of the lake in one JSON document (runs, datasets, partitions, each naming its table)')
    .option('--out <file>', 'write the JSON to this file (e.g. catalog/lineage.json) instead of printing it')
    .option('--json', 'machine-readable output')
    .action((table: string | undefined, opts: { json?: boolean; all?: boolean; out?: string }) => lineage(io, table, opts));

  program
    .command('profile')
    .description('per-partition profile of a layer: rows, NULLs per column, distinct keys')
    .addOption(new Option('--layer <layer>', 'the layer to profile').choices([...LAYERS]).default('silver'))
    .option('--datasets <names>', 'comma-separated datasets, or marts for --layer gold (default: every enabled dataset; gold: every mart in sql/gold)')
    .option('--json', 'machine-readable output')
    .addOption(catalogOption())
    .action((opts: { layer: Layer; datasets?: string; json?: boolean; catalog: string }) => profile(io, opts));
}
