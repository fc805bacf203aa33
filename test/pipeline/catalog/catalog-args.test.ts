import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManifestStore, parseCatalog, runIngest, type Catalog } from '../../../src/pipeline/index.js';
import { runQuery } from '../../../src/table/index.js';
import { REPO_ROOT } from '../../helpers/child.js';
import { catalog, sampleLake, TODAY, type SampleLake } from '../../helpers/sample-lake.js';
import { thingsCatalog } from '../../helpers/things-catalog.js';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';

/**
 * The catalog's `args` (importer arguments: file-name templates, stat_type lists) and `options`
 * (`downcast`, `cache`, besides id_columns / numeric_columns): validated by the zod schema with the
 * line of a bad key, and each one changes what an ingest does (no dead knobs).
 */
const TEXT = readFileSync(path.join(REPO_ROOT, 'catalog/datasets.yml'), 'utf8');

function variantCatalog(datasetLines: string): Catalog {
  return parseCatalog(thingsCatalog(datasetLines).replace('path: things,', 'path: "things_{stat_type}",'), 'c.yml');
}

describe('args', () => {
  it('a list argument is one file per value, its value written to the column of its name (the same as variants + variant_column)', () => {
    const byArgs = variantCatalog('    args: { stat_type: [passing, rushing] }\n').datasets[0]!;
    const byVariants = parseCatalog(thingsCatalog('    variants: [passing, rushing]\n    variant_column: stat_type\n').replace('path: things,', 'path: "things_{variant}",'), 'c.yml').datasets[0]!;
    expect(byArgs).toMatchObject({ source: { path: 'things_{variant}' }, variants: ['passing', 'rushing'], variantColumn: 'stat_type', args: { stat_type: ['passing', 'rushing'] } });
    expect({ ...byArgs, args: {} }).toEqual({ ...byVariants, args: {} });
  });

  it('a text argument is put into the file name; the shipped catalog uses both kinds', () => {
    const def = parseCatalog(thingsCatalog('    args: { name: things_v2 }\n').replace('path: things,', 'path: "files/{name}",'), 'c.yml').datasets[0]!;
    expect(def.source.path).toBe('files/things_v2');
    expect(catalog.datasets.find((d) => d.name === 'player_ids')!.source.path).toBe('files/db_playerids');
    expect(catalog.datasets.find((d) => d.name === 'nextgen_stats')).toMatchObject({ source: { path: 'nextgen_stats/ngs_{variant}' }, variants: ['passing', 'rushing', 'receiving'], variantColumn: 'stat_type' });
  });

  it.each([
    ['an argument the path does not use', '    args: { stat_type: [a], extra: x }\n', /datasets\.things\.args\.extra \(line 13\): argument extra is not used: source\.path has no \{extra\}/],
    ['a placeholder no argument fills', '    args: { other: x }\n', /unknown placeholder \{stat_type\} \(use \{season\}, \{variant\} or a name under args\)/],
    ['two list arguments', '    args: { stat_type: [a], kind: [b] }\n', /only one argument may be a list/],
    ['a list argument next to variants', '    args: { stat_type: [a] }\n    variants: [a]\n    variant_column: stat_type\n', /a list argument and variants say the same thing/],
    ['a text argument that is not a file-name part', '    args: { stat_type: "a/b" }\n', /datasets\.things\.args\.stat_type \(line 13\): expected a file-name part/],
  ])('refuses %s, naming the path and its line', (_name, lines, message) => {
    expect(() => variantCatalog(lines)).toThrow(message);
  });
});

