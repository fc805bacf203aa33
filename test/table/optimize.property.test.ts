import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { optimizeTable, resolveTable, writeTable } from '../../src/table/index.js';
import { readRows } from '../helpers/lake.js';
import { canonicalRows } from '../helpers/rows.js';
import { tempLake } from '../helpers/temp-lake.js';

const temp = tempLake('lake-optimize-prop');

type Op =
  | { kind: 'append'; seasons: number[]; rows: number }
  | { kind: 'replace'; season: number; rows: number }
  | { kind: 'optimize'; maxRowsPerFile: number | undefined; where: number | undefined };

const SEASONS = [2021, 2022, 2023];

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), seasons: fc.subarray(SEASONS, { minLength: 1 }), rows: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant('replace' as const), season: fc.constantFrom(...SEASONS), rows: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constant('optimize' as const), maxRowsPerFile: fc.option(fc.integer({ min: 3, max: 12 }), { nil: undefined }), where: fc.option(fc.constantFrom(...SEASONS), { nil: undefined }) }),
);

interface ModelRow {
  season: number;
  id: number;
  batch: number;
}

function source(rows: ModelRow[]): string {
  if (rows.length === 0) return 'SELECT CAST(NULL AS INTEGER) AS season, CAST(NULL AS BIGINT) AS id, CAST(NULL AS INTEGER) AS batch WHERE false';
  return `SELECT CAST(season AS INTEGER) AS season, CAST(id AS BIGINT) AS id, CAST(batch AS INTEGER) AS batch FROM (VALUES ${rows.map((r) => `(${r.season}, ${r.id}, ${r.batch})`).join(', ')}) AS v(season, id, batch)`;
}

describe('optimize (property)', () => {
  it('for random appends, replaces and optimizes the latest rows equal the model and every version reads as it did when committed', async () => {
    let run = 0;
    let optimized = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 7 }), async (ops) => {
        const table = resolveTable(temp.lake, `silver.prop_${run++}`);
        // Two small appends first, so every season starts with files to compact.
        const seed = (start: number): ModelRow[] => SEASONS.map((season, i) => ({ season, id: start + i, batch: 0 }));
        await writeTable(temp.lake, { table, source: source(seed(0)), mode: 'append', partitionBy: ['season'] });
        await writeTable(temp.lake, { table, source: source(seed(SEASONS.length)), mode: 'append' });
        let model: ModelRow[] = [...seed(0), ...seed(SEASONS.length)];
        const versions = new Map<number, string[]>([[0, canonicalRows(seed(0))], [1, canonicalRows(model)]]);
        let nextId = 2 * SEASONS.length;
        for (const [batch, o] of ops.entries()) {
          const fresh = (season: number, n: number): ModelRow[] => Array.from({ length: n }, () => ({ season, id: nextId++, batch: batch + 1 }));
          let version: number | undefined;
          if (o.kind === 'append') {
            const rows = o.seasons.flatMap((s) => fresh(s, o.rows));
            version = (await writeTable(temp.lake, { table, source: source(rows), mode: 'append' })).version;
            model = [...model, ...rows];
          } else if (o.kind === 'replace') {
            const rows = fresh(o.season, o.rows);
            version = (await writeTable(temp.lake, { table, source: source(rows), mode: 'replace', replacePartitions: [{ season: String(o.season) }] })).version;
            model = [...model.filter((r) => r.season !== o.season), ...rows];
          } else {
            const metrics = await optimizeTable(temp.lake, { table, sortBy: ['id'], maxRowsPerFile: o.maxRowsPerFile, where: o.where === undefined ? undefined : `season = ${o.where}` });
            version = metrics.version;
            if (metrics.status === 'committed') optimized++;
          }
          if (version !== undefined) versions.set(version, canonicalRows(model));
        }
        expect(canonicalRows(await readRows(temp.lake, table.tableRoot))).toEqual(canonicalRows(model));
        for (const [version, expected] of versions) expect(canonicalRows(await readRows(temp.lake, table.tableRoot, version))).toEqual(expected);
      }),
      { numRuns: 15 },
    );
    // The runs did exercise real rewrites, not only no-op optimizes.
    expect(optimized).toBeGreaterThan(0);
  });
});
