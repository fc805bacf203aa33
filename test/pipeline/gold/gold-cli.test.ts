import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeChild, requireBuild, runCliProcess } from '../../helpers/child.js';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';

/** `lake build-gold` and `lake update --build-gold` as real processes of the built CLI, against the local upstream. */
let server: UpstreamServer;
let dir: string;

function env(): Record<string, string> {
  return { LAKE_ROOT: path.join(dir, 'tables'), LAKE_RAW_DIR: path.join(dir, 'raw'), LAKE_LOGS_DIR: path.join(dir, 'logs'), LAKE_CATALOG: 'catalog/datasets.yml', ...server.env() };
}

beforeAll(async () => {
  requireBuild();
  server = await startUpstreamServer();
  dir = mkdtempSync(path.join(tmpdir(), 'gold-cli-'));
});
afterAll(async () => {
  await server.close();
  if (!process.env['KEEP_TEST_DIRS']) rmSync(dir, { recursive: true, force: true });
});

describe('lake build-gold (real processes, built dist/)', () => {
  it('lake update --build-gold: ingest, then promote and build-gold under one run id; a second run commits nothing anywhere', async () => {
    const args = ['update', '--datasets', 'pbp,schedules,teams', '--season', '2020', '--build-gold'];
    const first = await runCliProcess(args, { env: env() });
    expect(first.code, describeChild(first)).toBe(0);
    expect(first.stdout).toMatch(/^run \d{8}T\d{6}Z-[0-9a-f]{6} \(lake update\)$/m);
    const promoteRun = /^run (\S+) \(lake promote\)$/m.exec(first.stdout)?.[1];
    expect(promoteRun, first.stdout).toBeDefined();
    expect(first.stdout).toContain(`run ${promoteRun} (lake build-gold)`);
    expect(first.stdout).toMatch(/^ {2}gold\.fact_team_week +committed v0: all seasons \(new table\) · rows 1,172 · /m);
    expect(first.stdout).toMatch(/^ {2}gold\.dim_team +committed v0: the whole table \(new table\) · rows 32 · /m);
    expect(first.stdout).toMatch(/not loaded yet \(read as empty\): silver\.scoring_lines, silver\.officials/);

    const history = await runCliProcess(['history', 'gold.fact_team_week', '--json'], { env: env() });
    expect(JSON.parse(history.stdout)[0]).toMatchObject({ version: 0, runId: promoteRun });

    const second = await runCliProcess([...args, '--json'], { env: env() });
    expect(second.code, describeChild(second)).toBe(0);
    const tail = JSON.parse(second.stdout.trim().split('\n').pop()!) as { promote: { commits: number }; build_gold: { commits: number; marts: { status: string }[] } };
    expect(tail.promote.commits).toBe(0);
    expect(tail.build_gold.commits).toBe(0);
    expect(new Set(tail.build_gold.marts.map((m) => m.status))).toEqual(new Set(['unchanged']));
  });

  it('lake build-gold: --dry-run plans nothing new, --json is the typed result, an unknown mart is exit 2', async () => {
    const plan = await runCliProcess(['build-gold', '--dry-run'], { env: env() });
    expect(plan.code, describeChild(plan)).toBe(0);
    expect(plan.stdout).toMatch(/^plan for lake build-gold \(dry run: nothing is written\)/);
    expect(plan.stdout).toMatch(/^ {2}gold\.fact_game +unchanged: no source commit since the last build \(reads gold\.dim_game@0, silver\.schedules@0, silver\.pbp@0\)$/m);

    const full = await runCliProcess(['build-gold', '--marts', 'fact_game,dim_team', '--full', '--json'], { env: env() });
    expect(full.code, describeChild(full)).toBe(0);
    const result = JSON.parse(full.stdout) as { commits: number; marts: { mart: string; status: string; reason: string; version: number }[] };
    expect(result.marts.map((m) => [m.mart, m.status, m.reason, m.version])).toEqual([
      ['fact_game', 'committed', '--full', 1],
      ['dim_team', 'committed', '--full', 1],
    ]);

    const bad = await runCliProcess(['build-gold', '--marts', 'fact_nope'], { env: env() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error \[USAGE\]: unknown mart fact_nope .*\nhint: Marts: dim_game, fact_game, fact_team_week, fact_player_week, dim_player, dim_team\n$/);
  });

  it('lake sql --file runs a ready-to-run query, and --dictionary prints the data dictionary', async () => {
    const query = await runCliProcess(['sql', '--file', 'sql/queries/team_epa_rankings.sql', '--format', 'csv'], { env: env() });
    expect(query.code, describeChild(query)).toBe(0);
    expect(query.stdout.split('\n')[0]).toBe('season,team,division,games,off_epa_per_play,off_rank,def_epa_per_play,def_rank,net_epa_per_play,off_success_rate,def_success_rate');
    expect(query.stdout.trim().split('\n')).toHaveLength(33);
    const dictionary = await runCliProcess(['build-gold', '--dictionary'], { env: env() });
    expect(dictionary.code, describeChild(dictionary)).toBe(0);
    expect(dictionary.stdout).toMatch(/^# Gold data dictionary\n/);
    expect(dictionary.stdout).toContain('| `off_epa_per_play` | DOUBLE | Mean EPA of the offensive plays. |');
  });
});
