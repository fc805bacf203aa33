import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliError, describeChild, jsonLines, requireBuild, runCliProcess, type ChildResult } from '../helpers/child.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { tempDirs } from '../helpers/temp-dir.js';

/**
 * The whole demo pipeline (bootstrap from the local sample upstream → bronze, promote → silver,
 * build-gold, a stat correction, time travel, history, duckdb views, report) with the lake on S3
 * (a real moto server), against the same pipeline on local disk: every table holds the same rows.
 * Then time travel, diff, rollback, restore, vacuum, optimize and `lake duckdb` views on the S3 lake.
 */
const dirs = tempDirs('s3-pipeline');
let server: S3TestServer;
let tmp: string;
beforeAll(async () => {
  requireBuild();
  server = await startS3Server();
  tmp = await dirs.make('tmp');
});
afterAll(async () => {
  await server?.stop();
  await dirs.cleanup();
});

const s3Root = (): string => server.url('demo');
const s3Env = (): Record<string, string> => ({ ...server.env, LAKE_ROOT: s3Root(), LAKE_READER: 'native', LAKE_TEMP_DIR: tmp });

function ok(r: ChildResult): ChildResult {
  expect(r.code, describeChild(r)).toBe(0);
  return r;
}

async function sql(env: Record<string, string>, query: string): Promise<Record<string, unknown>[]> {
  return jsonLines(ok(await runCliProcess(['sql', query, '--format', 'json'], { env })).stdout);
}

const TABLES_SQL = (tables: string[]): string => tables.map((t) => `SELECT '${t}' AS t, count(*)::BIGINT AS n FROM ${t}`).join(' UNION ALL ') + ' ORDER BY t';

