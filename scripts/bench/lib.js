// Shared helpers of the benchmark driver: running one side of a benchmark in its own child
// process, reading its peak RSS, and small statistics.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

export const benchDir = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(benchDir, '..', '..');
export const python = process.env.BENCH_PYTHON ?? path.join(repoRoot, '.venv', 'bin', 'python');
const GNU_TIME = '/usr/bin/time';
export const hasGnuTime = existsSync(GNU_TIME);

/**
 * Before timing reads: flushes the dirty pages an earlier phase left (gigabytes after the write
 * benchmark, and its deleted tables), so that the kernel does not write them back on the same
 * cores while the reads are timed, then lets the machine idle for `pauseMs`. Both sides of a
 * comparison gain alike; the rounds only vary less. `sync` missing (not Unix): the pause alone.
 */
export async function settle(pauseMs = 2_000) {
  spawnSync('sync', { stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, pauseMs));
}

/** A worker script under scripts/bench/workers/ as a command line. */
export function worker(name, ...args) {
  const file = path.join(benchDir, 'workers', name);
  return name.endsWith('.py') ? [python, file, ...args.map(String)] : [process.execPath, file, ...args.map(String)];
}

function parseGnuTime(text) {
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
  return rss ? Number(rss[1]) : undefined;
}

/**
 * Runs one worker in its own process and returns the JSON object it printed last on stdout,
 * plus `peakRssKb` (from `/usr/bin/time -v` when present, else the worker's own getrusage
 * figure `selfMaxRssKb`) and `wallMs` (process start to exit, as seen by the driver).
 */
export async function runWorker(argv, { env = {}, label = argv[1] } = {}) {
  const command = hasGnuTime ? [GNU_TIME, '-v', ...argv] : argv;
  const started = performance.now();
  const { code, stdout, stderr } = await new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
  });
  const wallMs = performance.now() - started;
  if (code !== 0) throw new Error(`bench worker ${path.basename(label)} failed (exit ${code}):\n${stderr.slice(-4000)}`);
  const last = stdout.trim().split('\n').at(-1) ?? '';
  let result;
  try {
    result = JSON.parse(last);
  } catch {
    throw new Error(`bench worker ${path.basename(label)} printed no JSON result:\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`);
  }
  const peakRssKb = parseGnuTime(stderr) ?? result.selfMaxRssKb;
  return { ...result, peakRssKb, wallMs };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Runs `reps` rounds; in each round every side runs once, in rotating order, each in a fresh process. */
export async function interleave(reps, sides, progress = () => {}) {
  const runs = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  const names = Object.keys(sides);
  for (let r = 0; r < reps; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]);
    for (const name of order) {
      const result = await sides[name](r);
      runs[name].push(result);
      progress(name, r, result);
    }
  }
  return runs;
}

/** Median of `field` and the largest peak RSS over the runs of one side. */
export function summarize(runs, field = 'ms') {
  return {
    ms: median(runs.map((r) => r[field])),
    cpuMs: runs.every((r) => typeof r.cpuMs === 'number') ? median(runs.map((r) => r.cpuMs)) : undefined,
    minMs: Math.min(...runs.map((r) => r[field])),
    maxMs: Math.max(...runs.map((r) => r[field])),
    peakRssKb: Math.max(...runs.map((r) => r.peakRssKb ?? 0)),
    runs: runs.length,
  };
}

/**
 * The ratio of two sides measured in the same interleaved rounds (`interleave`), round by round:
 * `a[i][field] / b[i][field]` for each round i, then their median and quartiles. Pairing cancels
 * what changes between rounds (other load on a shared machine), which a ratio of the two sides'
 * medians does not; both are reported. `within` is how many rounds had a ratio ≤ `limit`.
 */
export function pairedRatio(a, b, { field = 'ms', limit } = {}) {
  const n = Math.min(a.length, b.length);
  const ratios = Array.from({ length: n }, (_, i) => a[i][field] / b[i][field]).sort((x, y) => x - y);
  const at = (q) => {
    const pos = (n - 1) * q;
    const lo = Math.floor(pos);
    return ratios[lo] + (ratios[Math.min(lo + 1, n - 1)] - ratios[lo]) * (pos - lo);
  };
  return { median: at(0.5), q1: at(0.25), q3: at(0.75), rounds: n, ...(limit === undefined ? {} : { within: ratios.filter((r) => r <= limit).length }) };
}

/** `pairedRatio` as text: `0.98× (IQR 0.91–1.07; 8 of 11 rounds ≤ 1.05×)`. */
export function pairedText(p, limit) {
  const x = (v) => `${v.toFixed(2)}×`;
  return `${x(p.median)} (IQR ${x(p.q1)}–${x(p.q3)}${p.within === undefined ? '' : `; ${p.within} of ${p.rounds} rounds ≤ ${x(limit)}`})`;
}

export function log(message) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

const MARKED = /<!-- ([a-z][a-z0-9-]*):begin -->[\s\S]*?<!-- \1:end -->\n?/g;

/**
 * The `<!-- name:begin -->…<!-- name:end -->` blocks of a BENCHMARKS.md text, in order. Each
 * bench script owns its named block and rewrites only that; a full `npm run bench` rewrites the
 * rest of the file and keeps every block that is not its own.
 */
export function markedBlocks(text) {
  return [...text.matchAll(MARKED)].map((m) => ({ name: m[1], text: m[0].endsWith('\n') ? m[0] : `${m[0]}\n` }));
}

/** `text` with the block `name` replaced by `block` (which must carry its own markers), or `block` appended when there was none. */
export function replaceMarkedBlock(text, name, block) {
  const own = new RegExp(`<!-- ${name}:begin -->[\\s\\S]*?<!-- ${name}:end -->\\n?`);
  const body = block.endsWith('\n') ? block : `${block}\n`;
  return own.test(text) ? text.replace(own, () => body) : `${text.trimEnd()}\n\n${body}`;
}
