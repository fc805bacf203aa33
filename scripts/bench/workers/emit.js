// Workers print exactly one JSON result line on stdout, with their own peak RSS.
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