describe('the demo pipeline with the lake on S3', () => {
  it('gives the same tables and rows as on local disk; time travel, diff, rollback, restore, vacuum, optimize and the duckdb views work there', async () => {
    const localDir = await dirs.make('local');
    const localEnv = { LAKE_READER: 'native', LAKE_ROOT: `${localDir}/tables` };
    ok(await runCliProcess(['demo', '--root', localDir], { env: localEnv }));
    const demo = ok(await runCliProcess(['demo'], { env: s3Env() }));
    expect(demo.stdout).toContain(`Lake root: ${s3Root()}`);

    const list = (env: Record<string, string>): Promise<string[]> =>
      runCliProcess(['doctor', '--json'], { env }).then((r) => (JSON.parse(ok(r).stdout) as { tables: { table: string; ok: boolean }[] }).tables.map((t) => (expect(t.ok, t.table).toBe(true), t.table)));
    const tables = await list(s3Env());
    expect(tables).toEqual(await list(localEnv));
    expect(tables.length).toBeGreaterThanOrEqual(20);
    expect(await sql(s3Env(), TABLES_SQL(tables))).toEqual(await sql(localEnv, TABLES_SQL(tables)));

    // Sums of measures through every layer.
    const sums = "SELECT (SELECT round(sum(epa), 6) FROM silver.pbp) AS epa, (SELECT round(sum(off_epa_per_play), 6) FROM gold.fact_team_week) AS team_epa, (SELECT sum(receiving_yards) FROM gold.fact_player_week) AS rec";
    const s3Sums = await sql(s3Env(), sums);
    expect(s3Sums).toEqual(await sql(localEnv, sums));
    expect(s3Sums[0]!['epa']).not.toBeNull();

    // Time travel: the stat correction changed one team-week of gold.fact_team_week at version 1.
    const changed = "SELECT now.team FROM gold.fact_team_week AS now JOIN gold.fact_team_week AT (VERSION => 0) AS old USING (season, week, team) WHERE round(old.off_epa_per_play, 6) IS DISTINCT FROM round(now.off_epa_per_play, 6)";
    expect(await sql(s3Env(), changed)).toEqual([{ team: 'KC' }]);

    // lake diff on S3 finds exactly what it finds on local disk (the corrected team-weeks).
    const diffArgs = ['diff', 'gold.fact_team_week', '--from', '0', '--to', '1', '--json'];
    const s3Diff = JSON.parse(ok(await runCliProcess(diffArgs, { env: s3Env() })).stdout) as { changed: number };
    expect(s3Diff.changed).toBeGreaterThan(0);
    expect(s3Diff).toEqual(JSON.parse(ok(await runCliProcess(diffArgs, { env: localEnv })).stdout));

    // lake optimize on S3 compacts bronze.pbp's two batches as it does on local disk, rows unchanged;
    // a second run finds nothing to do. (Its commit sits on top of the correction run, hence
    // rollback --force below.)
    type Optimized = { table: string; status: string; numFilesAdded: number; numFilesRemoved: number; partitionsOptimized: number };
    const optimize = async (env: Record<string, string>): Promise<Optimized[]> =>
      (JSON.parse(ok(await runCliProcess(['optimize', 'bronze.pbp', '--json'], { env })).stdout) as Optimized[]).map(({ table, status, numFilesAdded, numFilesRemoved, partitionsOptimized }) => ({ table, status, numFilesAdded, numFilesRemoved, partitionsOptimized }));
    const pbpRows = 'SELECT count(*)::BIGINT AS n, round(sum(epa), 6) AS epa FROM bronze.pbp';
    const pbpBefore = await sql(s3Env(), pbpRows);
    const s3Optimized = await optimize(s3Env());
    expect(s3Optimized[0]).toMatchObject({ status: 'committed' });
    expect(s3Optimized[0]!.numFilesRemoved).toBeGreaterThan(s3Optimized[0]!.numFilesAdded);
    expect(s3Optimized).toEqual(await optimize(localEnv));
    expect(await sql(s3Env(), pbpRows)).toEqual(pbpBefore);
    expect((await optimize(s3Env()))[0]).toMatchObject({ status: 'noop' });

    // Roll back the stat correction's run (restores, one per table it committed to), then restore its
    // version again, then vacuum everything with no retention: the latest versions still read.
    const v0 = await sql(s3Env(), 'SELECT round(sum(off_epa_per_play), 6) AS s FROM gold.fact_team_week AT (VERSION => 0)');
    const v1 = await sql(s3Env(), 'SELECT round(sum(off_epa_per_play), 6) AS s FROM gold.fact_team_week AT (VERSION => 1)');
    expect(v1).not.toEqual(v0);
    const history = JSON.parse(ok(await runCliProcess(['history', 'gold.fact_team_week', '--json'], { env: s3Env() })).stdout) as unknown;
    const runId = JSON.stringify(history).match(/"runId":"([^"]+)"/)![1]!;
    ok(await runCliProcess(['rollback', '--run', runId, '--force'], { env: s3Env() }));
    expect(await sql(s3Env(), 'SELECT round(sum(off_epa_per_play), 6) AS s FROM gold.fact_team_week')).toEqual(v0);
    ok(await runCliProcess(['restore', 'gold.fact_team_week', '--version', '1'], { env: s3Env() }));
    expect(await sql(s3Env(), 'SELECT round(sum(off_epa_per_play), 6) AS s FROM gold.fact_team_week')).toEqual(v1);
    const beforeVacuum = await sql(s3Env(), TABLES_SQL(tables));
    const vacuum = JSON.parse(ok(await runCliProcess(['vacuum', '--retain-hours', '0', '--force', '--json'], { env: s3Env() })).stdout) as { table: string; filesDeleted: number; ignored: unknown[] }[];
    expect(vacuum.map((v) => v.table)).toEqual(tables);
    expect(vacuum.find((v) => v.table === 'silver.pbp')!.filesDeleted).toBeGreaterThan(0);
    expect(vacuum.flatMap((v) => v.ignored)).toEqual([]);
    expect(await sql(s3Env(), TABLES_SQL(tables))).toEqual(beforeVacuum);
    expect(await sql(s3Env(), 'SELECT round(sum(off_epa_per_play), 6) AS s FROM gold.fact_team_week')).toEqual(v1);
    // silver.pbp's version 1 (the correction, rolled back) lost its files to the vacuum.
    const gone = await runCliProcess(['sql', 'SELECT count(*) FROM silver.pbp AT (VERSION => 1)', '--json'], { env: s3Env() });
    expect(cliError(gone).code).toBe('DATA_FILE_MISSING');

    // lake duckdb: the views read S3 from a stock DuckDB once httpfs and a secret are set up.
    const viewsFile = `${tmp}/views.duckdb`;
    const views = ok(await runCliProcess(['duckdb', '--out', viewsFile], { env: s3Env() })).stdout;
    expect(views).toContain('LOAD httpfs');
    const instance = await DuckDBInstance.create(viewsFile);
    const connection = await instance.connect();
    try {
      const endpoint = new URL(server.endpoint);
      await connection.run(`LOAD httpfs; CREATE SECRET (TYPE s3, KEY_ID '${server.env['AWS_ACCESS_KEY_ID']}', SECRET '${server.env['AWS_SECRET_ACCESS_KEY']}', REGION '${server.env['AWS_REGION']}', ENDPOINT '${endpoint.host}', URL_STYLE 'path', USE_SSL false)`);
      const counted = (await connection.runAndReadAll(TABLES_SQL(tables))).getRowObjectsJson();
      expect(counted).toEqual(beforeVacuum.map((r) => ({ t: r['t'], n: String(r['n']) })));
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  }, 400_000);
});
