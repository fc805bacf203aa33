import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLocalUpstream, type LocalUpstream } from '../../src/pipeline/index.js';
import { REPO_ROOT } from './child.js';

/**
 * The local upstream (src/pipeline/upstream/local-server.ts) over the shipped sample
 * (data/sample/), with its own scratch folder, plus what the tests know about the sample: the
 * bootstrap plan that fetches exactly the sampled files and the rows it yields.
 */
export const SAMPLE_DIR = path.join(REPO_ROOT, 'data/sample');
export type UpstreamServer = LocalUpstream;

export async function startUpstreamServer(): Promise<UpstreamServer> {
  const scratchDir = mkdtempSync(path.join(tmpdir(), 'upstream-'));
  const server = await startLocalUpstream({ sampleDir: SAMPLE_DIR, scratchDir });
  return {
    ...server,
    async close() {
      await server.close();
      rmSync(scratchDir, { recursive: true, force: true });
    },
  };
}

/**
 * Bootstrap groups that fetch exactly the sampled files (a per-season file that is missing for a
 * past season is an error, so each group asks only for sampled seasons), with the sample's rows.
 */
export const SAMPLE_PLAN: { datasets: string[]; years: string }[] = [
  {
    datasets: ['pbp', 'nextgen_stats', 'schedules', 'draft_picks', 'combine', 'officials', 'win_totals', 'lines', 'scoring_lines', 'trades', 'teams', 'contracts', 'player_ids', 'espn_qbr'],
    years: '2020',
  },
  { datasets: ['player_stats_legacy'], years: '2023-2024' },
  { datasets: ['rosters'], years: '2023' },
  { datasets: ['injuries', 'depth_charts'], years: '2025-2026' },
];

/** Rows per bronze table after SAMPLE_PLAN, from data/sample/MANIFEST.csv. */
export function sampleRowCounts(): Record<string, number> {
  const manifest = readFileSync(path.join(SAMPLE_DIR, 'MANIFEST.csv'), 'utf8').split('\n').slice(1);
  const rows = new Map<string, number>();
  for (const line of manifest) {
    const [file, , , count] = line.split(',');
    if (file && count) rows.set(file, Number(count));
  }
  const r = (f: string): number => rows.get(f) ?? NaN;
  return {
    pbp: r('pbp/play_by_play_2020_week01.parquet'),
    nextgen_stats: r('nextgen_stats/ngs_2020_passing.csv.gz') + r('nextgen_stats/ngs_2020_rushing.csv.gz') + r('nextgen_stats/ngs_2020_receiving.csv.gz'),
    schedules: r('schedules/games_2023_2024.csv'),
    draft_picks: r('draft_picks/draft_picks_2022_2025.csv'),
    combine: r('combine/combine_2022_2026.csv'),
    officials: r('officials/officials_2023_2024.csv'),
    win_totals: r('betting/historical_win_totals.csv'),
    lines: r('betting/nfl_lines_odds_2021_week01.csv'),
    scoring_lines: r('betting/sc_lines.csv'),
    trades: r('trades/trades.csv'),
    teams: r('teams/teams_colors_logos.csv'),
    contracts: r('contracts/historical_contracts_2022snapshot_signed_2020plus.csv'),
    player_ids: r('ids/db_playerids.csv'),
    espn_qbr: r('espn_qbr/qbr_nfl_season.csv') + r('espn_qbr/qbr_nfl_weekly_2023.csv'),
    player_stats_legacy: r('player_stats/player_stats_legacy_week_2023_2024.csv'),
    rosters: r('rosters/roster_2023.csv'),
    injuries: r('injuries/injuries_2025.csv'),
    depth_charts: r('depth_charts/depth_charts_2025_2026_subset.csv'),
  };
}

/** Two local upstreams on different ports: the same files from two base URLs (a mirror, a changed NFLVERSE_BASE_URL). */
export interface UpstreamPair {
  first: UpstreamServer;
  second: UpstreamServer;
  /** Whether `source` (a bronze `source` URL) was fetched from `server`. */
  servedBy(server: UpstreamServer, source: string | null): boolean;
  close(): Promise<void>;
}

/**
 * A pair for the test file that calls this: started before its tests, closed after them, after
 * the `cleanup` callbacks the tests pushed (sample lakes to close).
 */
export function upstreamPairForFile(): { servers: () => UpstreamPair; cleanup: (() => void)[] } {
  let pair: UpstreamPair | undefined;
  const cleanup: (() => void)[] = [];
  beforeAll(async () => {
    pair = await startUpstreamPair();
  });
  afterAll(async () => {
    for (const c of cleanup) c();
    await pair?.close();
  });
  return { servers: () => pair!, cleanup };
}

export async function startUpstreamPair(): Promise<UpstreamPair> {
  const first = await startUpstreamServer();
  const second = await startUpstreamServer();
  return {
    first,
    second,
    servedBy: (server, source) => Object.values(server.env()).some((base) => source?.startsWith(`${base}/`) === true),
    async close() {
      await first.close();
      await second.close();
    },
  };
}
