// Time-travel benchmark, baseline: the same aggregate in plain DuckDB over exactly the data
// files of that version, `read_parquet([…])` (the list comes from <files.json>). Timed up to the
// rows as JS values, as `runQuery` returns them. With --warm <n>, the query runs once untimed, then
// <n> times timed in the same process (medians reported). With --footer-cache, DuckDB keeps the
// files' Parquet footers between queries (`parquet_metadata_cache`, off by default; the lake's
// engines turn it on), so a warm baseline need not re-read them either.
//   node travel-duckdb.js <files.json> [--warm <n>] [--footer-cache]
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { DuckDBInstance } from '@duckdb/node-api';
import { args, cpuMsSince, emit, mainThreadCpuMs, warmRuns } from './emit.js';

const [filesJson] = args(1, 'travel-duckdb.js <files.json>');
const files = JSON.parse(readFileSync(filesJson, 'utf8'));
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
if (process.argv.includes('--footer-cache')) await connection.run('SET GLOBAL parquet_metadata_cache = true');
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
