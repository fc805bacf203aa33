// Setup for the promote benchmark (not itself the measured step): appends pbp-shaped rows,
// stamped like bronze rows, to <lakeRoot>/bronze/pbp with one `writeTable` commit (partitioned
// by season). Values the pbp quality gates check (season_type, week, down, qtr, team codes)
// are overridden with valid ones so the gates pass on the synthetic data.
//   node promote-bronze.js <lakeRoot> <firstSeasonIndex> <seasons> <rowsPerSeason> <runId> <ingestedAtIso>
import { performance } from 'node:perf_hooks';
import { PIPELINE_VERSION } from '../../../dist/core/index.js';
import { openLake, resolveTable, writeTable } from '../../../dist/table/index.js';
import { FIRST_SEASON, generatorSql, pbpColumns } from '../pbp-schema.js';
import { args, emit } from './emit.js';

const [lakeRoot, firstIndex, seasons, rowsPerSeason, runId, ingestedAt] = args(6, 'promote-bronze.js <lakeRoot> <firstSeasonIndex> <seasons> <rowsPerSeason> <runId> <ingestedAtIso>');
const rows = Number(rowsPerSeason);
const start = Number(firstIndex) * rows;
const end = start + Number(seasons) * rows;
const q = (s) => `'${s.replace(/'/g, "''")}'`;
const teams = `['ARI','ATL','BAL','BUF','CAR','CHI','CIN','CLE','DAL','DEN','DET','GB','HOU','IND','JAX','KC']`;
const team = (salt) => `${teams}[1 + (hash(game_id, play_id, ${salt}) % 16)::INTEGER]`;
// generatorSql ranges over 0..seasons×rows from FIRST_SEASON; shift the range to the seasons wanted.
const generated = generatorSql(pbpColumns(), { seasons: Number(seasons), rowsPerSeason: rows }).replace(/range\(0, \d+\)/, `range(${start}, ${end})`);
const source = `SELECT * REPLACE (
    CASE WHEN play_id::BIGINT % 17 = 0 THEN 'POST' ELSE 'REG' END AS season_type,
    (1 + play_id::BIGINT % 22)::INTEGER AS week,
    CASE WHEN play_id::BIGINT % 5 = 0 THEN NULL ELSE (1 + play_id::BIGINT % 4)::DOUBLE END AS down,
    (1 + play_id::BIGINT % 5)::DOUBLE AS qtr,
    ${team(1)} AS home_team, ${team(2)} AS away_team, ${team(3)} AS posteam, ${team(4)} AS defteam),
  'https://github.com/nflverse/nflverse-data/releases/download/pbp/play_by_play_' || season || '.parquet' AS source,
  CAST(${q(ingestedAt)} AS TIMESTAMPTZ) AS ingested_at,
  ${q(PIPELINE_VERSION)} AS pipeline_version,
  ${q(ingestedAt)} AS upstream_version,
  ${q(runId)} AS run_id
FROM (${generated})`;
const lake = await openLake({ root: lakeRoot });
const started = performance.now();
const result = await writeTable(lake, { table: resolveTable(lake, 'bronze.pbp'), source, mode: 'append', partitionBy: ['season'] });
const ms = performance.now() - started;
lake.close();
if (result.status !== 'committed') throw new Error(`write skipped: ${result.reason}`);
emit({ ms, version: result.version, files: result.filesAdded, rows: result.rowsAdded, bytes: result.bytesAdded, firstSeason: FIRST_SEASON + Number(firstIndex) });
