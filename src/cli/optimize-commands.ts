import { existsSync } from 'node:fs';
import { Option, type Command } from './commander.js';
import { LakeError } from '../core/index.js';
import { DEFAULT_CATALOG_FILE, fileLayout, loadCatalog, type Catalog } from '../pipeline/index.js';
import { listLakeTables, optimizeTable, recordedBusinessKey, refreshDuckdbViews, resolveTable, tableSnapshot, type Lake, type OptimizeMetrics, type TableRef } from '../table/index.js';
import { waitOption, withWritableLake, type LockOptions } from './lake-session.js';
import { plural, renderRows } from './render.js';

/** `lake optimize`: renders src/table/optimize.ts for one table, several, or the whole lake. */
export interface OptimizeIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

interface OptimizeCommandOptions extends LockOptions {
  where?: string;
  targetFileMb?: number;
  sortBy?: string;
  maxRowsPerFile?: number;
  dryRun?: boolean;
  json?: boolean;
  catalog: string;
}

const MB = 1024 * 1024;

function positiveNumber(flag: string, integer: boolean) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      throw new LakeError('USAGE', `${flag} must be a positive ${integer ? 'whole ' : ''}number, got '${value}'`);
    }
    return n;
  };
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < MB) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 * MB) return `${(n / MB).toFixed(1)} MB`;
  return `${(n / (1024 * MB)).toFixed(2)} GB`;
}

/** The catalog when its file exists (a path table needs none); an invalid catalog is an error, never silently ignored. */
function optionalCatalog(file: string): Catalog | undefined {
  return existsSync(file) ? loadCatalog(file) : undefined;
}

/** The sort order of a table: --sort-by, else the catalog's sort_by (bronze/silver), else the grain a gold build recorded. */
async function sortOrder(lake: Lake, ref: TableRef, catalog: Catalog | undefined, flag: string | undefined): Promise<string[]> {
  if (flag !== undefined) return flag.split(',').map((c) => c.trim()).filter(Boolean);
  const layout = catalog && ref.layer !== 'gold' ? fileLayout(catalog, ref.dataset) : undefined;
  if (layout && layout.sortBy.length > 0) {
    const snapshot = await tableSnapshot(lake, ref);
    return layout.sortBy.filter((c) => snapshot.schema.fields.some((f) => f.name === c));
  }
  if (ref.layer === 'gold') return (await recordedBusinessKey(await tableSnapshot(lake, ref)))?.key ?? [];
  return [];
}

function partitionText(partition: Record<string, string | null>): string {
  const entries = Object.entries(partition);
  return entries.length === 0 ? '(table)' : entries.map(([k, v]) => `${k}=${v ?? 'NULL'}`).join('/');
}

export function renderOptimize(all: OptimizeMetrics[]): string {
  const dry = all.some((m) => m.status === 'dry-run');
  const head = dry ? 'optimize (dry run: nothing written; counts are what would be rewritten)\n' : '';
  const rows = all.map((m) => [
    m.table,
    m.status,
    m.version ?? '',
    m.partitionsOptimized,
    m.numFilesRemoved,
    formatBytes(m.numBytesRemoved),
    m.numFilesAdded,
    m.status === 'committed' ? formatBytes(m.numBytesAdded) : '',
    m.sortBy.join(',') || '-',
  ]);
  const lines: string[] = [];
  for (const m of all) {
    for (const p of m.partitions) {
      const verb = m.status === 'dry-run' ? 'would rewrite' : 'rewrote';
      lines.push(`${verb} ${m.table} ${partitionText(p.partition)}: ${plural(p.filesRemoved, 'file')} (${formatBytes(p.bytesRemoved)}) → ${p.filesAdded}${p.bytesAdded !== undefined ? ` (${formatBytes(p.bytesAdded)})` : ''}${p.rows !== undefined ? `, ${plural(p.rows, 'row')}` : ''}`);
    }
  }
  return head + renderRows(['table', 'status', 'version', 'partitions', 'files removed', 'bytes removed', 'files added', 'bytes added', 'sort by'], rows, 'table') + lines.map((l) => `${l}\n`).join('');
}

