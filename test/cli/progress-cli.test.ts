import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_MAIN, REPO_ROOT, describeChild, requireBuild, runCliProcess, type ChildResult } from '../helpers/child.js';
import { startUpstreamServer, type UpstreamServer } from '../helpers/upstream-server.js';

/**
 * Progress of the long commands as real processes of the built CLI (src/cli/progress.ts,
 * src/pipeline/run/progress.ts): the run log's `progress` lines carry the numbers of the run's
 * result; piped stderr gets plain lines; LAKE_PROGRESS=tty forces the live display; a real
 * terminal (util-linux `script`) gets it by itself; --progress off is silent.
 */
let server: UpstreamServer;
let dir: string;
const ESC = '\x1b';
const SCRIPT = '/usr/bin/script';

interface LogLine {
  msg: string;
  progress?: string;
  scope?: string;
  dataset?: string;
  mart?: string;
  file?: string;
  group?: string;
  status?: string;
  rows: number;
  bytes: number;
  bytes_total?: number;
  units_done: number;
  units_total: number | null;
  elapsed_ms: number;
  rows_per_s: number | null;
  bytes_per_s: number | null;
  eta_ms: number | null;
}

function env(extra: Record<string, string> = {}): Record<string, string | undefined> {
  return { LAKE_ROOT: path.join(dir, 'tables'), LAKE_RAW_DIR: path.join(dir, 'raw'), LAKE_LOGS_DIR: path.join(dir, 'logs'), LAKE_CATALOG: 'catalog/datasets.yml', LAKE_PROGRESS: undefined, NO_COLOR: undefined, ...server.env(), ...extra };
}

function logLines(file: string): LogLine[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LogLine);
}

function progressLines(file: string, scope: string, event = 'finish'): LogLine[] {
  return logLines(file).filter((l) => l.msg === 'progress' && l.scope === scope && l.progress === event);
}

/** The log written last (run ids of two runs in the same second do not sort by time: by mtime). */
function newestLog(): string {
  const logs = readdirSync(path.join(dir, 'logs')).map((name) => path.join(dir, 'logs', name));
  return logs.sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs).at(-1)!;
}

