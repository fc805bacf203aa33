import { Option, type Command } from './commander.js';
import { LakeError } from '../core/index.js';
import { DEFAULT_CATALOG_FILE, ENV, createRunLogger, newRunId, runBronzeGc, type BronzeGcRunResult, type Catalog } from '../pipeline/index.js';
import { findSnapshot, listLakeTables, refreshDuckdbViews, resolveTable, type Lake, type OptimizeMetrics, type TableRef } from '../table/index.js';
import { loadSettings, openLockedLake, waitOption, type LockOptions } from './lake-session.js';
import { optimizeRefs, renderOptimize } from './optimize-commands.js';
import { formatBytes } from './progress.js';
import { plural, renderRows } from './render.js';

/**
 * `lake gc`: renders src/pipeline/ops/bronze-gc.ts (bronze garbage collection) for some bronze
 * tables or every one; and the `--optimize` flag of `lake update` / `lake recache-pbp` (a
 * postAction hook registered after `--build-gold`'s, so it runs after the promote and gold
 * build): GC of the run's bronze tables whose dataset has a `bronze_retention` other than `all`,
 * then OPTIMIZE of the run's tables.
 */
export interface GcIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

interface GcCommandOptions extends LockOptions {
  dryRun?: boolean;
  json?: boolean;
  catalog: string;
}

function partitionText(partition: Record<string, string | null>): string {
  const entries = Object.entries(partition);
  return entries.length === 0 ? '(table)' : entries.map(([k, v]) => `${k}=${v ?? 'NULL'}`).join('/');
}

export function renderGc(result: BronzeGcRunResult): string {
  const head = result.dry_run ? 'gc (dry run: nothing written; the batches listed "would remove" are what a gc removes now)\n' : `run ${result.run_id} (lake gc)\n`;
  const rows = result.datasets.map((d) => [d.table, d.status, d.version ?? '', d.retention, d.batches_kept, d.batches_removed, d.rows_removed, d.files_removed, d.files_rewritten, formatBytes(d.bytes_removed)]);
  const lines: string[] = [];
  for (const d of result.datasets) {
    if (d.reason) lines.push(`${d.table}: ${d.status}: ${d.reason}`);
    if (d.error) lines.push(`${d.table}: FAILED [${d.error.code}] ${d.error.message}${d.error.hint ? `\n  hint: ${d.error.hint}` : ''}`);
    for (const p of d.partitions) {
      for (const b of p.batches) {
        const verb = b.keep ? 'keep' : d.status === 'committed' ? 'removed' : 'would remove';
        lines.push(`${verb} ${d.table} ${partitionText(p.partition)}: ${b.source ?? 'NULL'} @ ${b.ingested_at ?? 'NULL'} (run ${b.run_id ?? '-'}, ${plural(b.rows, 'row')}, ${plural(b.files, 'file')}): ${b.reasons.join(', ')}`);
      }
    }
  }
  return head + renderRows(['table', 'status', 'version', 'retention', 'batches kept', 'batches removed', 'rows removed', 'files removed', 'files rewritten', 'bytes removed'], rows, 'table') + lines.map((l) => `${l}\n`).join('');
}

function failure(result: BronzeGcRunResult): LakeError | undefined {
  const failed = result.datasets.filter((d) => d.status === 'failed');
  if (failed.length === 0) return undefined;
  const first = failed[0]!.error!;
  return new LakeError(first.code, `gc: ${failed.map((d) => `${d.table} [${d.error!.code}]`).join(', ')} failed (run ${result.run_id}): ${first.message}`, { hint: first.hint });
}

/** `bronze.<dataset>` (or a dataset name) → the dataset; anything else is a usage error. */
function datasetOf(catalog: Catalog, name: string): string {
  const dataset = name.startsWith('bronze.') ? name.slice('bronze.'.length) : name.includes('.') || name.includes('/') ? undefined : name;
  if (dataset === undefined) throw new LakeError('USAGE', `lake gc collects bronze tables only, got ${name}`, { hint: 'Name bronze tables (bronze.pbp) or datasets (pbp); leave them out for every bronze table.' });
  if (!catalog.datasets.some((d) => d.name === dataset)) {
    throw new LakeError('USAGE', `${name}: no dataset ${dataset} in ${catalog.file}`, { hint: 'GC follows the catalog (bronze_retention, the silver rule); name a dataset it declares.' });
  }
  return dataset;
}

async function gc(io: GcIo, tables: string[], opts: GcCommandOptions): Promise<void> {
  const { catalog, settings } = loadSettings(opts.catalog);
  const datasets = tables.length > 0 ? tables.map((t) => datasetOf(catalog, t)) : undefined;
  const runId = newRunId(Date.now());
  const { logger } = createRunLogger(settings.logsDir, runId);
  const { lake, unlock } = await openLockedLake('gc', { root: settings.root }, opts, io.err);
  let result: BronzeGcRunResult;
  try {
    result = await runBronzeGc({ catalog, lake, datasets, dryRun: opts.dryRun, runId, logger });
    if (result.commits > 0) await refreshDuckdbViews(lake);
  } finally {
    await unlock();
    lake.close();
    logger.flush();
  }
  io.out(opts.json ? `${JSON.stringify(result, null, 2)}\n` : renderGc(result));
  const failed = failure(result);
  if (failed) throw failed;
}

