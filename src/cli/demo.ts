import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LakeError } from '../core/index.js';
import { literal } from '../engine/index.js';
import { openLake, resolveTable, runQuery, tableHistory, writeTable } from '../lake/index.js';
import { renderRows } from './render.js';

/** The shipped sample (real nflverse extracts, CC-BY-4.0), found relative to the package. */
export function sampleDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dir = path.resolve(here, '..', '..', 'data', 'sample');
  if (!existsSync(dir)) throw new LakeError('USAGE', `the sample data folder ${dir} is missing`, { hint: 'Run the demo from a checkout of the repository.' });
  return dir;
}

/**
 * The Delta core on real data, offline: load week-1 2020 play-by-play into a partitioned table,
 * apply a "stat correction" as one atomic partition replace, then read both versions.
 */
export async function runDemo(options: { root?: string; out: (text: string) => void }): Promise<string> {
  const root = options.root ?? (await mkdtemp(path.join(tmpdir(), 'lake-demo-')));
  const lake = await openLake({ root });
  const out = options.out;
  try {
    const pbpFile = path.join(sampleDir(), 'pbp', 'play_by_play_2020_week01.parquet');
    const schedulesFile = path.join(sampleDir(), 'schedules', 'games_2023_2024.csv');
    out(`lake root: ${root}\n\n`);
    const pbp = resolveTable(lake, 'bronze.pbp');
    const created = await writeTable(lake, {
      table: pbp,
      source: `SELECT * REPLACE (CAST(season AS INTEGER) AS season, CAST(week AS INTEGER) AS week) FROM read_parquet(${literal(pbpFile)})`,
      mode: 'overwrite',
      partitionBy: ['season', 'week'],
      commitMetadata: { run_id: 'demo-1', upstream_version: 'sample' },
    });
    out(`1. bronze.pbp: version ${created.status === 'committed' ? created.version : '?'} from the real 2020 week-1 play-by-play (nflverse, CC-BY-4.0)\n`);
    const schedules = resolveTable(lake, 'bronze.schedules');
    await writeTable(lake, { table: schedules, source: `SELECT * REPLACE (CAST(gametime AS VARCHAR) AS gametime) FROM read_csv(${literal(schedulesFile)})`, mode: 'overwrite', partitionBy: ['season'] });
    out('2. bronze.schedules: 2023–2024 schedules, partitioned by season\n');

    const corrected = await writeTable(lake, {
      table: pbp,
      source: `SELECT * REPLACE (CASE WHEN play_id = (SELECT min(play_id) FROM bronze_pbp_v0 WHERE yards_gained > 20) THEN yards_gained + 1 ELSE yards_gained END AS yards_gained) FROM bronze_pbp_v0`.replace(
        /bronze_pbp_v0/g,
        `(SELECT * REPLACE (CAST(season AS INTEGER) AS season, CAST(week AS INTEGER) AS week) FROM read_parquet(${literal(pbpFile)}))`,
      ),
      mode: 'replace',
      operationParameters: { reason: 'stat correction' },
      commitMetadata: { run_id: 'demo-2', upstream_version: 'sample+correction' },
    });
    out(`3. a stat correction replaced partition season=2020/week=1 atomically: version ${corrected.status === 'committed' ? corrected.version : '?'}\n\n`);

    const query = `SELECT v0.posteam, sum(v0.yards_gained) AS yards_v0, sum(v1.yards_gained) AS yards_v1
      FROM bronze.pbp AT (VERSION => 0) v0 JOIN bronze.pbp AT (VERSION => 1) v1 USING (game_id, play_id)
      GROUP BY ALL HAVING sum(v0.yards_gained) <> sum(v1.yards_gained)`;
    const diff = await runQuery(lake, query);
    out(`4. time travel: the team whose yards changed between version 0 and 1\n${renderRows(diff.columns, diff.rows, 'table')}\n`);
    const top = await runQuery(lake, `SELECT posteam AS team, round(avg(epa), 3) AS epa_per_play, count(*) AS plays FROM bronze.pbp WHERE season = 2020 AND week = 1 AND play_type IN ('pass', 'run') GROUP BY ALL ORDER BY epa_per_play DESC LIMIT 5`);
    out(`5. best offenses of week 1, 2020 (EPA per play, partition-pruned read)\n${renderRows(top.columns, top.rows, 'table')}\n`);
    const history = await tableHistory(lake, pbp);
    out(`6. lake history bronze.pbp\n${renderRows(['version', 'operation', 'run_id', '+rows', '-rows'], history.map((h) => [h.version, h.operation, h.runId ?? '', h.rowsAdded ?? '?', h.rowsRemoved ?? '?']), 'table')}\n`);
    out(`Try it yourself: LAKE_ROOT=${root} lake sql "SELECT count(*) FROM bronze.pbp AT (VERSION => 0)"\n`);
    return root;
  } finally {
    lake.close();
  }
}
