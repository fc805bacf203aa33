import type { Command } from './commander.js';
import { LakeError } from '../core/index.js';
import { INSTALLABLE_EXTENSIONS, installDeltaExtension, type InstallableExtension } from '../engine/index.js';
import { doctor } from '../pipeline/index.js';
import { runDemo } from './demo.js';
import { renderDoctor } from './doctor.js';
import { resolveLakeRoot, withLake } from './environment.js';
import { printJson, type Io } from './io.js';

/** `lake extension install | doctor | demo`. */

async function extensionInstall(io: Io, name: string | undefined, opts: { from?: string; force?: boolean; json?: boolean }): Promise<void> {
  const extension = (name ?? 'delta') as InstallableExtension;
  if (!(INSTALLABLE_EXTENSIONS as readonly string[]).includes(extension)) {
    throw new LakeError('USAGE', `extension ${name}: the lake installs ${INSTALLABLE_EXTENSIONS.join(' and ')}`, { hint: 'Run `lake extension install delta` (the extension reader) or `lake extension install httpfs` (lakes on S3).' });
  }
  const result = await installDeltaExtension({ name: extension, from: opts.from, force: opts.force, python: process.env['LAKE_PYTHON'] });
  if (opts.json) printJson(io, result);
  else io.out(`${extension} extension ${result.extensionVersion ?? ''} for DuckDB ${result.duckdbVersion} (${result.platform}) installed from ${result.source}${result.origin ? ` (${result.origin})` : ''}: ${result.path}; it loads.\n`);
}

/** `lake doctor`: the report, then DATA_INVALID (exit 3) when a table does not open. */
async function doctorCommand(io: Io, opts: { json?: boolean }): Promise<void> {
  await withLake(async (lake) => {
    const report = await doctor(lake);
    if (opts.json) printJson(io, report);
    else io.out(renderDoctor(report));
    const broken = report.tables.filter((t) => !t.ok);
    if (broken.length > 0) {
      throw new LakeError('DATA_INVALID', `${broken.length} table${broken.length === 1 ? ' does' : 's do'} not open: ${broken.map((t) => t.table).join(', ')}`, {
        hint: 'The report above names the problem per table; restore (`lake restore`) or fix those tables, then run lake doctor again.',
      });
    }
  });
}

/**
 * `lake demo`: with --root, there; else in the lake root every other command reads (LAKE_ROOT,
 * .env, the catalog, `tables`) when it holds no tables, so the README's queries work right after;
 * else in a new temp folder (the lake is never mixed into an existing one).
 */
async function demo(io: Io, opts: { root?: string }): Promise<void> {
  const defaultRoot = await resolveLakeRoot();
  if (opts.root !== undefined) {
    await runDemo({ root: opts.root, defaultRoot, out: io.out });
    return;
  }
  const { lakeContents } = await import('../table/index.js');
  const { tables } = await lakeContents({ root: defaultRoot });
  if (tables.length > 0) io.out(`the lake root ${defaultRoot} already holds ${tables.length} table${tables.length === 1 ? '' : 's'}: the demo builds in a new temp folder instead (--root <dir> picks one)\n`);
  await runDemo({ lakeRoot: tables.length === 0 ? defaultRoot : undefined, defaultRoot, out: io.out });
}

export function registerToolCommands(program: Command, io: Io): void {
  const extension = program.command('extension').description("DuckDB's delta extension (the extension reader) and httpfs (lakes on S3), installed offline from a wheel or file");
  extension
    .command('install')
    .argument('[name]', 'delta (default) or httpfs')
    .description('install a DuckDB extension (delta or httpfs) for this DuckDB: from --from (a .duckdb_extension or duckdb_extension_<name> wheel), else pip download duckdb-extension-<name>, else INSTALL <name>; then verify it loads')
    .option('--from <file>', 'a <name>.duckdb_extension binary or a duckdb_extension_<name>-*.whl copied onto this machine')
    .option('--force', 'reinstall even when a working extension is installed')
    .option('--json', 'machine-readable output')
    .action((name: string | undefined, opts: { from?: string; force?: boolean; json?: boolean }) => extensionInstall(io, name, opts));

  program
    .command('doctor')
    .description('DuckDB version, reader in use, extension status, lake root, and whether every table opens')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => doctorCommand(io, opts));

  program
    .command('demo')
    .description('the whole pipeline on the shipped real nflverse sample, offline: bootstrap from a local server, promote, build-gold, queries, a stat correction, time travel, history')
    .option('--root <dir>', 'folder for the demo: the lake root is <dir>/tables, with raw/, logs/ and quality/ beside it (default: the lake root, e.g. ./tables, when it holds no tables yet, else a new temp folder)')
    .action((opts: { root?: string }) => demo(io, opts));
}
