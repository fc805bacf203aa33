import { describe, expect, it } from 'vitest';
import { currentSeason, loadCatalog, planDataset, seasonStart, type DatasetDef } from '../../../src/pipeline/index.js';

const catalog = loadCatalog('catalog/datasets.yml');
const def = (name: string): DatasetDef => catalog.datasets.find((d) => d.name === name)!;
const BASE = 'https://github.com/nflverse/nflverse-data/releases/download';

describe('current season rules (nflreadr most_recent_season)', () => {
  it.each([
    [2024, '2024-09-05'],
    [2025, '2025-09-04'],
    [2026, '2026-09-10'],
    [2020, '2020-09-10'],
    [2015, '2015-09-10'],
  ])('season %i starts on %s (Thursday after Labor Day)', (year, date) => expect(seasonStart(year).toISOString().slice(0, 10)).toBe(date));

  it.each([
    ['S', '2026-09-09T23:59:59Z', 2025],
    ['S', '2026-09-10T00:00:00Z', 2026],
    ['S', '2027-02-10T00:00:00Z', 2026],
    ['R', '2026-03-14T23:59:59Z', 2025],
    ['R', '2026-03-15T00:00:00Z', 2026],
  ] as const)('rule %s on %s → %i', (rule, date, season) => expect(currentSeason(rule, new Date(date))).toBe(season));
});

describe('planning the upstream files of a dataset', () => {
  const today = new Date('2026-11-25T00:00:00Z');

  it('uses the release URL layout verbatim, one file per season inside the dataset years', () => {
    const plan = planDataset(def('pbp'), BASE, { from: 1997, to: 2000 }, today);
    expect(plan.assets.map((a) => a.url)).toEqual([1999, 2000].map((s) => `${BASE}/pbp/play_by_play_${s}.parquet`));
    expect(plan.assets[0]).toMatchObject({ key: 'nflverse/pbp/play_by_play_1999.parquet', season: 1999, appId: 'nfl-lakehouse/bronze.pbp/nflverse/pbp/play_by_play_1999.parquet' });
  });

  it('never requests a season after the current one; it is a plan-time notice', () => {
    const plan = planDataset(def('injuries'), BASE, { from: 2026, to: 2027 }, today);
    expect(plan.assets.map((a) => a.season)).toEqual([2026]);
    expect(plan.skipped).toEqual([{ season: 2027, reason: 'season 2027 is not published yet (current injuries season is 2026)' }]);
  });

  it('expands variants, and fetches single files whole when their years overlap', () => {
    expect(planDataset(def('pfr_advstats_weekly'), BASE, { from: 2023, to: 2023 }, today).assets.map((a) => [a.path, a.variant])).toEqual([
      ['pfr_advstats/advstats_week_pass_2023.parquet', 'pass'],
      ['pfr_advstats/advstats_week_rush_2023.parquet', 'rush'],
      ['pfr_advstats/advstats_week_rec_2023.parquet', 'rec'],
      ['pfr_advstats/advstats_week_def_2023.parquet', 'def'],
    ]);
    expect(planDataset(def('nextgen_stats'), BASE, { from: 2020, to: 2020 }, today).assets.map((a) => a.path)).toEqual([
      'nextgen_stats/ngs_passing.parquet',
      'nextgen_stats/ngs_rushing.parquet',
      'nextgen_stats/ngs_receiving.parquet',
    ]);
    expect(planDataset(def('nextgen_stats'), BASE, { from: 2010, to: 2015 }, today).assets).toEqual([]);
    expect(planDataset(def('win_totals'), 'https://raw.githubusercontent.com/mrcaseb/nfl-data/master', { from: 2020, to: 2020 }, today).assets[0]!.url).toBe(
      'https://raw.githubusercontent.com/mrcaseb/nfl-data/master/data/historical_win_totals.csv',
    );
    expect(planDataset(def('players'), BASE, { from: 2025, to: 2025 }, today).assets.map((a) => a.path)).toEqual(['players/players.parquet']);
  });
});
