import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCatalog, runPromote } from '../../../src/pipeline/index.js';
import { openLake, resolveTable, runQuery, tableSnapshot, writeTable, type Lake } from '../../../src/table/index.js';
import { valuesSource } from '../../helpers/lake.js';
import { canonicalRows, rowObjects, type Row } from '../../helpers/rows.js';
import { thingsCatalog } from '../../helpers/things-catalog.js';
import { THINGS_COLUMNS, THINGS_RULE, thingsSqlDir } from '../../helpers/things-lake.js';

/**
 * Properties of the promote's dedupe (fast-check), on a small synthetic dataset written to bronze
 * in arbitrary commits: the result does not depend on the order of bronze rows or how they were
 * split into commits, promoting after every commit equals promoting once (stamps aside: an unchanged
 * partition keeps the stamps of the batch that last changed it), a second promote
 * commits nothing, and each key keeps a row of its newest ingested_at.
 */
const CATALOG = thingsCatalog('    quality: { unique: false, not_null: [id] }\n');
const RULE = `-- test rule: ids as strings, values as integers
${THINGS_RULE}`;
const catalog = parseCatalog(CATALOG, 'test-catalog.yml');
const BASE = Date.parse('2026-09-10T00:00:00Z');

let dir: string;
let sqlDir: string;
let base: Lake;
let lakes = 0;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'dedupe-property-'));
  sqlDir = thingsSqlDir(dir, RULE);
  base = await openLake({ root: path.join(dir, 'unused') });
});
afterAll(() => {
  base.close();
  rmSync(dir, { recursive: true, force: true });
});

interface BronzeRow {
  id: string;
  season: number;
  v: number;
  /** Hours after BASE. */
  t: number;
  src: string;
}

/** A fresh lake folder sharing the one DuckDB engine. */
function freshLake(): Lake {
  lakes += 1;
  return { ...base, root: path.join(dir, `lake-${lakes}`) };
}

async function appendBronze(lake: Lake, rows: readonly BronzeRow[]): Promise<void> {
  if (rows.length === 0) return;
  const source = valuesSource(
    THINGS_COLUMNS,
    rows.map((r) => ({ id: r.id, season: r.season, v: r.v, source: r.src, ingested_at: new Date(BASE + r.t * 3_600_000).toISOString(), pipeline_version: '0.1.0', upstream_version: `u${r.t}`, run_id: `r${r.t}` })),
  );
  await writeTable(lake, { table: resolveTable(lake, 'bronze.things'), source, mode: 'append', partitionBy: ['season'] });
}

async function promote(lake: Lake): Promise<Awaited<ReturnType<typeof runPromote>>> {
  const result = await runPromote({ catalog, lake, sqlDir, reportDir: path.join(lake.root, 'quality'), datasets: ['things'] });
  expect(result.failures, JSON.stringify(result.datasets[0]?.error)).toBe(0);
  return result;
}

async function silverRows(lake: Lake): Promise<Row[]> {
  const result = await runQuery(lake, `SELECT id, season, v, "source" AS src, epoch_ms(ingested_at) AS ms FROM delta_scan('${resolveTable(lake, 'silver.things').tableRoot}')`);
  return rowObjects(result.columns, result.rows);
}

/** Splits rows into commits: row i goes to commit `split[i]` (commits written in order 0, 1, 2). */
function commits(rows: readonly BronzeRow[], split: readonly number[]): BronzeRow[][] {
  const out: BronzeRow[][] = [[], [], []];
  rows.forEach((r, i) => out[split[i % split.length]! % 3]!.push(r));
  return out.filter((c) => c.length > 0);
}

