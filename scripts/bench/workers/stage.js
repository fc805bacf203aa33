// Setup (not timed as a benchmark): generates the pbp-shaped rows in DuckDB SQL into one
// Parquet staging file, which every side of the write benchmark then reads.
//   node stage.js <out.parquet> <seasons> <rowsPerSeason>
import { performance } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';
import { generatorSql, pbpColumns } from '../pbp-schema.js';
import { args, emit } from './emit.js';

const [out, seasons, rowsPerSeason] = args(3, 'stage.js <out.parquet> <seasons> <rowsPerSeason>');
const columns = pbpColumns();
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const started = performance.now();
await connection.run(`COPY (${generatorSql(columns, { seasons: Number(seasons), rowsPerSeason: Number(rowsPerSeason) })}) TO '${out.replace(/'/g, "''")}' (FORMAT parquet, COMPRESSION zstd)`);
const ms = performance.now() - started;
const reader = await connection.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM read_parquet('${out.replace(/'/g, "''")}')`);
emit({ ms, rows: Number(reader.getRowsJS()[0][0]), columns: columns.length });
