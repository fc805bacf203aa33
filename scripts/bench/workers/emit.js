// Workers print exactly one JSON result line on stdout, with their own peak RSS.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

export function emit(result) {
  process.stdout.write(`${JSON.stringify({ ...result, selfMaxRssKb: process.resourceUsage().maxRSS })}\n`);
}

/** Positional arguments after the script name. */
export function args(count, usage) {
  const values = process.argv.slice(2);
  if (values.length < count) {
    process.stderr.write(`usage: ${usage}\n`);
    process.exit(2);
  }
  return values;
}

/** CPU time (user + system, all threads of this process) since `start` = process.cpuUsage(), in ms. */
export function cpuMsSince(start) {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

/**
 * CPU time of the process's main thread in ms (Linux: /proc/self/task/<pid>/schedstat, in ns), or
 * undefined elsewhere. On a shared machine it moves far less than wall time: the JavaScript side
 * of a query, apart from the engine's own threads.
 */
export function mainThreadCpuMs() {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return undefined;
  }
}

/**
 * Warm timing: `run` once untimed, then `n` timed runs in the same process. Returns the median
 * wall and CPU ms of the timed runs and the last result.
 */
export async function warmRuns(n, run) {
  let last = await run();
  const walls = [];
  const cpus = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    last = await run();
    walls.push(performance.now() - started);
    cpus.push(cpuMsSince(cpu));
  }
  const mid = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { ms: mid(walls), cpuMs: mid(cpus), last };
}