const rowArb = fc.record({
  id: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
  season: fc.constantFrom(2020, 2021),
  v: fc.integer({ min: -5, max: 5 }),
  t: fc.integer({ min: 0, max: 3 }),
  src: fc.constantFrom('s1', 's2'),
});
const scenarioArb = fc.record({
  rows: fc.array(rowArb, { minLength: 1, maxLength: 14 }),
  splitA: fc.array(fc.nat(2), { minLength: 1, maxLength: 14 }),
  splitB: fc.array(fc.nat(2), { minLength: 1, maxLength: 14 }),
  seed: fc.nat(),
});

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed + 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('promote dedupe (fast-check)', () => {
  it('is stable under bronze row order and commit split, and incremental equals one promote', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ rows, splitA, splitB, seed }) => {
        // A: rows in generated order, one promote at the end.
        const a = freshLake();
        for (const c of commits(rows, splitA)) await appendBronze(a, c);
        await promote(a);
        // B: the same rows shuffled, split differently, promoted after every commit.
        const b = freshLake();
        for (const c of commits(shuffled(rows, seed), splitB)) {
          await appendBronze(b, c);
          await promote(b);
        }
        // Same content; a partition whose rows did not change is left as it was by B's later
        // promotes, so its stamps may name the earlier batch that already carried those values.
        const content = (rs: Row[]): Row[] => rs.map(({ id, season, v }) => ({ id, season, v }));
        const rowsB = await silverRows(b);
        expect(canonicalRows(content(rowsB))).toEqual(canonicalRows(content(await silverRows(a))));
        for (const r of rowsB) expect(rows.some((x) => x.id === r['id'] && x.season === r['season'] && x.v === r['v'] && x.src === r['src'] && BASE + x.t * 3_600_000 === r['ms'])).toBe(true);
      }),
      { numRuns: 12 },
    );
  });

  it('keeps one row per key, from its newest ingested_at, and a second promote commits nothing', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ rows, splitA }) => {
        const lake = freshLake();
        for (const c of commits(rows, splitA)) await appendBronze(lake, c);
        await promote(lake);
        const silver = await silverRows(lake);
        const keys = new Map<string, BronzeRow[]>();
        for (const r of rows) keys.set(`${r.season}/${r.id}`, [...(keys.get(`${r.season}/${r.id}`) ?? []), r]);
        expect(silver).toHaveLength(keys.size);
        for (const s of silver) {
          const candidates = keys.get(`${s['season']}/${s['id']}`)!;
          const newest = Math.max(...candidates.map((c) => c.t));
          expect(s['ms']).toBe(BASE + newest * 3_600_000);
          expect(candidates.some((c) => c.t === newest && c.v === s['v'] && c.src === s['src'])).toBe(true);
        }
        const table = resolveTable(lake, 'silver.things');
        const before = await tableSnapshot(lake, table);
        const again = await promote(lake);
        expect(again.datasets[0]!.status).toBe('unchanged');
        const after = await tableSnapshot(lake, table);
        expect([after.version, after.files.map((f) => f.path).sort()]).toEqual([before.version, before.files.map((f) => f.path).sort()]);
      }),
      { numRuns: 12 },
    );
  });

  it('a changed silver rule rebuilds every partition once; then nothing is committed again', async () => {
    const lake = freshLake();
    await appendBronze(lake, [
      { id: 'a', season: 2020, v: 1, t: 0, src: 's1' },
      { id: 'b', season: 2021, v: 2, t: 0, src: 's1' },
    ]);
    await promote(lake);
    expect((await promote(lake)).datasets[0]!.status).toBe('unchanged');
    writeFileSync(path.join(sqlDir, 'things.sql'), RULE.replace('CAST(v AS BIGINT) AS v', 'CAST(v * 10 AS BIGINT) AS v'));
    try {
      const changed = await promote(lake);
      expect(changed.datasets[0]).toMatchObject({ status: 'committed', mode: 'full', fullReason: 'the silver rule changed' });
      expect(changed.datasets[0]!.partitions.map((p) => [p.partition, p.mode])).toEqual([
        [{ season: '2020' }, 'rebuild'],
        [{ season: '2021' }, 'rebuild'],
      ]);
      expect((await silverRows(lake)).map((r) => r['v']).sort()).toEqual([10, 20]);
      expect((await promote(lake)).datasets[0]!.status).toBe('unchanged');
    } finally {
      writeFileSync(path.join(sqlDir, 'things.sql'), RULE);
    }
  });
});