/** Optimizes `refs` one after the other with the catalog's knobs (flags win); used by `lake optimize` and the ingest commands' `--optimize`. */
export async function optimizeRefs(lake: Lake, refs: TableRef[], catalog: Catalog | undefined, opts: Pick<OptimizeCommandOptions, 'where' | 'targetFileMb' | 'sortBy' | 'maxRowsPerFile' | 'dryRun'>): Promise<OptimizeMetrics[]> {
  const results: OptimizeMetrics[] = [];
  for (const ref of refs) {
    const layout = catalog ? fileLayout(catalog, ref.layer === 'gold' ? undefined : ref.dataset) : undefined;
    const rowGroupMb = layout?.rowGroupMb;
    results.push(
      await optimizeTable(lake, {
        table: ref,
        where: opts.where,
        targetFileBytes: opts.targetFileMb !== undefined ? opts.targetFileMb * MB : catalog ? catalog.lake.targetFileMb * MB : undefined,
        sortBy: await sortOrder(lake, ref, catalog, opts.sortBy),
        maxRowsPerFile: opts.maxRowsPerFile ?? layout?.maxRowsPerFile,
        rowGroupBytes: rowGroupMb === undefined ? undefined : rowGroupMb * MB,
        rowGroupSize: catalog?.lake.rowGroupSize,
        compression: catalog?.lake.compression,
        dryRun: opts.dryRun,
      }),
    );
  }
  return results;
}

async function optimize(io: OptimizeIo, tables: string[], opts: OptimizeCommandOptions): Promise<void> {
  const catalog = optionalCatalog(opts.catalog);
  await withWritableLake('optimize', opts, io.err, async (lake) => {
    const refs = tables.length > 0 ? tables.map((t) => resolveTable(lake, t)) : await listLakeTables(lake);
    const results = await optimizeRefs(lake, refs, catalog, opts);
    if (results.some((r) => r.status === 'committed')) await refreshDuckdbViews(lake);
    if (opts.json) io.out(`${JSON.stringify(results, null, 2)}\n`);
    else io.out(renderOptimize(results));
  });
}

export function registerOptimizeCommands(program: Command, io: OptimizeIo): void {
  program
    .command('optimize')
    .description('compact small files: per partition, rewrite the files under the target size as sorted files near it, one commit per table (dataChange false: rows unchanged)')
    .argument('[tables...]', 'layer.dataset names or paths (default: every table under the lake root)')
    .option('--where <predicate>', 'only partitions matching this SQL predicate over partition columns, e.g. "season >= 2024"')
    .option('--target-file-mb <n>', 'target file size in MB (default: catalog lake.target_file_mb, 128)', positiveNumber('--target-file-mb', false))
    .option('--sort-by <columns>', 'sort rows in the new files by these columns (default: the catalog\'s sort_by; gold: the mart grain)')
    .option('--max-rows-per-file <n>', 'rows per file at most (default: the catalog\'s max_rows_per_file)', positiveNumber('--max-rows-per-file', true))
    .option('--dry-run', 'list the partitions and files that would be rewritten, write nothing')
    .option('--json', 'machine-readable output (one metrics object per table)')
    .addOption(new Option('--catalog <file>', 'the catalog (sort_by, file-size knobs)').env('LAKE_CATALOG').default(DEFAULT_CATALOG_FILE))
    .addOption(waitOption())
    .addHelpText(
      'after',
      `
A partition is rewritten when it has at least two files smaller than the target and rewriting
lowers its file count; other partitions and files are left alone. Time travel to earlier versions
keeps working; the replaced files are deleted by \`lake vacuum\` once the retention has passed.
A concurrent append goes through; a concurrent commit that removed one of the rewritten files
makes optimize fail with DELTA_COMMIT_CONFLICT (exit 4), nothing committed: re-run it.

Examples:
  lake optimize                                   every table, catalog defaults
  lake optimize silver.pbp --where "season = 2025" --dry-run
  lake optimize gold.fact_player_week --target-file-mb 64 --json`,
    )
    .action((tables: string[], opts: OptimizeCommandOptions) => optimize(io, tables, opts));
}
