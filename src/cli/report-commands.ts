import { spawn } from 'node:child_process';
import path from 'node:path';
import { Option, type Command } from './commander.js';
import { DEFAULT_CATALOG_FILE, ENV, defaultReportDir } from '../pipeline/index.js';
import { openLake } from '../table/index.js';
import { loadSettings } from './lake-session.js';
import { localStateDir } from '../storage/index.js';

/** `lake report`: renders src/report (loaded on use: Vega is only needed by this command). */
export interface ReportIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIo: ReportIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

interface ReportCommandOptions {
  out?: string;
  open?: boolean;
  json?: boolean;
  qualityDir?: string;
  catalog: string;
}

/** The folder `lake report` and `lake demo` write to by default: `<lake root>/report`. */
export function defaultReportOut(root: string): string {
  // A lake on S3 keeps its report in its local folder (docs/s3.md "What stays local").
  return path.join(localStateDir(root) ?? root, 'report');
}

/** Opens the page with the desktop's opener; a machine without one gets a notice, not an error. */
function openInBrowser(io: ReportIo, file: string): void {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(opener, [file], { detached: true, stdio: 'ignore' });
  child.on('error', () => io.err(`--open: could not start ${opener}; open ${file} in a browser yourself\n`));
  child.unref();
}

async function report(io: ReportIo, opts: ReportCommandOptions): Promise<void> {
  const { catalog, settings } = loadSettings(opts.catalog);
  const { writeReport } = await import('../report/index.js');
  const lake = await openLake({ root: settings.root });
  try {
    const result = await writeReport({
      lake,
      catalog,
      qualityDir: opts.qualityDir ? path.resolve(opts.qualityDir) : defaultReportDir(catalog),
      logsDir: path.resolve(settings.logsDir),
      now: Date.now(),
      outDir: opts.out ?? defaultReportOut(settings.root),
    });
    if (opts.json) io.out(`${JSON.stringify(result.data, null, 2)}\n`);
    else io.out(`report: ${result.path} (${result.tables} tables, ${result.runs} runs, ${(result.bytes / 1024).toFixed(0)} KiB, built in ${(result.ms / 1000).toFixed(1)} s)\n`);
    if (opts.open) openInBrowser(io, result.path);
  } finally {
    lake.close();
  }
}

export function registerReportCommands(program: Command, io: ReportIo = defaultIo): void {
  program
    .command('report')
    .description('write a static HTML report of the lake (history, partitions, quality gates, lineage, pipeline and ERD) that opens from file:// with no network')
    .option('--out <dir>', 'folder for index.html and report.json (default: <lake root>/report)')
    .option('--open', 'open the page in the default browser afterwards')
    .option('--json', 'print the data the page shows as JSON')
    .option('--quality-dir <dir>', 'where the quality reports are (default: quality/ next to the catalog, as lake promote writes them)')
    .addOption(new Option('--catalog <file>', 'the catalog').env(ENV.catalog).default(DEFAULT_CATALOG_FILE))
    .action((opts: ReportCommandOptions) => report(io, opts));
}
