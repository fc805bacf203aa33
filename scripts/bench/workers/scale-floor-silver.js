// Scale benchmark floor for silver (issue 13): raw DuckDB reads the bronze Parquet files the
// bootstrap wrote (every file is live after a bootstrap: bronze only appends) and writes, per
// dataset, the rows deduplicated the way the promote does (newest ingested_at per partition and
// key, or the newest batch per source without a key), once, as zstd Parquet partitioned the same
// way — no silver rule transforms, no quality gates, no Delta log. DuckDB's default settings.
//   node scale-floor-silver.js <lakeRoot> <outDir>
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadCatalog } from '../../../dist/pipeline/index.js';
import { args, emit } from './emit.js';

const [lakeRoot, outDir] = args(2, 'scale-floor-silver.js <lakeRoot> <outDir>');
const catalog = loadCatalog();
const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
const q = (s) => `'${s.replace(/'/g, "''")}'`;
const id = (s) => `"${s.replace(/"/g, '""')}"`;
mkdirSync(outDir, { recursive: true });
const started = performance.now();
let rows = 0;
let datasets = 0;
for (const def of catalog.datasets.filter((d) => d.enabled && d.silver?.enabled !== false)) {
  const bronze = path.join(lakeRoot, 'bronze', def.name);
  if (!existsSync(path.join(bronze, '_delta_log'))) continue;
  const source = `read_parquet(${q(`${bronze}/**/*.parquet`)}, hive_partitioning = true, union_by_name = true)`;
  const key = def.silver?.key ?? def.businessKey;
  const by = (extra) => [...new Set([...def.partitions, ...extra])].map(id).join(', ');
  const qualify = key.length > 0 && def.silver?.dedupe !== 'latest_batch'
    ? `row_number() OVER (PARTITION BY ${by(key)} ORDER BY ingested_at DESC) = 1`
    : `ingested_at = max(ingested_at) OVER (PARTITION BY ${by(['source'])})`;
  const target = path.join(outDir, def.name);
  const options = ['FORMAT parquet', 'COMPRESSION zstd', 'RETURN_STATS', ...(def.partitions.length > 0 ? [`PARTITION_BY (${def.partitions.map(id).join(', ')})`] : [])];
  const to = def.partitions.length > 0 ? q(target) : q(`${target}.parquet`);
  const stats = (await con.runAndReadAll(`COPY (SELECT * FROM ${source} QUALIFY ${qualify}) TO ${to} (${options.join(', ')})`)).getRowObjectsJS();
  rows += stats.reduce((s, r) => s + Number(r.count), 0);
  datasets += 1;
}
const ms = performance.now() - started;
con.closeSync();
instance.closeSync();
emit({ ms, datasets, rows });
