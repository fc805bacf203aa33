import { Command, CommanderError, Help, Option } from './commander.js';
import { EXIT, LakeError, PIPELINE_VERSION, asDiskFull, configureLogging, isLakeError } from '../core/index.js';
import { COMMAND_INDEX, type IndexedCommand } from './command-index.js';
import { loadDotEnv } from './environment.js';
import { defaultIo, type Io } from './io.js';

/**
 * The `lake` program. Start-up time is part of the contract (BENCHMARKS.md "CLI start-up"), so a
 * run loads only the command modules it needs:
 *
 * - no command (`lake --help`, `lake --version`, `lake`): no module at all; the root help is
 *   drawn from COMMAND_INDEX (command-index.ts, generated from the modules and guarded by a test);
 * - a command of a standalone module (sql, history, write, checkpoint): that module only;
 * - any other command, `lake help <command>`, or a name the index does not know: every module.
 *
 * Every failure, a parser error included, leaves through `runCli` as one LakeError: `error [CODE]:
 * message` and `hint:` on stderr, or `{"error": {...}}` with `--json` (and `lake sql --format json`).
 */

type Register = (program: Command, io: Io) => void;

/**
 * Every command module, in registration order: a later one may decorate an earlier one's
 * commands (gold adds --build-gold to the ingest commands, gc adds --optimize after it).
 */
const MODULES: Record<string, () => Promise<Register>> = {
  table: async () => (await import('./table-commands.js')).registerTableCommands,
  tools: async () => (await import('./tool-commands.js')).registerToolCommands,
  ingest: async () => (await import('./ingest-commands.js')).registerIngestCommands,
  maintenance: async () => (await import('./maintenance-commands.js')).registerMaintenanceCommands,
  optimize: async () => (await import('./optimize-commands.js')).registerOptimizeCommands,
  promote: async () => (await import('./promote-commands.js')).registerPromoteCommands,
  gold: async () => (await import('./gold-commands.js')).registerGoldCommands,
  gc: async () => (await import('./gc-commands.js')).registerGcCommands,
  report: async () => (await import('./report-commands.js')).registerReportCommands,
  // After gold: its --build-gold hook runs before --optimize's.
  optimizeFlag: async () => (await import('./gc-commands.js')).addOptimizeFlag,
};

/** Modules whose commands no other module decorates: running one of their commands loads only them. */
const STANDALONE = new Set(['table']);

/** The subcommand named by `args` (argv without node and script), skipping the root's own options. */
export function subcommandOf(args: readonly string[]): { name?: string; helpFor?: string } {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return {};
    if (a === '--log-level') {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    if (a === 'help') return { name: a, helpFor: args.slice(i + 1).find((x) => !x.startsWith('-')) };
    return { name: a };
  }
  return {};
}

function rootProgram(io: Io): Command {
  const program = new Command('lake')
    .description('nfl-lakehouse: nflverse data as Delta Lake tables, queried with DuckDB at any version')
    .version(PIPELINE_VERSION)
    .addOption(new Option('--log-level <level>', 'log level (trace|debug|info|warn|error)').env('LAKE_LOG_LEVEL').default('warn'))
    // Errors are rendered once, by runCli (code, hint, --json): commander only throws them.
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: () => undefined })
    .exitOverride();
  program.hook('preAction', (cmd) => {
    const level = cmd.opts<{ logLevel?: string }>().logLevel;
    if (level) configureLogging({ level });
  });
  return program;
}

/** The root help's commands without loading their modules: name, usage term and description from the index. */
function addIndexedCommands(program: Command, index: readonly IndexedCommand[]): void {
  const terms = new Map(index.map((c) => [c.name, c.term]));
  for (const c of index) program.command(c.name).description(c.description);
  const standard = new Help();
  program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd.name()) ?? standard.subcommandTerm(cmd) });
}

/**
 * The program for `argv` (process.argv shape), with the modules that run needs (see the file
 * header); without `argv`, every command.
 */
export async function buildProgram(io: Io = defaultIo, argv?: readonly string[]): Promise<Command> {
  const program = rootProgram(io);
  const { name, helpFor } = argv ? subcommandOf(argv.slice(2)) : { name: '*' };
  const wanted = name === 'help' ? helpFor : name;
  const indexed = wanted === undefined ? undefined : COMMAND_INDEX.find((c) => c.name === wanted);
  if (argv && wanted === undefined) {
    addIndexedCommands(program, COMMAND_INDEX);
    return program;
  }
  const modules = indexed && STANDALONE.has(indexed.module) ? [indexed.module] : Object.keys(MODULES);
  for (const key of modules) (await MODULES[key]!())(program, io);
  return program;
}