beforeAll(async () => {
  requireBuild();
  server = await startUpstreamServer();
  dir = mkdtempSync(path.join(tmpdir(), 'progress-cli-'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('progress of long runs (real processes, built dist/)', () => {
  it('lake update --json: stdout is the JSON result, stderr stays empty, and the log has progress lines whose numbers are the result', async () => {
    const r = await runCliProcess(['update', '--datasets', 'teams,nextgen_stats', '--season', '2020', '--json'], { env: env() });
    expect(r.code, describeChild(r)).toBe(0);
    expect(r.stderr).toBe('');
    const result = JSON.parse(r.stdout) as { logFile: string; datasets: { dataset: string; rows: number; bytes: number; assets: { key: string; status: string; rows?: number; bytes: number }[] }[] };
    const files = progressLines(result.logFile, 'item');
    const assets = result.datasets.flatMap((d) => d.assets.map((a) => ({ dataset: d.dataset, file: a.key, status: a.status, rows: a.rows ?? 0, bytes: a.bytes })));
    expect(assets).toHaveLength(4);
    expect(files.map((l) => ({ dataset: l.dataset, file: l.file, status: l.status, rows: l.rows, bytes: l.bytes })).sort((a, b) => a.file!.localeCompare(b.file!))).toEqual(assets.sort((a, b) => a.file.localeCompare(b.file)));
    for (const l of files) {
      expect(l.bytes_total).toBe(l.bytes); // the local server announces Content-Length
      expect(l.bytes_per_s).toBeGreaterThan(0);
      expect(l.elapsed_ms).toBeGreaterThanOrEqual(0);
      expect(l.eta_ms).toBe(0);
    }
    const datasets = progressLines(result.logFile, 'task');
    expect(datasets.map((l) => [l.dataset, l.status, l.rows, l.bytes, l.units_done, l.units_total]).sort()).toEqual(result.datasets.map((d) => [d.dataset, 'ok', d.rows, d.bytes, d.assets.length, d.assets.length]).sort());
    const [runLine] = progressLines(result.logFile, 'run');
    expect(runLine).toMatchObject({ status: 'ok', rows: 2733, units_done: 4, units_total: 4 });
    expect(runLine!.bytes).toBe(result.datasets.reduce((n, d) => n + d.bytes, 0));
    expect(progressLines(result.logFile, 'item', 'start').map((l) => l.file).sort()).toEqual(assets.map((a) => a.file).sort());
  });

  it('lake promote piped: a line per staged group and per dataset, and the log groups add up to the partitions promoted', async () => {
    const r = await runCliProcess(['promote', '--datasets', 'teams,nextgen_stats', '--json', '--progress', 'plain'], { env: env() });
    expect(r.code, describeChild(r)).toBe(0);
    const result = JSON.parse(r.stdout) as { datasets: { dataset: string; status: string; partitions: { rowsAfter: number }[] }[] };
    expect(r.stderr).not.toContain(ESC);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('lake promote: 2 datasets');
    expect(lines).toContainEqual(expect.stringMatching(/^lake promote: nextgen_stats season=2020\/stat_type=passing … season=2020\/stat_type=rushing \(3 partitions\): staged · 2,697 rows · [\d.]+ KB · [\d.]+ s · .* · 3\/3 partitions$/));
    expect(lines).toContainEqual(expect.stringMatching(/^lake promote: nextgen_stats: committed · 3\/3 partitions · 2,697 rows · /));
    expect(lines).toContainEqual(expect.stringMatching(/^lake promote: teams: committed · 1\/1 partition · 36 rows · /));
    expect(lines.at(-1)).toMatch(/^lake promote: ok · 2\/2 datasets · 2,733 rows · /);
    const log = newestLog();
    for (const d of result.datasets) {
      const groups = progressLines(log, 'item').filter((l) => l.dataset === d.dataset && l.status === 'staged');
      expect(groups.reduce((n, g) => n + g.rows, 0)).toBe(d.partitions.reduce((n, p) => n + p.rowsAfter, 0));
      expect(progressLines(log, 'task').find((l) => l.dataset === d.dataset)).toMatchObject({ status: d.status, units_done: d.partitions.length, units_total: d.partitions.length });
    }
  });

  it('LAKE_PROGRESS=tty forces the live display on a pipe: frames with escape codes on stderr, erased at the end, never on stdout', async () => {
    const r = await runCliProcess(['build-gold', '--marts', 'dim_team'], { env: env({ LAKE_PROGRESS: 'tty' }) });
    expect(r.code, describeChild(r)).toBe(0);
    expect(r.stdout).not.toContain(ESC);
    expect(r.stdout).toMatch(/gold\.dim_team +committed v0: the whole table \(new table\) · rows 32 · /);
    expect(r.stderr).toContain(`${ESC}[1mlake build-gold · 0/1 mart · `);
    expect(r.stderr).toMatch(new RegExp(`${ESC}\\[\\d+A\\r${ESC}\\[J$`));
    const [mart] = progressLines(newestLog(), 'item');
    expect(mart).toMatchObject({ mart: 'dim_team', build: 'gold.dim_team', status: 'committed', rows: 32, units_done: 1, units_total: 1 });
  });

  it('--progress off is silent on stderr; --progress rejects an unknown mode (exit 2)', async () => {
    const off = await runCliProcess(['update', '--datasets', 'teams', '--season', '2020', '--progress', 'off'], { env: env() });
    expect(off.code, describeChild(off)).toBe(0);
    expect(off.stderr).toBe('');
    expect(off.stdout).toMatch(/bronze\.teams\s+1 unchanged/);
    const bad = await runCliProcess(['update', '--datasets', 'teams', '--progress', 'loud'], { env: env() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--progress <mode>' argument 'loud' is invalid. Allowed choices are auto, tty, plain, off/);
  });

  it.skipIf(!existsSync(SCRIPT))('on a real terminal (script(1) gives the process a pty) the display appears by itself and NO_COLOR drops the bold', async () => {
    const command = [process.execPath, CLI_MAIN, 'update', '--datasets', 'teams', '--season', '2020', '--force'].map((a) => `'${a}'`).join(' ');
    const r = await new Promise<ChildResult>((resolve) => {
      const child = spawn(SCRIPT, ['-qec', command, '/dev/null'], { cwd: REPO_ROOT, env: { ...process.env, ...env({ NO_COLOR: '1', TERM: 'xterm' }) }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('close', (code, signal) => resolve({ id: 'script', code, signal, stdout, stderr }));
    });
    expect(r.code, describeChild(r)).toBe(0);
    expect(r.stdout).toContain('lake update · 0/1 dataset · 0/1 file · ');
    expect(r.stdout).toContain(`${ESC}[J`);
    expect(r.stdout).not.toContain(`${ESC}[1m`);
    expect(r.stdout).toMatch(/bronze\.teams\s+committed v\d+: \+36 rows from 1 file/);
  });
});
