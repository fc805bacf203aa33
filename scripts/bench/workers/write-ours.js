// Write benchmark, our side: one `writeTable` commit (mode overwrite, partitioned by season)
// into a fresh Delta table, reading the staging Parquet file.
//   node write-ours.js <tableRoot> <staging.parquet>
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { openLake, writeTable } from '../../../dist/table/index.js';
import { args, cpuMsSince, emit } from './emit.js';

const [tableRoot, staging] = args(2, 'write-ours.js <tableRoot> <staging.parquet>');
const lake = await openLake({ root: tableRoot });
const started = performance.now();
const cpu = process.cpuUsage();
const result = await writeTable(lake, {
  table: { name: tableRoot, tableRoot },
  source: `SELECT * FROM read_parquet('${staging.replace(/'/g, "''")}')`,
  mode: 'overwrite',
  partitionBy: ['season'],
});
const ms = performance.now() - started;
const cpuMs = cpuMsSince(cpu);
lake.close();
if (result.status !== 'committed') throw new Error(`write skipped: ${result.reason}`);
emit({ ms, cpuMs, version: result.version, files: result.filesAdded, rows: result.rowsAdded, bytes: result.bytesAdded });
