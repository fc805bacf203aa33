// Time-travel benchmark, baseline: the same aggregate in plain DuckDB over exactly the data
// files of that version, `read_parquet([…])` (the list comes from <files.json>). Timed up to the
// rows as JS values, as `runQuery` returns them. With --warm <n>, the query runs once untimed, then
// <n> times timed in the same process (medians reported).
//   node travel-duckdb.js <files.json> [--warm <n>]
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { DuckDBInstance } from '@duckdb/node-api';
import { args, cpuMsSince, emit, mainThreadCpuMs, warmRuns } from './emit.js';

const [filesJson] = args(1, 'travel-duckdb.js <files.json>');
const files = JSON.parse(readFileSync(filesJson, 'utf8'));
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const list = files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
const sql = `SELECT count(*)::BIGINT AS n, sum(epa) AS s FROM read_parquet([${list}])`;
const warmAt = process.argv.indexOf('--warm');
if (warmAt > 0) {
  const { ms, cpuMs, last } = await warmRuns(Number(process.argv[warmAt + 1]), async () => (await connection.runAndReadAll(sql)).getRowsJS());
  const [n, s] = last[0];
  emit({ ms, cpuMs, count: Number(n), sum: Number(s), filesRead: files.length, warm: true });
} else {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const mainCpu = mainThreadCpuMs();
  const rows = (await connection.runAndReadAll(sql)).getRowsJS();
  const ms = performance.now() - started;
  const cpuMs = cpuMsSince(cpu);
  const mainCpuMs = mainCpu === undefined ? undefined : mainThreadCpuMs() - mainCpu;
  const [n, s] = rows[0];
  emit({ ms, cpuMs, mainCpuMs, count: Number(n), sum: Number(s), filesRead: files.length });
}
