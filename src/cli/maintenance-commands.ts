import { Option, type Command } from './commander.js';
import { ERROR_CODES, LakeError, type ErrorCode } from '../core/index.js';
import { findDataset, loadCatalog, DEFAULT_CATALOG_FILE, rollbackRun, type RollbackRunResult } from '../pipeline/index.js';
import { diffTable, parseAsOf, parseTimestamp, duckdbS3Setup, refreshDuckdbViews, resolveTable, restoreTable, vacuumTables, writeDuckdbViews, type DiffResult, type RestoreResult, type TableRef, type VacuumMetrics, type VersionSelector } from '../table/index.js';
import { waitOption, withLake, withWritableLake, type LockOptions } from './lake-session.js';
import { plural, renderRows } from './render.js';

/** `lake diff | restore | rollback | vacuum | duckdb`: render src/table/{diff,restore,vacuum,views}.ts and src/pipeline/ops/rollback.ts. */
export interface MaintenanceIo {
  out: (text: string) => void;
  err: (text: string) => void;
}


function printJson(io: MaintenanceIo, value: unknown): void {
  io.out(`${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v), 2)}\n`);
}

function nonNegativeInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new LakeError('USAGE', `${flag} must be a version number (0, 1, …), got '${value}'`);
    return n;
  };
}

function hours(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new LakeError('USAGE', `--retain-hours must be a non-negative number of hours, got '${value}'`);
  return n;
}

function columnList(value: string): string[] {
  return value.split(',').map((c) => c.trim()).filter(Boolean);
}