describe('options', () => {
  it('defaults: no downcast, raw files cached', () => {
    expect(parseCatalog(thingsCatalog(), 'c.yml').datasets[0]).toMatchObject({ downcast: false, cache: true, idColumns: [], numericColumns: [] });
  });

  it('refuses an unknown key under options, naming it and its line', () => {
    expect(() => parseCatalog(thingsCatalog('    options:\n      downcst: true\n'), 'c.yml')).toThrow(/datasets\.things\.options \(line 14\): Unrecognized key: "downcst"/);
    expect(() => parseCatalog(thingsCatalog('    options: { cache: sometimes }\n'), 'c.yml')).toThrow(/datasets\.things\.options\.cache \(line 13\)/);
  });

  describe('on a real ingest (local upstream)', () => {
    let server: UpstreamServer;
    let env: SampleLake;
    /** The shipped catalog with downcast on win_totals and cache off for teams. */
    let knobs: Catalog;

    beforeAll(async () => {
      server = await startUpstreamServer();
      env = await sampleLake(server, 'catalog-options');
      const text = TEXT.replace('    source: { upstream: mrcaseb, path: "data/historical_win_totals", format: csv }\n', '$&    options: { downcast: true }\n').replace(
        '    source: { upstream: nflverse, path: "teams/teams_colors_logos", format: parquet }\n',
        '$&    options: { cache: false }\n',
      );
      knobs = parseCatalog(text, 'knobs.yml');
      expect(knobs.datasets.find((d) => d.name === 'win_totals')!.downcast).toBe(true);
      expect(knobs.datasets.find((d) => d.name === 'teams')!.cache).toBe(false);
    }, 30_000);
    afterAll(async () => {
      env?.close();
      await server?.close();
    });

    const ingest = (cat: Catalog, datasets: string[]) => runIngest({ catalog: cat, settings: env.settings, command: 'update', datasets, seasons: { from: 2020, to: 2020 }, today: TODAY, clock: env.clock, lake: env.lake });
    const types = async (table: string, columns: string[]): Promise<string[]> => {
      const result = await runQuery(env.lake, `SELECT ${columns.map((c) => `typeof(${c})`).join(', ')} FROM ${table} LIMIT 1`);
      return result.rows[0]!.map(String);
    };

    it('downcast: true stores the file’s DOUBLE columns as FLOAT in bronze (ids, season and integers untouched); false keeps DOUBLE', async () => {
      expect((await ingest(knobs, ['win_totals'])).failures).toBe(0);
      expect(await types('bronze.win_totals', ['win_total', 'true_wins', 'season', 'team'])).toEqual(['FLOAT', 'FLOAT', 'INTEGER', 'VARCHAR']);
      expect(await env.count(`SELECT count(*) FROM bronze.win_totals WHERE win_total = 7.5 AND team = 'ARI' AND season = 2020`)).toBe(1);
      // Silver casts back to DOUBLE: the schema of silver does not depend on the knob.
      expect((await env.promote({ catalog: knobs, datasets: ['win_totals'] })).failures).toBe(0);
      expect(await types('silver.win_totals', ['win_total'])).toEqual(['DOUBLE']);
      expect((await ingest(catalog, ['schedules'])).failures).toBe(0);
      expect(await types('bronze.schedules', ['spread_line'])).toEqual(['DOUBLE']);
    });

    it('cache: false removes the raw file once bronze holds it; the next run downloads in full and commits nothing', async () => {
      const before = server.requests.length;
      expect((await ingest(knobs, ['teams'])).commits).toBe(1);
      const manifest = await ManifestStore.open(env.settings.rawDir);
      const entry = manifest.get('nflverse/teams/teams_colors_logos.parquet')!;
      expect(entry.committed).toBeDefined();
      expect(existsSync(path.join(env.settings.rawDir, entry.file))).toBe(false);
      expect((await ingest(knobs, ['teams'])).commits).toBe(0);
      const asked = server.requests.slice(before).filter((r) => r.key === 'nflverse/teams/teams_colors_logos.parquet');
      expect(asked.map((r) => [r.status, r.conditional])).toEqual([
        [200, false],
        [200, false],
      ]);
      expect(existsSync(path.join(env.settings.rawDir, (await ManifestStore.open(env.settings.rawDir)).get('nflverse/teams/teams_colors_logos.parquet')!.file))).toBe(false);
      // The default (cache: true) keeps it, and the next run asks conditionally (304).
      const cached = server.requests.length;
      expect((await ingest(catalog, ['win_totals'])).commits).toBe(0);
      const raw = (await ManifestStore.open(env.settings.rawDir)).get('mrcaseb/data/historical_win_totals.csv')!;
      expect(existsSync(path.join(env.settings.rawDir, raw.file))).toBe(true);
      expect(server.requests.slice(cached).map((r) => [r.status, r.conditional])).toEqual([[304, true]]);
    });
  });
});
