import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { EXIT, LakeError, PIPELINE_VERSION, asDiskFull, configureLogging, errnoCode, isLakeError } from '../core/index.js';
import { installDeltaExtension, writeCheckpoint } from '../engine/index.js';
import {
  prepareQuery,
  resolveTable,
  runQuery,
  tableHistory,
  tableSnapshot,
  writeTable,
  readerMode,
  type ReaderMode,
  type SchemaMode,
  type WriteMode,
} from '../table/index.js';
import { doctor } from '../pipeline/index.js';
import { runDemo } from './demo.js';
import { budgetFromEnv, withLake } from './lake-session.js';
import { renderDoctor } from './doctor.js';
import { addOptimizeFlag, registerGcCommands } from './gc-commands.js';
import { registerGoldCommands } from './gold-commands.js';
import { registerIngestCommands } from './ingest-commands.js';
import { registerMaintenanceCommands } from './maintenance-commands.js';
import { registerOptimizeCommands } from './optimize-commands.js';
import { registerPromoteCommands } from './promote-commands.js';
import { renderRows, type OutputFormat } from './render.js';
import { probeSource, resolveSource, sourceError } from './write-source.js';

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIo: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

function printJson(io: Io, value: unknown): void {
  io.out(`${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v), 2)}\n`);
}

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new LakeError('USAGE', `${name} must be a non-negative integer, got '${value}'`);
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
    else io.out(`${table}: committed version ${result.version} (${result.operation}): +${result.filesAdded} files, -${result.filesRemoved} files, ${result.rowsAdded} rows${result.checkpointed ? ', checkpoint written' : ''}\n`);
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

async function sql(io: Io, query: string | undefined, opts: { file?: string; format: OutputFormat; asOf?: string; reader?: ReaderMode }): Promise<void> {
  const text = opts.file ? readQueryFile(opts.file) : query;
  if (!text) throw new LakeError('USAGE', 'no query given', { hint: 'Pass the query as an argument or with --file <path>.' });
  await withLake(async (lake) => {
    const result = await runQuery(lake, text, { asOf: opts.asOf, exact: true, reader: opts.reader ?? readerMode() });
    io.out(renderRows(result.columns, result.rows, opts.format));
  });
}

async function history(io: Io, table: string, opts: { limit?: number; json?: boolean }): Promise<void> {
  await withLake(async (lake) => {
    const entries = await tableHistory(lake, resolveTable(lake, table), { limit: opts.limit });
    if (entries.length === 0) throw new LakeError('TABLE_NOT_FOUND', `${table} is not a Delta table (no commits)`, { hint: 'Check the name or path.' });
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
    else io.out(`${table}: checkpoint at version ${result.version} (${result.numOfAddFiles} files, ${result.parts} part${result.parts === 1 ? '' : 's'})\n`);
  });
}

async function extensionInstall(io: Io, opts: { from?: string; force?: boolean; json?: boolean }): Promise<void> {
  const result = await installDeltaExtension({ from: opts.from, force: opts.force, python: process.env['LAKE_PYTHON'] });
  if (opts.json) printJson(io, result);
  else io.out(`delta extension ${result.extensionVersion ?? ''} for DuckDB ${result.duckdbVersion} (${result.platform}) installed from ${result.source}${result.origin ? ` (${result.origin})` : ''}: ${result.path}; it loads.\n`);
}

/** `lake doctor`: the report, then DATA_INVALID (exit 3) when a table does not open. */
async function doctorCommand(io: Io, opts: { json?: boolean }): Promise<void> {
  await withLake(async (lake) => {
    const report = await doctor(lake);
    if (opts.json) printJson(io, report);
    else io.out(renderDoctor(report));
    const broken = report.tables.filter((t) => !t.ok);
    if (broken.length > 0) {
      throw new LakeError('DATA_INVALID', `${broken.length} table${broken.length === 1 ? '' : 's'} do not open: ${broken.map((t) => t.table).join(', ')}`, {
        hint: 'The report above names the problem per table; restore (`lake restore`) or fix those tables, then run lake doctor again.',
      });
    }
  });
}

