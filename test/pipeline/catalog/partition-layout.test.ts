import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCatalog, runIngest, runPromote, type Catalog } from '../../../src/pipeline/index.js';
import { resolveTable, tableSnapshot } from '../../../src/table/index.js';
import { REPO_ROOT } from '../../helpers/child.js';
import { catalog, sampleLake, TODAY, type SampleLake } from '../../helpers/sample-lake.js';
import { SAMPLE_DIR, startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';
import { openEngine } from '../../../src/engine/index.js';

/**
 * `partitions` in the catalog decides the layout of a dataset's bronze and silver tables (the seed
 * allowed injuries, depth charts and snap counts by season and week): a catalog that says
 * [season, week] creates both tables so, with the same rows; a catalog that disagrees with an
 * existing table is refused with CATALOG_INVALID before anything is downloaded or written.
 */
let server: UpstreamServer;
let env: SampleLake;
let weekly: Catalog;

beforeAll(async () => {
  server = await startUpstreamServer();
  env = await sampleLake(server, 'partition-layout');
  const text = readFileSync(path.join(REPO_ROOT, 'catalog/datasets.yml'), 'utf8');
  const injuries = text.indexOf('  injuries:\n');
  const at = text.indexOf('    partitions: [season]\n', injuries);
  weekly = parseCatalog(`${text.slice(0, at)}    partitions: [season, week]\n${text.slice(at + '    partitions: [season]\n'.length)}`, 'weekly.yml');
}, 30_000);
afterAll(async () => {
  env?.close();
  await server?.close();
});

const ingest = (cat: Catalog) => runIngest({ catalog: cat, settings: env.settings, command: 'update', datasets: ['injuries'], seasons: { from: 2025, to: 2025 }, today: TODAY, clock: env.clock, lake: env.lake });

describe('partitions decide the layout', () => {
  it('injuries by [season, week]: bronze and silver are partitioned so, one partition per week of the file, every row kept', async () => {
    expect(weekly.datasets.find((d) => d.name === 'injuries')!.partitions).toEqual(['season', 'week']);
    expect((await ingest(weekly)).failures).toBe(0);
    const promoted = await runPromote({ catalog: weekly, lake: env.lake, clock: env.clock, reportDir: env.reportDir, datasets: ['injuries'] });
    expect(promoted.failures, JSON.stringify(promoted.datasets.map((d) => d.error))).toBe(0);
    const engine = await openEngine({ threads: 1 });
    const [weeks] = await engine.rows<{ n: bigint; rows: bigint }>(`SELECT count(DISTINCT week) AS n, count(*) AS rows FROM read_csv('${path.join(SAMPLE_DIR, 'injuries/injuries_2025.csv')}')`);
    engine.close();
    for (const table of ['bronze.injuries', 'silver.injuries']) {
      const snapshot = await tableSnapshot(env.lake, resolveTable(env.lake, table));
      expect(snapshot.partitionColumns, table).toEqual(['season', 'week']);
      expect(new Set(snapshot.files.map((f) => f.partitionValues['week'])).size, table).toBe(Number(weeks!.n));
      expect(snapshot.files.every((f) => /^season=2025\/week=\d+\//.test(decodeURIComponent(f.path))), table).toBe(true);
    }
    expect(await env.count('SELECT count(*) FROM silver.injuries')).toBe(Number(weeks!.rows));
  });

  it('a catalog that disagrees with the existing tables is refused (CATALOG_INVALID, exit 2), naming both layouts; nothing is written', async () => {
    const bronzeBefore = await env.version('bronze.injuries');
    const refused = await ingest(catalog);
    expect(refused.datasets[0]!.error).toMatchObject({ code: 'CATALOG_INVALID', exitCode: 2 });
    expect(refused.datasets[0]!.error!.message).toBe('bronze.injuries is partitioned by [season, week], but catalog/datasets.yml says partitions: [season] for injuries; nothing was written');
    expect(refused.datasets[0]!.assets).toEqual([]);
    expect(await env.version('bronze.injuries')).toBe(bronzeBefore);
    const promote = await runPromote({ catalog, lake: env.lake, clock: env.clock, reportDir: env.reportDir, datasets: ['injuries'] });
    expect(promote.datasets[0]!.error).toMatchObject({ code: 'CATALOG_INVALID' });
    expect(promote.datasets[0]!.error!.hint).toMatch(/Put partitions back to \[season, week\], or rebuild bronze\.injuries/);
  });
});
