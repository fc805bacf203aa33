// Scale benchmark floor for bronze (issue 13): raw DuckDB reads the same upstream files the
// bootstrap fetched (from the generated release folder) and writes each once as zstd Parquet,
// partitioned by the dataset's bronze partition columns present in the file — no Delta log, no
// download, no hashing, no stamps, no schema checks. DuckDB's default settings (no memory limit).
//   node scale-floor-bronze.js <releaseDir> <outDir> <from> <to> <today>
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadCatalog, planDataset } from '../../../dist/pipeline/index.js';
import { args, emit } from './emit.js';

const [releaseDir, outDir, from, to, today] = args(5, 'scale-floor-bronze.js <releaseDir> <outDir> <from> <to> <today>');
const catalog = loadCatalog();
const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
const q = (s) => `'${s.replace(/'/g, "''")}'`;
const started = performance.now();
let files = 0;
let rows = 0;
for (const def of catalog.datasets.filter((d) => d.enabled)) {
  const plan = planDataset(def, '', { from: Number(from), to: Number(to) }, new Date(`${today}T12:00:00Z`));
  let n = 0;
  for (const asset of plan.assets) {
    const file = path.join(releaseDir, asset.key);
    if (!existsSync(file)) continue; // not published at this state (404 upstream; the bootstrap skips it too)
    const reader = asset.format === 'parquet' ? `read_parquet(${q(file)})` : `read_csv(${q(file)}, nullstr = ['NA', ''], sample_size = -1)`;
    const columns = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${reader}`)).getRowObjectsJS().map((r) => r.column_name);
    const parts = def.partitions.filter((c) => columns.includes(c));
    const target = path.join(outDir, def.name);
    mkdirSync(target, { recursive: true });
    const to = parts.length > 0 ? q(target) : q(path.join(target, `part-${n++}.parquet`));
    const options = ['FORMAT parquet', 'COMPRESSION zstd', 'RETURN_STATS', ...(parts.length > 0 ? [`PARTITION_BY (${parts.map((c) => `"${c}"`).join(', ')})`, 'APPEND'] : [])];
    const stats = (await con.runAndReadAll(`COPY (SELECT * FROM ${reader}) TO ${to} (${options.join(', ')})`)).getRowObjectsJS();
    rows += stats.reduce((s, r) => s + Number(r.count), 0);
    files += 1;
  }
}
const ms = performance.now() - started;
con.closeSync();
instance.closeSync();
emit({ ms, files, rows });