/** The index entries of a fully registered program: what command-index.ts must hold (scripts/gen-command-index.mjs writes it). */
export async function commandIndexOf(io: Io = defaultIo): Promise<IndexedCommand[]> {
  const program = rootProgram(io);
  const help = program.createHelp();
  const index: IndexedCommand[] = [];
  for (const [module, load] of Object.entries(MODULES)) {
    const before = new Set(program.commands.map((c) => c.name()));
    (await load())(program, io);
    for (const c of program.commands) if (!before.has(c.name())) index.push({ name: c.name(), term: help.subcommandTerm(c), description: c.description(), module });
  }
  // Decorating modules change earlier commands' options (hence terms) and descriptions: read them last.
  return index.map((e) => {
    const c = program.commands.find((x) => x.name() === e.name)!;
    return { ...e, term: help.subcommandTerm(c), description: c.description() };
  });
}

/** Whether the run asked for machine-readable output: `--json`, or `--format json` (lake sql). */
export function wantsJson(argv: readonly string[]): boolean {
  return argv.some((a, i) => a === '--json' || a === '--format=json' || (a === '--format' && argv[i + 1] === 'json'));
}

const HELP_CODES = new Set(['commander.helpDisplayed', 'commander.version', 'commander.help']);

/** A commander parse error as USAGE, naming commander's reason in `details.parser` and the help to read. */
function parserError(error: CommanderError, command: string | undefined): LakeError {
  const message = error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
  const help = command && error.code !== 'commander.unknownCommand' ? `lake ${command} --help` : 'lake --help';
  const what = error.code === 'commander.unknownCommand' ? 'the commands' : 'its arguments and options';
  return new LakeError('USAGE', message, { cause: error, hint: `Run \`${help}\` for ${what}.`, details: { parser: error.code } });
}

/** Runs the CLI; returns the exit code (core's EXIT: the failing error's exitCode) instead of exiting. */
export async function runCli(argv: string[], io: Io = defaultIo): Promise<number> {
  const json = wantsJson(argv);
  const { name } = subcommandOf(argv.slice(2));
  let parsing = true;
  try {
    // Before parsing: options read LAKE_* defaults (LAKE_CATALOG, LAKE_LOG_LEVEL) from the environment.
    loadDotEnv();
    const program = await buildProgram(io, argv);
    program.hook('preAction', () => {
      parsing = false;
    });
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (thrown) {
    let error = asDiskFull(thrown);
    if (error instanceof CommanderError) {
      if (HELP_CODES.has(error.code)) return EXIT.ok;
      error = parserError(error, name);
    } else if (parsing && isLakeError(error, 'USAGE') && error.hint === undefined) {
      // An option's own parser refused its value (`--limit abc`): say where the options are.
      error = new LakeError('USAGE', error.message, { cause: error, hint: `Run \`${name ? `lake ${name}` : 'lake'} --help\` for its arguments and options.`, details: error.details });
    }
    if (isLakeError(error)) {
      if (json) io.err(`${JSON.stringify({ error: error.toJSON() })}\n`);
      else io.err(`error [${error.code}]: ${error.message}\n${error.hint ? `hint: ${error.hint}\n` : ''}`);
      return error.exitCode;
    }
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    if (json) io.err(`${JSON.stringify({ error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), hint: 'This is a bug; please report it with the command you ran.', exitCode: EXIT.unexpected } })}\n`);
    else io.err(`unexpected error: ${message}\nhint: this is a bug; please report it with the command you ran.\n`);
    return EXIT.unexpected;
  }
}

/** The text of command-index.ts for `index`. */
export function renderCommandIndex(index: readonly IndexedCommand[]): string {
  return [
    '// Generated by `node scripts/gen-command-index.mjs` from the command modules; do not edit.',
    '// test/cli/command-index.test.ts fails when it no longer matches them.',
    '',
    '/** One command as the root help lists it, and the module (program.ts MODULES) that registers it. */',
    'export interface IndexedCommand {',
    '  name: string;',
    '  /** Usage term in the root help, e.g. `sql [options] [query]`. */',
    '  term: string;',
    '  description: string;',
    '  module: string;',
    '}',
    '',
    'export const COMMAND_INDEX: readonly IndexedCommand[] = [',
    ...index.map((c) => `  ${JSON.stringify(c)},`),
    '];',
    '',
  ].join('\n');
}
