import { readFileSync } from 'node:fs';
import { Option, type Command } from './commander.js';
import { LakeError, errnoCode } from '../core/index.js';
import { writeCheckpoint } from '../engine/index.js';
import { assertLakeTables, missingTableError, prepareQuery, resolveTable, runQuery, tableHistory, tableSnapshot, writeTable, readerMode, type ReaderMode, type SchemaMode, type WriteMode } from '../table/index.js';
import { explainSql, renderExplain } from './explain.js';
import { withLake } from './environment.js';
import { printJson, type Io } from './io.js';
import { plural, renderRows, type OutputFormat } from './render.js';
import { probeSource, resolveSource, sourceError } from './write-source.js';

/**
 * `lake write | sql | history | checkpoint`: the single-table verbs. This module loads the table
 * layer and DuckDB only, never the pipeline, so a query starts as fast as DuckDB itself
 * (BENCHMARKS.md "CLI start-up").
 */

function nonNegativeInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new LakeError('USAGE', `${name} must be a non-negative integer, got '${value}'`);
    return n;
  };
}

interface WriteCommandOptions {
  from: string;
  mode: WriteMode;
  partitionBy?: string;
  schemaMode: SchemaMode;
  json?: boolean;
}

async function write(io: Io, table: string, opts: WriteCommandOptions): Promise<void> {
  const source = resolveSource(opts.from);
  await withLake(async (lake) => {
    const ref = resolveTable(lake, table);
    await probeSource(lake, source);
    if (source.kind === 'query') await assertLakeTables(lake, source.sql);
    const prepared = await prepareQuery(lake, source.sql);
    const result = await writeTable(lake, {
      table: ref,
      source: prepared.sql,
      mode: opts.mode,
      partitionBy: opts.partitionBy?.split(',').map((c) => c.trim()).filter(Boolean),
      schemaMode: opts.schemaMode,
      commitMetadata: prepared.views.length > 0 ? { source_versions: Object.fromEntries(prepared.views.map((v) => [v.table, v.version])) } : undefined,
    }).catch((error: unknown) => {
      throw sourceError(error, source);
    });
    if (opts.json) printJson(io, result);
    else if (result.status === 'skipped') io.out(`${table}: nothing to do (${result.reason})\n`);
    else io.out(`${table}: committed version ${result.version} (${result.operation}): +${plural(result.filesAdded, 'file')}, -${plural(result.filesRemoved, 'file')}, ${plural(result.rowsAdded, 'row')}${result.checkpointed ? ', checkpoint written' : ''}\n`);
  });
}

/** `lake sql --file <path>`: the query text; a file that cannot be read is a USAGE error naming it. */
function readQueryFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    const code = errnoCode(cause);
    const problem = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : `cannot be read (${code ?? String(cause)})`;
    throw new LakeError('USAGE', `--file ${file}: ${problem}`, { cause, hint: 'Give the path of a file holding the SQL query (relative paths start from the current folder), or pass the query as an argument.' });
  }
}

interface SqlCommandOptions {
  file?: string;
  format: OutputFormat;
  json?: boolean;
  asOf?: string;
  reader?: ReaderMode;
  explain?: boolean;
}

async function sql(io: Io, query: string | undefined, opts: SqlCommandOptions): Promise<void> {
  const text = opts.file ? readQueryFile(opts.file) : query;
  if (!text) throw new LakeError('USAGE', 'no query given', { hint: 'Pass the query as an argument or with --file <path>.' });
  await withLake(async (lake) => {
    const result = await runQuery(lake, opts.explain ? explainSql(text) : text, { asOf: opts.asOf, exact: true, reader: opts.reader ?? readerMode() });
    io.out(opts.explain ? renderExplain(result, opts.json === true || opts.format === 'json') : renderRows(result.columns, result.rows, opts.json ? 'json' : opts.format));
  });
}

