import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV, loadCatalog, parseCatalog, parseYears, resolveSettings, type Catalog } from '../../../src/pipeline/index.js';

const FILE = 'catalog/datasets.yml';
const text = readFileSync(FILE, 'utf8');

function expectInvalid(yaml: string, pattern: RegExp): void {
  try {
    parseCatalog(yaml, 'test.yml');
  } catch (error) {
    expect((error as { code: string }).code).toBe('CATALOG_INVALID');
    expect((error as Error).message).toMatch(/^test\.yml: /);
    expect((error as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected CATALOG_INVALID');
}

describe('catalog/datasets.yml', () => {
  const catalog: Catalog = loadCatalog(FILE);

  it('validates and covers every dataset family of SOURCES.md, FTN present but disabled', () => {
    const names = catalog.datasets.map((d) => d.name);
    for (const name of [
      'pbp', 'player_stats_weekly', 'player_stats_seasonal', 'schedules', 'rosters', 'rosters_weekly', 'players', 'player_ids', 'injuries',
      'depth_charts', 'snap_counts', 'nextgen_stats', 'pfr_advstats_weekly', 'pfr_advstats_seasonal', 'draft_picks', 'combine', 'officials',
      'win_totals', 'lines', 'ftn_charting',
    ]) expect(names).toContain(name);
    expect(catalog.datasets.find((d) => d.name === 'ftn_charting')!.enabled).toBe(false);
    expect(catalog.datasets.find((d) => d.name === 'pbp')).toMatchObject({ perSeason: true, partitions: ['season'], businessKey: ['game_id', 'play_id'], years: { kind: 'range', from: 1999, to: undefined } });
    expect(catalog.datasets.find((d) => d.name === 'nextgen_stats')).toMatchObject({ perSeason: false, variants: ['passing', 'rushing', 'receiving'], partitions: ['season', 'stat_type'] });
    expect(catalog.upstreams['nflverse']!.baseUrl).toBe('https://github.com/nflverse/nflverse-data/releases/download');
    expect(catalog.lake).toMatchObject({ compression: 'zstd', maxWorkers: 4, http: { retries: { maxAttempts: 5 } } });
  });

  it('applies environment overrides for root, workers and base URLs; the environment wins', () => {
    const s = resolveSettings(catalog, { [ENV.root]: '/tmp/lake-x', [ENV.maxWorkers]: '7', NFLVERSE_BASE_URL: 'http://127.0.0.1:9/rel/' });
    expect(s.root).toBe('/tmp/lake-x');
    expect(s.maxWorkers).toBe(7);
    expect(s.baseUrls['nflverse']).toBe('http://127.0.0.1:9/rel');
    expect(s.baseUrls['mrcaseb']).toBe('https://raw.githubusercontent.com/mrcaseb/nfl-data/master');
  });

  it.each([
    [{ [ENV.maxWorkers]: 'zero' }, /LAKE_MAX_WORKERS="zero": expected a positive integer/],
    [{ NFLVERSE_BASE_URL: 'ftp://x' }, /NFLVERSE_BASE_URL="ftp:\/\/x": expected an http\(s\) URL/],
  ])('refuses a bad environment override %o with CATALOG_INVALID', (env, pattern) => {
    expect(() => resolveSettings(catalog, env)).toThrow(pattern);
  });
});

describe('catalog validation errors name the file, the path (with line) and the problem', () => {
  it.each([
    ['partitions given as a string', text.replace('partitions: [season]\n    business_key: [game_id, play_id]', 'partitions: season\n    business_key: [game_id, play_id]'), /datasets\.pbp\.partitions \(line \d+\): .*expected array/],
    ['an unknown upstream', text.replace('upstream: nflverse, path: "pbp/', 'upstream: nowhere, path: "pbp/'), /datasets\.pbp\.source\.upstream.*unknown upstream 'nowhere'/],
    ['unparsable years', text.replace('years: "1999-"', 'years: "soon"'), /datasets\.pbp\.years.*expected ALL, "1999-" or "1999-2024"/],
    ['zero max workers', text.replace('max_workers: 4', 'max_workers: 0'), /lake\.max_workers \(line \d+\): .*expected number to be >0|lake\.max_workers.*Too small/],
    ['an unknown importer', text.replace('importer: nflverse_release', 'importer: ftp'), /datasets\.pbp\.importer/],
    ['an unknown key', text.replace('    season_rule: S\n    partitions: [season]\n    business_key: [game_id, play_id]', '    season_rule: S\n    partitions: [season]\n    business_key: [game_id, play_id]\n    colour: red'), /Unrecognized key: "colour"/],
    ['broken YAML', 'lake: [unclosed', /line 1: not valid YAML/],
  ])('refuses %s', (_label, yaml, pattern) => expectInvalid(yaml, pattern));

  it('names a missing catalog file', () => {
    expect(() => loadCatalog('catalog/nope.yml')).toThrow(/catalog\/nope\.yml: no such file/);
  });

  it.each([
    ['ALL', { kind: 'all' }],
    ['1999-', { kind: 'range', from: 1999, to: undefined }],
    ['1999-2024', { kind: 'range', from: 1999, to: 2024 }],
    ['2025', { kind: 'range', from: 2025, to: 2025 }],
    ['2024-1999', undefined],
  ])('parses years %s', (input, expected) => expect(parseYears(input)).toEqual(expected));
});
