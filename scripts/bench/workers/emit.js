// Workers print exactly one JSON result line on stdout, with their own peak RSS.
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