async function history(io: Io, table: string, opts: { limit?: number; json?: boolean }): Promise<void> {
  await withLake(async (lake) => {
    const ref = resolveTable(lake, table);
    const entries = await tableHistory(lake, ref, { limit: opts.limit });
    if (entries.length === 0) {
      if (ref.layer) throw await missingTableError(lake, [table]);
      throw new LakeError('TABLE_NOT_FOUND', `${table} is not a Delta table (no commits in ${ref.tableRoot})`, { hint: 'Check the path: a Delta table is a folder holding _delta_log/.' });
    }
    if (opts.json) {
      printJson(io, entries.map(({ commitInfo: _c, ...e }) => ({ ...e, timestamp: new Date(e.timestamp).toISOString() })));
      return;
    }
    const columns = ['version', 'timestamp', 'operation', 'parameters', 'run_id', '+files', '-files', '+rows', '-rows', 'partitions'];
    const rows = entries.map((e) => [
      e.version,
      new Date(e.timestamp).toISOString(),
      e.operation ?? '',
      Object.entries(e.operationParameters).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' '),
      e.runId ?? '',
      e.filesAdded,
      e.filesRemoved,
      e.rowsAdded ?? '?',
      e.rowsRemoved ?? '?',
      e.partitions.length,
    ]);
    io.out(renderRows(columns, rows, 'table'));
  });
}

async function checkpoint(io: Io, table: string, opts: { json?: boolean }): Promise<void> {
  await withLake(async (lake) => {
    const snapshot = await tableSnapshot(lake, resolveTable(lake, table));
    const result = await writeCheckpoint(lake.engine, snapshot);
    if (opts.json) printJson(io, { table, ...result });
    else io.out(`${table}: checkpoint at version ${result.version} (${plural(result.numOfAddFiles, 'file')}, ${plural(result.parts, 'part')})\n`);
  });
}

const READER_HELP =
  "native: our own Delta log replay, DuckDB reads exactly the version's files (the default, the faster reader); " +
  "extension: DuckDB's delta extension, a cross-check (needs `lake extension install`); auto: native (kept for LAKE_READER=auto). Default: LAKE_READER, else auto";

export function registerTableCommands(program: Command, io: Io): void {
  program
    .command('write')
    .description('write rows into a Delta table (created on first write) as one commit')
    .argument('<table>', 'layer.dataset (e.g. bronze.pbp) or a path')
    .requiredOption('--from <file|query>', 'a .parquet/.csv/.json file, or a SELECT query (may read lake tables)')
    .addOption(new Option('--mode <mode>', 'append, overwrite the table, or replace the partitions present in the input').choices(['append', 'overwrite', 'replace']).default('append'))
    .option('--partition-by <columns>', 'comma-separated partition columns (when creating)')
    .addOption(new Option('--schema-mode <mode>', 'strict: columns must match; merge: add new columns; overwrite: replace the schema').choices(['strict', 'merge', 'overwrite']).default('strict'))
    .option('--json', 'machine-readable output')
    .action((table: string, opts: WriteCommandOptions) => write(io, table, opts));

  program
    .command('sql')
    .description("run DuckDB SQL over lake tables (layer.dataset, e.g. silver.pbp); supports t AT (VERSION => n), t AT (TIMESTAMP => '…'), delta_scan('<path>'[, version => n]), DESCRIBE / SUMMARIZE / SHOW of a table")
    .argument('[query]', 'the SQL query')
    .option('--file <path>', 'read the query from a file')
    .addOption(new Option('--format <format>', 'output format (json: one object per row, per line)').choices(['table', 'csv', 'json']).default('table'))
    .option('--json', 'machine-readable output: the same as --format json; errors as JSON on stderr')
    .option('--as-of <version|timestamp>', 'read every table without its own AT clause as of this version or timestamp')
    .addOption(new Option('--reader <reader>', READER_HELP).choices(['auto', 'extension', 'native']))
    .option('--explain', "show which files each table reads (partition pruning, data skipping by stats) and DuckDB's plan, without running the query")
    .action((query: string | undefined, opts: SqlCommandOptions) => sql(io, query, opts));

  program
    .command('history')
    .description("a table's commits, newest first: version, time, operation, run, rows and partitions")
    .argument('<table>', 'layer.dataset or a path')
    .option('--limit <n>', 'show at most n commits', nonNegativeInt('--limit'))
    .option('--json', 'machine-readable output')
    .action((table: string, opts: { limit?: number; json?: boolean }) => history(io, table, opts));

  program
    .command('checkpoint')
    .description('write a checkpoint of the latest version (readers then skip replaying older commits)')
    .argument('<table>', 'layer.dataset or a path')
    .option('--json', 'machine-readable output')
    .action((table: string, opts: { json?: boolean }) => checkpoint(io, table, opts));
}
