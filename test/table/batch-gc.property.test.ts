import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideBatches } from '../../src/pipeline/index.js';
import { batchKey, listBatches, optimizeTable, removeBatches, resolveTable, writeTable } from '../../src/table/index.js';
import { readRows } from '../helpers/lake.js';
import { canonicalRows } from '../helpers/rows.js';
import { tempLake } from '../helpers/temp-lake.js';

/**
 * Bronze GC (property): random sequences of batch appends (two sources, random keys per season),
 * optimizes (which merge batches into one file) and GCs (removing what the model's dedupe no
 * longer needs, beyond the newest batch per source). The latest rows equal the model's, every
 * retained version reads as it did when committed, and the newest row per key — what silver keeps —
 * is the same as if nothing had ever been collected.
 */
const temp = tempLake('lake-batch-gc-prop');

type Op = { kind: 'append'; source: 'a' | 'b'; seasons: number[]; keys: number[] } | { kind: 'optimize' } | { kind: 'gc'; latest: number };

const SEASONS = [2021, 2022];
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('append' as const), source: fc.constantFrom('a' as const, 'b' as const), seasons: fc.subarray(SEASONS, { minLength: 1 }), keys: fc.uniqueArray(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('optimize' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('gc' as const), latest: fc.integer({ min: 1, max: 2 }) }) },
);

interface Row {
  season: number;
  id: number;
  source: string;
  at: number;
}

function sql(rows: Row[]): string {
  return `SELECT CAST(season AS INTEGER) AS season, CAST(id AS BIGINT) AS id, source, make_timestamptz(CAST(ts AS BIGINT) * 1000) AS ingested_at FROM (VALUES ${rows.map((r) => `(${r.season}, ${r.id}, '${r.source}', ${r.at})`).join(', ')}) AS v(season, id, source, ts)`;
}

/** The dedupe of silver (`key`): per season and id the row with the newest ingested_at, then the greatest source. */
function winners(rows: readonly Row[]): Row[] {
  const best = new Map<string, Row>();
  for (const r of rows) {
    const k = `${r.season}/${r.id}`;
    const b = best.get(k);
    if (!b || r.at > b.at || (r.at === b.at && r.source > b.source)) best.set(k, r);
  }
  return [...best.values()];
}

const view = (rows: readonly Row[]): string[] => canonicalRows(rows.map((r) => ({ season: r.season, id: r.id, source: r.source, ts: String(r.at) })));
const SELECT = 'season, CAST(id AS INTEGER) AS id, source, CAST(epoch_ms(ingested_at) AS VARCHAR) AS ts';

describe('bronze gc (property)', () => {
  it('keeps exactly what the model keeps; every version reads as committed; the dedupe answer never changes', async () => {
    let run = 0;
    let collected = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 2, maxLength: 9 }), async (ops) => {
        const table = resolveTable(temp.lake, `bronze.gcprop_${run++}`);
        let all: Row[] = [];
        let model: Row[] = [];
        let created = false;
        let at = Date.UTC(2026, 8, 1);
        const versions = new Map<number, string[]>();
        for (const o of ops) {
          if (o.kind === 'append') {
            at += 60_000;
            const rows = o.seasons.flatMap((season) => o.keys.map((id) => ({ season, id, source: o.source, at })));
            const result = await writeTable(temp.lake, { table, source: sql(rows), mode: 'append', partitionBy: created ? undefined : ['season'] });
            created = true;
            all = [...all, ...rows];
            model = [...model, ...rows];
            versions.set(result.version, view(model));
          } else if (!created) {
            continue;
          } else if (o.kind === 'optimize') {
            const m = await optimizeTable(temp.lake, { table, sortBy: ['id'] });
            if (m.version !== undefined) versions.set(m.version, view(model));
          } else {
            const listed = await listBatches(temp.lake, table);
            const drop = new Map<string, Set<string>>();
            for (const p of listed.partitions) {
              const season = Number(p.values['season']);
              const here = model.filter((r) => r.season === season);
              const needed = new Set(winners(here).map((r) => batchKey(r.source, r.at)));
              const decisions = decideBatches({ batches: p.batches, pending: new Set(), needed, latestBatches: o.latest, removal: 'superseded' });
              const gone = new Set([...decisions].filter(([, d]) => !d.keep).map(([k]) => k));
              if (gone.size > 0) drop.set(p.key, gone);
            }
            const result = await removeBatches(temp.lake, { table, batches: listed, drop, sortBy: ['id'] });
            const goneRows = (r: Row): boolean => drop.get(JSON.stringify([String(r.season)]))?.has(batchKey(r.source, r.at)) === true;
            model = model.filter((r) => !goneRows(r));
            if (result.version !== undefined) {
              collected++;
              versions.set(result.version, view(model));
            } else expect(drop.size).toBe(0);
          }
        }
        if (!created) return;
        expect(canonicalRows(await readRows(temp.lake, table.tableRoot, undefined, SELECT))).toEqual(view(model));
        for (const [version, expected] of versions) expect(canonicalRows(await readRows(temp.lake, table.tableRoot, version, SELECT))).toEqual(expected);
        expect(view(winners(model))).toEqual(view(winners(all)));
      }),
      {
        numRuns: 15,
        // Always run too: two whole re-publishes of one source, then a GC that must remove the
        // first (superseded) batch, so `collected` below never depends on the random sequences.
        examples: [
          [
            [
              { kind: 'append', source: 'a', seasons: [2021], keys: [0, 1] },
              { kind: 'append', source: 'a', seasons: [2021], keys: [0, 1] },
              { kind: 'gc', latest: 1 },
            ],
          ],
        ],
      },
    );
    expect(collected).toBeGreaterThan(0);
  });
});