function registerTableCommands(program: Command, io: Io): void {
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
    .description('run DuckDB SQL over lake tables; supports t AT (VERSION => n), t AT (TIMESTAMP => \'…\') and delta_scan(\'<path>\'[, version => n])')
    .argument('[query]', 'the SQL query')
    .option('--file <path>', 'read the query from a file')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'))
    .option('--as-of <version|timestamp>', 'read every table without its own AT clause as of this version or timestamp')
    .addOption(new Option('--reader <reader>', "auto: DuckDB's delta extension when it loads, else native; extension; native (default: LAKE_READER or auto)").choices(['auto', 'extension', 'native']))
    .action((query: string | undefined, opts: { file?: string; format: OutputFormat; asOf?: string; reader?: ReaderMode }) => sql(io, query, opts));

  program
    .command('history')
    .description("a table's commits, newest first: version, time, operation, run, rows and partitions")
    .argument('<table>', 'layer.dataset or a path')
    .option('--limit <n>', 'show at most n commits', positiveInt('--limit'))
    .option('--json', 'machine-readable output')
    .action((table: string, opts: { limit?: number; json?: boolean }) => history(io, table, opts));

  program
    .command('checkpoint')
    .description('write a checkpoint of the latest version (readers then skip replaying older commits)')
    .argument('<table>', 'layer.dataset or a path')
    .option('--json', 'machine-readable output')
    .action((table: string, opts: { json?: boolean }) => checkpoint(io, table, opts));
}

function registerToolCommands(program: Command, io: Io): void {
  const extension = program.command('extension').description("DuckDB's delta extension, for the extension reader (works offline from a wheel or file)");
  extension
    .command('install')
    .description('install the delta extension for this DuckDB: from --from (a .duckdb_extension or duckdb_extension_delta wheel), else pip download, else INSTALL delta; then verify it loads')
    .option('--from <file>', 'a delta.duckdb_extension binary or a duckdb_extension_delta-*.whl copied onto this machine')
    .option('--force', 'reinstall even when a working extension is installed')
    .option('--json', 'machine-readable output')
    .action((opts: { from?: string; force?: boolean; json?: boolean }) => extensionInstall(io, opts));

  program
    .command('doctor')
    .description('DuckDB version, reader in use, extension status, lake root, and whether every table opens')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => doctorCommand(io, opts));

  program
    .command('demo')
    .description('the Delta core on the shipped real nflverse sample, offline: write, atomic partition replace, time travel, history')
    .option('--root <dir>', 'lake root for the demo (default: a new temp folder)')
    .action(async (opts: { root?: string }) => {
      await runDemo({ root: opts.root, out: io.out });
    });
}

export function buildProgram(io: Io = defaultIo): Command {
  const program = new Command('lake')
    .description('nfl-lakehouse: nflverse data as Delta Lake tables, queried with DuckDB at any version')
    .version(PIPELINE_VERSION)
    .addOption(new Option('--log-level <level>', 'log level (trace|debug|info|warn|error)').env('LAKE_LOG_LEVEL').default('warn'))
    .showHelpAfterError()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  program.hook('preAction', (cmd) => {
    const level = cmd.opts<{ logLevel?: string }>().logLevel;
    if (level) configureLogging({ level });
  });
  registerTableCommands(program, io);
  registerToolCommands(program, io);
  registerIngestCommands(program, io);
  registerMaintenanceCommands(program, io);
  registerOptimizeCommands(program, io);
  registerPromoteCommands(program, io);
  registerGoldCommands(program, io);
  registerGcCommands(program, io);
  // After registerGoldCommands: its --build-gold hook runs first.
  addOptimizeFlag(program, io);
  return program;
}

/** Runs the CLI; returns the exit code (core's EXIT: the failing error's exitCode) instead of exiting. */
export async function runCli(argv: string[], io: Io = defaultIo): Promise<number> {
  const program = buildProgram(io);
  const json = argv.includes('--json');
  try {
    budgetFromEnv(process.env);
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (thrown) {
    const error = asDiskFull(thrown);
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    if (isLakeError(error)) {
      if (json) io.err(`${JSON.stringify({ error: error.toJSON() })}\n`);
      else io.err(`error [${error.code}]: ${error.message}\n${error.hint ? `hint: ${error.hint}\n` : ''}`);
      return error.exitCode;
    }
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    io.err(`unexpected error: ${message}\nhint: this is a bug; please report it with the command you ran.\n`);
    return EXIT.unexpected;
  }
}
