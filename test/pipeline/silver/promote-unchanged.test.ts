import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCatalog, runPromote } from '../../../src/pipeline/index.js';
import { openLake, resolveTable, runQuery, writeTable, type Lake } from '../../../src/table/index.js';
import { valuesSource } from '../../helpers/lake.js';
import { thingsCatalog } from '../../helpers/things-catalog.js';
import { THINGS_COLUMNS, thingsSqlDir } from '../../helpers/things-lake.js';

/**
 * nflverse re-publishes some files over every season when one season changes (schedules, NGS,
 * officials…). Bronze appends the whole file again; an incremental promote must then replace only
 * the partitions whose rows changed — the others stay as they are (no remove, no add), so gold
 * rebuilds only what changed too — and a re-publish with no change at all commits no file.
 */
const catalog = parseCatalog(thingsCatalog('    quality: { unique: true, not_null: [id] }\n'), 'test-catalog.yml');

let dir: string;
let sqlDir: string;
let lake: Lake;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'promote-unchanged-'));
  sqlDir = thingsSqlDir(dir);
  lake = await openLake({ root: path.join(dir, 'lake'), threads: 1, create: true });
});
afterAll(() => {
  lake.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One publication of the all-seasons file: ids a..c in seasons 2000..2002, values from `v`. */
async function publish(batch: number, v: (season: number, id: string) => number): Promise<void> {
  const rows = [2000, 2001, 2002].flatMap((season) =>
    ['a', 'b', 'c'].map((id) => ({ id, season, v: v(season, id), source: 'things', ingested_at: `2026-09-0${batch}T00:00:00Z`, pipeline_version: '0.1.0', upstream_version: `u${batch}`, run_id: `r${batch}` })),
  );
  await writeTable(lake, { table: resolveTable(lake, 'bronze.things'), source: valuesSource(THINGS_COLUMNS, rows), mode: 'append', partitionBy: ['season'] });
}

async function promote(): Promise<Awaited<ReturnType<typeof runPromote>>['datasets'][number]> {
  const result = await runPromote({ catalog, lake, sqlDir, reportDir: path.join(dir, 'quality'), datasets: ['things'] });
  expect(result.datasets[0]!.error).toBeUndefined();
  return result.datasets[0]!;
}

/** File actions of silver commit `version`, by kind, as `season=…` labels. */
function fileActions(version: number): { add: string[]; remove: string[]; info: Record<string, unknown> } {
  const log = path.join(resolveTable(lake, 'silver.things').tableRoot, '_delta_log');
  const name = readdirSync(log).find((n) => n === `${String(version).padStart(20, '0')}.json`)!;
  const actions = readFileSync(path.join(log, name), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, { partitionValues?: Record<string, string> } & Record<string, unknown>>);
  const label = (f: { partitionValues?: Record<string, string> }): string => `season=${f.partitionValues?.['season']}`;
  return {
    add: actions.filter((a) => a['add']).map((a) => label(a['add']!)).sort(),
    remove: actions.filter((a) => a['remove']).map((a) => label(a['remove']!)).sort(),
    info: actions.find((a) => a['commitInfo'])!['commitInfo'] as Record<string, unknown>,
  };
}

async function silver(): Promise<string[]> {
  const r = await runQuery(lake, 'SELECT season, id, v, upstream_version FROM silver.things ORDER BY ALL');
  return r.rows.map((row) => (row as unknown[]).join('/'));
}

describe('incremental promote of a file re-published over every season', () => {
  it('replaces only the partitions whose rows changed; an identical re-publish commits no file', async () => {
    await publish(1, (season) => season);
    expect(await promote()).toMatchObject({ status: 'committed', mode: 'full' });

    // Batch 2: only season 2001's "b" changes.
    await publish(2, (season, id) => (season === 2001 && id === 'b' ? 99 : season));
    const second = await promote();
    expect(second).toMatchObject({ status: 'committed', mode: 'incremental' });
    expect(second.partitions.filter((p) => p.contentUnchanged).map((p) => p.partition)).toEqual([{ season: '2000' }, { season: '2002' }]);
    const v2 = fileActions(second.version!);
    expect(v2.add).toEqual(['season=2001']);
    expect(v2.remove).toEqual(['season=2001']);
    expect((v2.info['promote'] as Record<string, unknown>)['changed_partitions']).toEqual([{ season: '2001' }]);
    expect((v2.info['promote'] as Record<string, unknown>)['unchanged_partitions']).toEqual([{ season: '2000' }, { season: '2002' }]);
    expect(await silver()).toEqual([
      '2000/a/2000/u1', '2000/b/2000/u1', '2000/c/2000/u1',
      '2001/a/2001/u2', '2001/b/99/u2', '2001/c/2001/u2',
      '2002/a/2002/u1', '2002/b/2002/u1', '2002/c/2002/u1',
    ]);

    // Batch 3 re-publishes batch 2's values: a commit (the promote's progress) without any file.
    await publish(3, (season, id) => (season === 2001 && id === 'b' ? 99 : season));
    const third = await promote();
    expect(third.status).toBe('committed');
    expect(third.partitions.every((p) => p.contentUnchanged)).toBe(true);
    const v3 = fileActions(third.version!);
    expect([v3.add, v3.remove]).toEqual([[], []]);
    expect(await silver()).toEqual([
      '2000/a/2000/u1', '2000/b/2000/u1', '2000/c/2000/u1',
      '2001/a/2001/u2', '2001/b/99/u2', '2001/c/2001/u2',
      '2002/a/2002/u1', '2002/b/2002/u1', '2002/c/2002/u1',
    ]);
    // …and the next promote has nothing left to read.
    expect((await promote()).status).toBe('unchanged');
  });
});
