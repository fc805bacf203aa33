import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog, startLocalUpstream, type LocalUpstream } from '../../../src/pipeline/index.js';
import { scanSql } from '../../../src/engine/index.js';
import { listLakeTables, resolveTable, runQuery, tableSnapshot } from '../../../src/table/index.js';
import { REPO_ROOT, requireBuild, runCliProcess, startNode, type ChildResult } from '../../helpers/child.js';
import { tempLake } from '../../helpers/temp-lake.js';
import { SAMPLE_DIR } from '../../helpers/upstream-server.js';

/**
 * The generated full-size upstream (scripts/scale/generate.mjs) at a tiny scale, served by the
 * local upstream server from its release folder: a real bootstrap of every enabled dataset, promote
 * and build-gold pass every gate; then evolution states (a Thursday-night game, the rest of the
 * week, the next Thursday's stat correction) flow through `lake update` and promote into silver.
 */
const GENERATE = path.join(REPO_ROOT, 'scripts/scale/generate.mjs');
const YEARS = '2020-2021,2025';
const temp = tempLake('generated-release', { beforeOpen: requireBuild });
let server: LocalUpstream;
let release: string;
let env: Record<string, string>;
let qualityDir: string;

async function generate(state: number): Promise<{ today: string; changed: string[] }> {
  const result = await startNode(GENERATE, ['--out', release, '--years', YEARS, '--scale', '0.02', '--state', String(state), '--threads', '1', '--json'], { id: `generate-${state}` }).done;
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as { today: string; changed: string[] };
}

