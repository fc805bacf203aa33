import type { SeasonRule } from './catalog.js';

/**
 * nflverse's current-season rules (SOURCES.md §3, as nflreadr `most_recent_season`), on UTC dates:
 * - S: the season starts the Thursday after Labor Day (first Monday of September + 3 days);
 * - R: the roster year starts on 15 March.
 * `none` datasets are not season based; they use rule S as their upper bound.
 */
export function seasonStart(year: number): Date {
  const firstOfSeptember = new Date(Date.UTC(year, 8, 1));
  const toMonday = (8 - firstOfSeptember.getUTCDay()) % 7;
  return new Date(Date.UTC(year, 8, 1 + toMonday + 3));
}

export function currentSeason(rule: SeasonRule, today: Date): number {
  const year = today.getUTCFullYear();
  if (rule === 'R') return today.getTime() >= Date.UTC(year, 2, 15) ? year : year - 1;
  return today.getTime() >= seasonStart(year).getTime() ? year : year - 1;
}
