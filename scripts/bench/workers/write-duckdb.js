// Write benchmark, baseline: raw DuckDB `COPY … (FORMAT parquet, COMPRESSION zstd,
// PARTITION_BY (season))` of the staging rows, no Delta log.
//   node write-duckdb.js <outDir> <staging.parquet>
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { DuckDBInstance } from '@duckdb/node-api';
import { args, cpuMsSince, emit } from './emit.js';

const [outDir, staging] = args(2, 'write-duckdb.js <outDir> <staging.parquet>');
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const started = performance.now();
const cpu = process.cpuUsage();
await connection.run(
  `COPY (SELECT * FROM read_parquet('${staging.replace(/'/g, "''")}')) TO '${outDir.replace(/'/g, "''")}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (season))`,
);
const ms = performance.now() - started;
const cpuMs = cpuMsSince(cpu);
const files = readdirSync(outDir, { recursive: true }).filter((f) => String(f).endsWith('.parquet'));
const bytes = files.reduce((n, f) => n + statSync(path.join(outDir, String(f))).size, 0);
emit({ ms, cpuMs, files: files.length, bytes });