async function lake(today: string, ...args: string[]): Promise<ChildResult> {
  const result = await runCliProcess(args, { env: { ...env, LAKE_TODAY: today } });
  expect(result.code, `lake ${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
  return result;
}

async function scalar(sql: string): Promise<number> {
  const result = await runQuery(temp.lake, sql);
  return Number(result.rows[0]![0]);
}

beforeAll(async () => {
  release = await temp.make('release');
  const work = await temp.make('work');
  server = await startLocalUpstream({ sampleDir: SAMPLE_DIR, scratchDir: await temp.make('scratch'), releaseDir: release });
  env = { ...server.env(), LAKE_ROOT: temp.root, LAKE_READER: 'native', LAKE_RAW_DIR: path.join(work, 'raw'), LAKE_LOGS_DIR: path.join(work, 'logs'), LAKE_MAX_WORKERS: '2' };
  qualityDir = path.join(work, 'quality');
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe('a generated nflverse release', () => {
  it('bootstraps every enabled dataset, passes every quality gate and builds every gold mart', async () => {
    const { today } = await generate(0);
    expect(today).toBe('2025-10-16');
    await lake(today, 'bootstrap', '--years', '2020-2021');
    await lake(today, 'bootstrap', '--years', '2025');
    await lake(today, 'promote', '--quality-dir', qualityDir);
    await lake(today, 'build-gold');

    const enabled = Object.values(loadCatalog(path.join(REPO_ROOT, 'catalog/datasets.yml')).datasets).filter((d) => d.enabled).map((d) => d.name);
    expect(enabled.length).toBeGreaterThan(20);
    const empty: string[] = [];
    for (const table of [...enabled.map((d) => `silver.${d}`), ...['dim_game', 'dim_player', 'dim_team', 'fact_game', 'fact_player_week', 'fact_team_week'].map((m) => `gold.${m}`)]) {
      if ((await scalar(`SELECT count(*) FROM ${table}`)) === 0) empty.push(table);
    }
    expect(empty).toEqual([]);
    // Ids join across datasets: every stat line's player is a known player, pbp games are scheduled games.
    expect(await scalar(`SELECT count(*) FROM silver.player_stats_weekly w ANTI JOIN silver.players p ON p.gsis_id = w.player_id`)).toBe(0);
    expect(await scalar(`SELECT count(*) FROM (SELECT DISTINCT game_id FROM silver.pbp) p ANTI JOIN silver.schedules s USING (game_id)`)).toBe(0);
    expect(await scalar(`SELECT count(*) FROM gold.fact_player_week WHERE offense_snaps IS NOT NULL`)).toBeGreaterThan(0);
  }, 150_000);

  it('replays evolution states: a new game, then a stat correction, reach silver through lake update', async () => {
    const games = (): Promise<number> => scalar(`SELECT count(DISTINCT game_id) FROM silver.pbp WHERE season = 2025`);
    const before = await games();
    // State 1 (Friday): Thursday night's game is in pbp, stats and schedules; nothing of 2020-2021 changed.
    const friday = await generate(1);
    expect(friday.changed).toContain('nflverse/pbp/play_by_play_2025.parquet');
    expect(friday.changed.filter((k) => /20(20|21)/.test(k))).toEqual([]);
    await lake(friday.today, 'update');
    await lake(friday.today, 'promote', '--quality-dir', qualityDir);
    expect(await games()).toBe(before + 1);
    expect(await scalar(`SELECT count(*) FROM silver.schedules WHERE season = 2025 AND week = 7 AND home_score IS NOT NULL`)).toBe(1);

    // State 6 (Wednesday): the rest of week 7 is in. State 7 (Thursday): only week 7's stat correction changes pbp.
    const wednesday = await generate(6);
    await lake(wednesday.today, 'update');
    await lake(wednesday.today, 'promote', '--quality-dir', qualityDir);
    const week7 = await scalar(`SELECT count(*) FROM silver.schedules WHERE season = 2025 AND week = 7`);
    expect(await games()).toBe(before + week7);
    const yards = `SELECT sum(yards_gained) FROM silver.pbp WHERE season = 2025 AND week = 7`;
    const uncorrected = await scalar(yards);
    const thursday = await generate(7);
    expect(thursday.today).toBe('2025-10-23');
    expect(thursday.changed).toContain('nflverse/pbp/play_by_play_2025.parquet');
    expect(thursday.changed).not.toContain('nflverse/schedules/games.parquet');
    await lake(thursday.today, 'update');
    await lake(thursday.today, 'promote', '--quality-dir', qualityDir);
    expect(await games()).toBe(before + week7);
    expect(await scalar(yards)).toBeGreaterThan(uncorrected);
  }, 150_000);

  it('after the replay, silver and gold equal a from-scratch lake of the final upstream state, row for row', async () => {
    const { today } = await generate(7);
    await lake(today, 'build-gold');
    const fresh = await temp.make('fresh');
    const freshEnv = { LAKE_ROOT: path.join(fresh, 'tables'), LAKE_RAW_DIR: path.join(fresh, 'raw'), LAKE_LOGS_DIR: path.join(fresh, 'logs') };
    const inFresh = (...args: string[]): Promise<ChildResult> => runCliProcess(args, { env: { ...env, ...freshEnv, LAKE_TODAY: today } });
    for (const args of [['bootstrap', '--years', '2020-2021'], ['bootstrap', '--years', '2025'], ['promote', '--quality-dir', qualityDir], ['build-gold']]) {
      const r = await inFresh(...args);
      expect(r.code, `fresh lake ${args.join(' ')}\n${r.stderr}`).toBe(0);
    }
    // Lineage stamps name the batch that last changed a row: they differ by design (an incremental
    // promote leaves unchanged partitions as they are); every other column must match.
    const stamps = new Set(['source', 'ingested_at', 'pipeline_version', 'upstream_version', 'run_id']);
    const other = { ...temp.lake, root: freshEnv.LAKE_ROOT };
    const names = (await listLakeTables(temp.lake)).filter((t) => t.layer !== 'bronze').map((t) => `${t.layer}.${t.dataset}`);
    expect(names.length).toBeGreaterThan(25);
    const differences: string[] = [];
    for (const name of names) {
      const [a, b] = [await tableSnapshot(temp.lake, resolveTable(temp.lake, name)), await tableSnapshot(other, resolveTable(other, name))];
      const cols = a.schema.fields.map((f) => f.name).filter((c) => !stamps.has(c));
      expect(b.schema.fields.map((f) => f.name).filter((c) => !stamps.has(c)).sort(), name).toEqual([...cols].sort());
      const list = cols.map((c) => `"${c}"`).join(', ');
      const [qa, qb] = [`SELECT ${list} FROM (${await scanSql(temp.lake.engine, a)})`, `SELECT ${list} FROM (${await scanSql(temp.lake.engine, b)})`];
      const rows = await temp.lake.engine.rows<{ n: bigint; only_a: bigint; only_b: bigint }>(
        `SELECT (SELECT count(*) FROM (${qa})) AS n, (SELECT count(*) FROM (${qa} EXCEPT ALL ${qb})) AS only_a, (SELECT count(*) FROM (${qb} EXCEPT ALL ${qa})) AS only_b`,
      );
      const { n, only_a, only_b } = rows[0]!;
      if (Number(n) === 0 || Number(only_a) !== 0 || Number(only_b) !== 0) differences.push(`${name}: ${n} rows, ${only_a} only replayed, ${only_b} only from scratch`);
    }
    expect(differences).toEqual([]);
  }, 240_000);
});