function selector(value: string): VersionSelector {
  const at = parseAsOf(value);
  return at && 'version' in at ? { version: at.version } : { timestamp: parseTimestamp(value) };
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** The catalog's business key for `layer.dataset`, when a catalog is present and names the dataset. */
function catalogKey(ref: TableRef, catalogFile: string): string[] | undefined {
  if (!ref.dataset) return undefined;
  try {
    return findDataset(loadCatalog(catalogFile), ref.dataset)?.businessKey;
  } catch {
    return undefined;
  }
}

function partitionText(partition: Record<string, string | null>): string {
  const entries = Object.entries(partition);
  return entries.length === 0 ? '(table)' : entries.map(([k, v]) => `${k}=${v ?? 'NULL'}`).join('/');
}

function renderDiff(r: DiffResult): string {
  const lines: string[] = [];
  const keyText = r.key ? `key (${r.key.join(', ')}) from ${r.keySource === 'option' ? '--key' : r.keySource}` : 'whole rows (no business key known; pass --key)';
  lines.push(`${r.table}: version ${r.from} → ${r.to}, compared by ${keyText}`);
  lines.push(`  ${r.added} added, ${r.removed} removed, ${r.changed} changed${r.key ? ' keys' : ' rows'}${r.duplicateKeys > 0 ? ` (${r.duplicateKeys} keys held by several rows)` : ''}`);
  if (r.columnsAdded.length > 0) lines.push(`  columns added: ${r.columnsAdded.join(', ')}`);
  if (r.columnsRemoved.length > 0) lines.push(`  columns removed: ${r.columnsRemoved.join(', ')}`);
  let out = `${lines.join('\n')}\n`;
  if (r.partitions.length > 0) {
    out += renderRows(['partition', 'added', 'removed', 'changed'], r.partitions.map((p) => [partitionText(p.partition), p.added, p.removed, p.changed]), 'table');
  }
  if (r.changes.length > 0) {
    const detail = r.changes.map((c) => {
      const what = c.key
        ? Object.entries(c.key).map(([k, v]) => `${k}=${v ?? 'NULL'}`).join(' ')
        : Object.entries(c.row ?? {}).map(([k, v]) => `${k}=${v ?? 'NULL'}`).join(' ');
      const columns = (c.columns ?? []).map((col) => `${col.column}: ${col.from ?? 'NULL'} → ${col.to ?? 'NULL'}`).join('; ');
      return [c.change, partitionText(c.partition), what, columns];
    });
    out += renderRows(['change', 'partition', r.key ? 'key' : 'row', 'columns'], detail, 'table');
  }
  return out;
}

function restoreLine(r: RestoreResult): string {
  const m = r.metrics;
  const files = `+${plural(m.numRestoredFiles, 'file')} (${formatBytes(m.restoredFilesSize)}), -${plural(m.numRemovedFiles, 'file')} (${formatBytes(m.removedFilesSize)})${r.metadataChanged ? ', metadata restored' : ''}${r.protocolChanged ? ', protocol upgraded' : ''}`;
  if (r.status === 'noop') return `${r.table}: version ${r.readVersion} already equals version ${r.restoredVersion}; nothing to do`;
  if (r.status === 'dry-run') return `${r.table}: would restore version ${r.restoredVersion} on top of version ${r.readVersion}: ${files}`;
  return `${r.table}: restored version ${r.restoredVersion} as version ${r.version}: ${files}; ${plural(m.numOfFilesAfterRestore, 'file')}, ${formatBytes(m.tableSizeAfterRestore)} after restore`;
}

function renderRollback(r: RollbackRunResult): string {
  const cascaded = r.cascaded.map(renderRollback).join('');
  const lines = [`${r.dryRun ? 'plan for rollback' : 'rollback'} of run ${r.runId}${r.dryRun ? ' (dry run: nothing is committed)' : ` (rollback run ${r.rollbackRunId})`}`];
  for (const d of r.downstream) lines.push(`  downstream: ${d.table} v${d.version} (${d.runId ? `run ${d.runId}` : 'untagged'}) read ${d.read}${r.dryRun ? '; roll it back first, or --cascade' : ''}`);
  if (r.tables.length === 0) lines.push('  no table has a commit of this run');
  for (const t of r.tables) {
    const target = t.restoreTo < 0 ? 'empty (the run created the table)' : `version ${t.restoreTo}`;
    const head = `  ${t.table.padEnd(28)} run commits v${t.runVersions.join(', v')}; at v${t.currentVersion}`;
    if (t.action === 'already-rolled-back') lines.push(`${head}: already rolled back, nothing to do`);
    else if (t.action === 'blocked') lines.push(`${head}: BLOCKED by later commits ${t.laterCommits.map((c) => `v${c.version} (${c.runId ?? c.operation ?? 'untagged'})`).join(', ')}; --force undoes them too`);
    else {
      const verb = t.result?.status === 'committed' ? `restored to ${target} as v${t.result.version}` : t.result?.status === 'noop' ? `already equals ${target}` : `→ ${target}`;
      const m = t.result?.metrics;
      const later = t.laterCommits.length > 0 ? `; also undoes v${t.laterCommits.map((c) => c.version).join(', v')}` : '';
      lines.push(`${head}: ${verb}${m ? ` (+${plural(m.numRestoredFiles, 'file')}, -${plural(m.numRemovedFiles, 'file')})` : ''}${later}`);
    }
  }
  return `${cascaded}${lines.join('\n')}\n`;
}

function renderVacuum(all: VacuumMetrics[]): string {
  const rows = all.map((m) => [
    m.table,
    m.retentionHours,
    m.oldestRetainedVersion,
    m.filesDeleted,
    formatBytes(m.bytesDeleted),
    m.untrackedFilesDeleted,
    m.logFilesDeleted,
    m.earliestVersion ?? '',
  ]);
  const head = all.some((m) => m.dryRun) ? 'vacuum (dry run: nothing deleted; counts are what would be deleted)\n' : '';
  const REASONS = { expired: 'removed before the oldest kept version', untracked: 'no commit names it', 'stale-temp': 'temp file of a commit never linked' };
  const lines: string[] = [];
  for (const m of all) {
    if (m.dryRun) for (const f of m.deletedFiles) lines.push(`would delete ${m.table}: ${f.path} (${formatBytes(f.bytes)}; ${REASONS[f.reason]})`);
    for (const i of m.ignored) lines.push(`left alone ${m.table}: ${i.path} (${i.reason}; not the table's)`);
  }
  return head + renderRows(['table', 'retain h', 'oldest kept version', 'files deleted', 'bytes', 'untracked', 'log files', 'earliest version'], rows, 'table') + lines.map((l) => `${l}\n`).join('');
}

/**
 * `lake restore <table> --version n` (the flag Delta users know) collides with the root's
 * `--version` flag, which commander consumes wherever it appears. While the arguments of a
 * `restore` invocation are parsed, the root does without its version flag, so the subcommand
 * receives `--version n`; `lake --version` and `lake -V` are unchanged.
 */
function yieldVersionFlagTo(program: Command, subcommand: string): void {
  const parseOptions = program.parseOptions.bind(program);
  program.parseOptions = (args: string[]) => {
    const at = args.findIndex((a, i) => a === subcommand && args[i - 1] !== '--log-level');
    const root = program as unknown as { options: { long?: string }[] };
    const flag = root.options.findIndex((o) => o.long === '--version');
    if (at < 0 || flag < 0 || !args.slice(at + 1).includes('--version')) return parseOptions(args);
    const [option] = root.options.splice(flag, 1);
    try {
      return parseOptions(args);
    } finally {
      root.options.splice(flag, 0, option!);
    }
  };
}

interface DiffCommandOptions {
  from: string;
  to?: string;
  key?: string;
  ignore?: string;
  limit?: number;
  catalog: string;
  json?: boolean;
}

async function diff(io: MaintenanceIo, table: string, opts: DiffCommandOptions): Promise<void> {
  await withLake(async (lake) => {
    const ref = resolveTable(lake, table);
    const result = await diffTable(lake, {
      table: ref,
      from: selector(opts.from),
      to: opts.to === undefined ? undefined : selector(opts.to),
      key: opts.key ? columnList(opts.key) : undefined,
      fallbackKey: catalogKey(ref, opts.catalog),
      ignoreColumns: opts.ignore ? columnList(opts.ignore) : undefined,
      limit: opts.limit,
    });
    if (opts.json) printJson(io, result);
    else io.out(renderDiff(result));
  });
}

async function restore(io: MaintenanceIo, table: string, opts: { version?: number; timestamp?: string; dryRun?: boolean; json?: boolean }): Promise<void> {
  if ((opts.version === undefined) === (opts.timestamp === undefined)) {
    throw new LakeError('USAGE', 'lake restore needs exactly one of --version or --timestamp', { hint: 'e.g. lake restore silver.pbp --version 12' });
  }
  await withLake(async (lake) => {
    const result = await restoreTable(lake, {
      table: resolveTable(lake, table),
      version: opts.version,
      timestamp: opts.timestamp === undefined ? undefined : parseTimestamp(opts.timestamp),
      dryRun: opts.dryRun,
    });
    if (result.status === 'committed') await refreshDuckdbViews(lake);
    if (opts.json) printJson(io, result);
    else io.out(`${restoreLine(result)}\n`);
  });
}

async function rollback(io: MaintenanceIo, opts: { run: string; dryRun?: boolean; cascade?: boolean; force?: boolean; json?: boolean } & LockOptions): Promise<void> {
  await withWritableLake('rollback', opts, io.err, async (lake) => {
    const result = await rollbackRun(lake, { runId: opts.run, dryRun: opts.dryRun, cascade: opts.cascade, force: opts.force });
    if (result.status === 'committed') await refreshDuckdbViews(lake);
    if (opts.json) printJson(io, result);
    else io.out(renderRollback(result));
  });
}

async function vacuum(io: MaintenanceIo, tables: string[], opts: { retainHours?: number; dryRun?: boolean; force?: boolean; logCleanup?: boolean; json?: boolean } & LockOptions): Promise<void> {
  await withWritableLake('vacuum', opts, io.err, async (lake) => {
    const refs = tables.length > 0 ? tables.map((t) => resolveTable(lake, t)) : undefined;
    const result = await vacuumTables(lake, refs, { retentionHours: opts.retainHours, dryRun: opts.dryRun, force: opts.force, logCleanup: opts.logCleanup });
    if (opts.json) printJson(io, result);
    else io.out(renderVacuum(result));
  });
}

/** `lake duckdb`: the views database; a table without a view makes the command fail with its code (the other views are written). */
async function duckdb(io: MaintenanceIo, opts: { out?: string; json?: boolean }): Promise<void> {
  await withLake(async (lake) => {
    const result = await writeDuckdbViews(lake, { out: opts.out });
    if (opts.json) printJson(io, result);
    else {
      const ok = result.views.filter((v) => !v.error);
      io.out(`${result.path}: ${ok.length} view${ok.length === 1 ? '' : 's'} (${ok.map((v) => `${v.view}@v${v.version}`).join(', ') || 'no tables'})\n`);
      const setup = await duckdbS3Setup(lake);
      if (setup) io.out(`the views read S3: in duckdb, first run (with your credentials): ${setup}\n`);
      io.out(`query it with: duckdb ${result.path} -c "${setup ? `${setup} ` : ''}SELECT count(*) FROM ${ok[0]?.view ?? 'silver.<dataset>'}"\n`);
    }
    const failed = result.views.filter((v) => v.error);
    if (failed.length > 0) {
      const code = failed[0]!.error!.code;
      throw new LakeError(code !== undefined && code in ERROR_CODES ? (code as ErrorCode) : 'DATA_INVALID', `${failed.length} table(s) have no view in ${result.path}: ${failed.map((v) => `${v.view} (${v.error!.message})`).join('; ')}`, {
        hint: 'The other views were written. Fix or restore those tables (`lake doctor`), then re-run `lake duckdb`.',
      });
    }
  });
}

export function registerMaintenanceCommands(program: Command, io: MaintenanceIo): void {
  yieldVersionFlagTo(program, 'restore');
  program
    .command('diff')
    .description('rows added, removed and changed by business key between two versions, per partition')
    .argument('<table>', 'layer.dataset or a path')
    .requiredOption('--from <version|timestamp>', 'the older version (or the version current at a timestamp)')
    .option('--to <version|timestamp>', 'the newer version (default: the latest)')
    .option('--key <columns>', 'business key columns (default: recorded in the log, else the catalog, else whole rows)')
    .option('--ignore <columns>', 'columns left out of the comparison (e.g. ingested_at,run_id)')
    .option('--limit <n>', 'rows of detail to show (default 20)', nonNegativeInt('--limit'))
    .addOption(new Option('--catalog <file>', 'the catalog (for business keys)').env('LAKE_CATALOG').default(DEFAULT_CATALOG_FILE))
    .option('--json', 'machine-readable output')
    .action((table: string, opts: DiffCommandOptions) => diff(io, table, opts));

  program
    .command('restore')
    .description('a new commit whose snapshot equals an earlier version (files re-added/removed, metadata restored)')
    .argument('<table>', 'layer.dataset or a path')
    .option('--version <n>', 'the version to restore', nonNegativeInt('--version'))
    .option('--timestamp <time>', 'restore the version current at this time (ISO 8601; no zone means UTC)')
    .option('--dry-run', 'show what would change, commit nothing')
    .option('--json', 'machine-readable output')
    .action((table: string, opts: { version?: number; timestamp?: string; dryRun?: boolean; json?: boolean }) => restore(io, table, opts));

  program
    .command('rollback')
    .description('restore every table a run committed to, to its version just before the run (idempotent)')
    .requiredOption('--run <run_id>', 'the run to undo (run_id in `lake history`)')
    .option('--dry-run', 'show the plan, commit nothing')
    .option('--cascade', 'first roll back the runs that read data this run wrote (e.g. the promote after a bad ingest), newest first')
    .option('--force', 'roll back even when later runs committed on top (undoes their commits too) or read its data downstream (left as they are)')
    .option('--json', 'machine-readable output')
    .addOption(waitOption())
    .action((opts: { run: string; dryRun?: boolean; cascade?: boolean; force?: boolean; json?: boolean } & LockOptions) => rollback(io, opts));

  program
    .command('vacuum')
    .description('delete data files no version inside the retention window references (default 7 days); commit files in _delta_log only with --log-cleanup')
    .argument('[tables...]', 'layer.dataset names or paths (default: every table under the lake root)')
    .option('--retain-hours <h>', 'retention window in hours (default: delta.deletedFileRetentionDuration, 168)', hours)
    .option('--dry-run', 'list what would be deleted, delete nothing')
    .option('--force', 'allow a retention under 168 hours')
    .option('--log-cleanup', 'also remove commit files older than delta.logRetentionDuration (30 days) that precede a checkpoint')
    .option('--json', 'machine-readable output')
    .addOption(waitOption())
    .action((tables: string[], opts: { retainHours?: number; dryRun?: boolean; force?: boolean; logCleanup?: boolean; json?: boolean } & LockOptions) => vacuum(io, tables, opts));

  program
    .command('duckdb')
    .description('write a DuckDB database with one view per table at its latest version (schemas bronze/silver/gold) for the stock duckdb CLI')
    .option('--out <file>', 'the database file (default: <lake root>/lake.duckdb)')
    .option('--json', 'machine-readable output')
    .action((opts: { out?: string; json?: boolean }) => duckdb(io, opts));
}
