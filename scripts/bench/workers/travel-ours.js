// Time-travel benchmark, our side: count(*) and sum(epa) of an old version through `runQuery`
// with `delta_scan('<path>', version => n)` (snapshot load + scan + aggregate). With --profile,
// the same query is split into `prepareQuery` (snapshot, pruning, view) and DuckDB execution.
// With --warm <n>, the query runs once untimed, then <n> times timed in the same process (the
// lake's read cache warm); ms and cpuMs are the medians of those. With --first-read, the lake's
// folder of prepared queries (src/table/prepared-cache.ts) is emptied first, so the process
// replays the log and plans the scan itself.
//   node travel-ours.js <tableRoot> <version> [--profile | --warm <n> | --first-read]
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
// A read-only process imports the table room's read side (src/table/read.ts), not every writer.
import { openLake, prepareQuery, runQuery, tableSnapshot } from '../../../dist/table/read.js';
import { args, cpuMsSince, emit, mainThreadCpuMs, warmRuns } from './emit.js';

const [tableRoot, version] = args(2, 'travel-ours.js <tableRoot> <version> [--profile]');
const lake = await openLake({ root: tableRoot });
if (process.argv.includes('--first-read') && lake.queryCache) rmSync(lake.queryCache, { recursive: true, force: true });
const sql = `SELECT count(*)::BIGINT AS n, sum(epa) AS s FROM delta_scan('${tableRoot.replace(/'/g, "''")}', version => ${Number(version)})`;
const reader = process.env.LAKE_READER ?? 'auto';
const warmAt = process.argv.indexOf('--warm');
if (warmAt > 0) {
  const { ms, cpuMs, last } = await warmRuns(Number(process.argv[warmAt + 1]), () => runQuery(lake, sql));
  lake.close();
  const [n, s] = last.rows[0];
  emit({ ms, cpuMs, count: Number(n), sum: Number(s), filesRead: last.views[0]?.filesRead, reader, warm: true });
} else if (!process.argv.includes('--profile')) {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const mainCpu = mainThreadCpuMs();
  const result = await runQuery(lake, sql);
  const ms = performance.now() - started;
  const cpuMs = cpuMsSince(cpu);
  const mainCpuMs = mainCpu === undefined ? undefined : mainThreadCpuMs() - mainCpu;
  lake.close();
  const [n, s] = result.rows[0];
  emit({ ms, cpuMs, mainCpuMs, count: Number(n), sum: Number(s), filesRead: result.views[0]?.filesRead, reader });
} else {
  const phases = {};
  const cpuPhases = {};
  let t = performance.now();
  let cpu = process.cpuUsage();
  const lap = (name) => {
    cpuPhases[name] = (cpuPhases[name] ?? 0) + cpuMsSince(cpu);
    cpu = process.cpuUsage();
    const now = performance.now();
    phases[name] = now - t;
    t = now;
  };
  await tableSnapshot(lake, { name: tableRoot, tableRoot }, { version: Number(version) });
  lap('snapshotAlone');
  const prepared = await prepareQuery(lake, sql);
  lap('prepareQuery');
  const result = await lake.engine.connection.runAndReadAll(prepared.sql);
  lap('execute');
  lake.close();
  const [n, s] = result.getRowsJS()[0];
  emit({ ms: phases.prepareQuery + phases.execute, phases, cpuPhases, count: Number(n), sum: Number(s), reader });
}