/** The tables an ingest run with `--optimize` maintains: the bronze tables of its datasets, and with --build-gold their silver tables and every gold mart. */
async function touchedTables(lake: Lake, datasets: readonly string[], buildGold: boolean): Promise<TableRef[]> {
  const refs: TableRef[] = [];
  for (const layer of buildGold ? ['bronze', 'silver'] : ['bronze']) {
    for (const d of datasets) {
      const ref = resolveTable(lake, `${layer}.${d}`);
      if (await findSnapshot(lake, ref)) refs.push(ref);
    }
  }
  if (buildGold) refs.push(...(await listLakeTables(lake)).filter((r) => r.layer === 'gold'));
  return refs;
}

interface IngestFlags extends LockOptions {
  optimize?: boolean;
  buildGold?: boolean;
  dryRun?: boolean;
  datasets?: string;
  json?: boolean;
  catalog?: string;
}

async function gcAndOptimize(io: GcIo, command: string, opts: IngestFlags): Promise<void> {
  const { catalog, settings } = loadSettings(opts.catalog ?? DEFAULT_CATALOG_FILE);
  const named = command === 'recache-pbp' ? ['pbp'] : opts.datasets?.split(',').map((d) => d.trim()).filter(Boolean);
  const scope = named ?? catalog.datasets.filter((d) => d.enabled).map((d) => d.name);
  const collectable = scope.filter((name) => {
    const retention = catalog.datasets.find((d) => d.name === name)?.bronzeRetention;
    return retention !== undefined && retention.kind !== 'all';
  });
  const runId = newRunId(Date.now());
  const { logger } = createRunLogger(settings.logsDir, runId);
  const { lake, unlock } = await openLockedLake(`${command} --optimize`, { root: settings.root }, opts, io.err);
  let gcResult: BronzeGcRunResult;
  let optimized: OptimizeMetrics[];
  try {
    gcResult = await runBronzeGc({ catalog, lake, datasets: collectable, runId, logger });
    optimized = await optimizeRefs(lake, await touchedTables(lake, scope, opts.buildGold === true), catalog, {});
    if (gcResult.commits > 0 || optimized.some((m) => m.status === 'committed')) await refreshDuckdbViews(lake);
  } finally {
    await unlock();
    lake.close();
    logger.flush();
  }
  io.out(opts.json ? `${JSON.stringify({ gc: gcResult, optimize: optimized })}\n` : `${renderGc(gcResult)}${renderOptimize(optimized)}`);
  const failed = failure(gcResult);
  if (failed) throw failed;
}

/** `--optimize` on update / recache-pbp; register after the gold commands so it runs after `--build-gold`. */
export function addOptimizeFlag(program: Command, io: GcIo): void {
  for (const name of ['update', 'recache-pbp']) {
    const command = program.commands.find((c) => c.name() === name);
    if (!command) continue;
    command.option('--optimize', 'after the ingest (and --build-gold): lake gc of its bronze tables whose bronze_retention is not all, then lake optimize of the tables it touched');
    command.hook('postAction', async (cmd) => {
      const opts = cmd.opts<IngestFlags>();
      if (!opts.optimize || opts.dryRun) return;
      await gcAndOptimize(io, name, opts);
    });
  }
}

export function registerGcCommands(program: Command, io: GcIo): void {
  program
    .command('gc')
    .description("bronze garbage collection: per partition, remove the batches silver no longer needs (bronze_retention), one commit per table (dataChange false); the old versions stay readable until vacuum")
    .argument('[tables...]', 'bronze tables (bronze.pbp) or dataset names (default: every bronze table)')
    .option('--dry-run', 'list every batch that would go and every batch kept in those partitions, with the reason; write nothing')
    .option('--json', 'machine-readable output')
    .addOption(new Option('--catalog <file>', 'the catalog (bronze_retention, silver rules)').env(ENV.catalog).default(DEFAULT_CATALOG_FILE))
    .addOption(waitOption())
    .addHelpText(
      'after',
      `
Only datasets with bronze_retention: { latest_batches: n } in the catalog are collected; with
bronze_retention: all (the default) gc does nothing for the dataset and says so. A batch (one
append of one upstream file) is kept when the next promote still has to read it (pending), when it
holds a row silver keeps (silver), or when it is one of the n newest of its source (retention).
Removed files stay on disk for time travel until \`lake vacuum\` deletes them after the retention.

Examples:
  lake gc --dry-run                     what would go, with the reasons
  lake gc bronze.pbp --json
  lake gc && lake vacuum                 free the disk once the retention has passed`,
    )
    .action((tables: string[], opts: GcCommandOptions) => gc(io, tables, opts));
}
