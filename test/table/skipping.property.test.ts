import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commitFileName, parseCommitText, serializeCommit, type Action } from '../../src/delta/index.js';
import { resolveTable, runQuery, writeTable } from '../../src/table/index.js';
import { tempLake } from '../helpers/temp-lake.js';

const temp = tempLake('lake-skipping-prop');

interface Row {
  k: number | null;
  s: string | null;
  d: number | null;
  /** Microseconds since the epoch. */
  ts: number | null;
}

/**
 * How a file's stats look in the log: ours, none, or another writer's: strings cut to 32
 * characters, NaN left out, timestamps truncated to ms; `java` orders strings by UTF-16 code
 * units (as Java's String.compareTo); `partial` leaves some columns out; `garbage` is not JSON.
 */
type StatsStyle = 'ours' | 'missing' | 'foreign' | 'java' | 'partial' | 'garbage';

interface Batch {
  p: number;
  rows: Row[];
  style: StatsStyle;
}

// Mostly plain characters; now and then ones whose UTF-16 and UTF-8 orders disagree.
const char = fc.oneof({ arbitrary: fc.constantFrom('a', 'b', 'z', ' ', 'é'), weight: 12 }, { arbitrary: fc.constantFrom('\uE000', '\u{10000}'), weight: 1 });
// Short strings, and strings around the 32-character cut of other writers' stats.
const str = fc.oneof(fc.array(char, { maxLength: 6 }), fc.array(char, { minLength: 30, maxLength: 36 })).map((cs) => cs.join(''));
const dbl = fc.oneof(fc.constant(Number.NaN), fc.constantFrom(0, -0, 1.5, -2.25, Number.POSITIVE_INFINITY), fc.integer({ min: -5, max: 5 }).map((n) => n / 2));
const ts = fc.integer({ min: 0, max: 4000 }).map((n) => 1_700_000_000_000_000 + n * 997);
const row: fc.Arbitrary<Row> = fc.record({
  k: fc.option(fc.integer({ min: -5, max: 5 }), { nil: null }),
  s: fc.option(str, { nil: null }),
  d: fc.option(dbl, { nil: null }),
  ts: fc.option(ts, { nil: null }),
});
const batch: fc.Arbitrary<Batch> = fc.record({
  p: fc.constantFrom(1, 2),
  rows: fc.array(row, { minLength: 1, maxLength: 6 }),
  style: fc.constantFrom<StatsStyle>('ours', 'missing', 'foreign', 'foreign', 'java', 'partial', 'garbage'),
});

const quote = (text: string): string => `'${text.replace(/'/g, "''")}'`;
const dblSql = (d: number): string => (Number.isNaN(d) ? `'NaN'::DOUBLE` : Number.isFinite(d) ? `${Object.is(d, -0) ? '-0.0' : d}::DOUBLE` : `'${d > 0 ? '' : '-'}Infinity'::DOUBLE`);
const tsSql = (us: number): string => `make_timestamptz(${us}::BIGINT)`;
const tsIso = (us: number): string => new Date(Math.floor(us / 1000)).toISOString();

function source(b: Batch): string {
  const values = b.rows.map((r) => `(${r.k ?? 'NULL'}, ${r.s === null ? 'NULL' : quote(r.s)}, ${r.d === null ? 'NULL' : dblSql(r.d)}, ${r.ts === null ? 'NULL' : tsSql(r.ts)}, ${b.p})`);
  return `SELECT CAST(k AS INTEGER) AS k, CAST(s AS VARCHAR) AS s, CAST(d AS DOUBLE) AS d, CAST(ts AS TIMESTAMPTZ) AS ts, CAST(p AS INTEGER) AS p FROM (VALUES ${values.join(', ')}) v(k, s, d, ts, p)`;
}

const utf8Compare = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
const cut = (text: string): string => [...text].slice(0, 32).join('');

/** Stats as another writer (delta-rs, Spark) would write them for the batch's rows. */
function foreignStats(rows: Row[], style: StatsStyle): string {
  const min: Record<string, unknown> = {};
  const max: Record<string, unknown> = {};
  const nulls: Record<string, number> = {};
  const ks = rows.flatMap((r) => (r.k === null ? [] : [r.k]));
  const ss = rows.flatMap((r) => (r.s === null ? [] : [r.s])).sort(style === 'java' ? undefined : utf8Compare);
  const ds = rows.flatMap((r) => (r.d === null || Number.isNaN(r.d) || !Number.isFinite(r.d) ? [] : [r.d]));
  const tss = rows.flatMap((r) => (r.ts === null ? [] : [r.ts]));
  if (ks.length > 0) [min['k'], max['k']] = [Math.min(...ks), Math.max(...ks)];
  if (ss.length > 0) [min['s'], max['s']] = [cut(ss[0]!), cut(ss.at(-1)!)];
  if (ds.length > 0) [min['d'], max['d']] = [Math.min(...ds), Math.max(...ds)];
  if (tss.length > 0) [min['ts'], max['ts']] = [tsIso(Math.min(...tss)), tsIso(Math.max(...tss))];
  for (const c of ['k', 's', 'd', 'ts'] as const) nulls[c] = rows.filter((r) => r[c] === null).length;
  if (style === 'partial') {
    delete min['s'];
    delete max['k'];
    delete nulls['d'];
  }
  return JSON.stringify({ numRecords: rows.length, minValues: min, maxValues: max, nullCount: nulls });
}

/** Rewrites the stats of the adds of one commit. */
function restat(tableRoot: string, version: number, b: Batch): void {
  if (b.style === 'ours') return;
  const file = path.join(tableRoot, '_delta_log', commitFileName(version));
  const actions: Action[] = parseCommitText(readFileSync(file, 'utf8'), file).map((a) => {
    if (a.kind !== 'add') return a;
    const add = { ...a.add };
    if (b.style === 'missing') delete add.stats;
    else if (b.style === 'garbage') add.stats = '{"numRecords": 0, "minValues": {';
    else add.stats = foreignStats(b.rows, b.style);
    return { kind: 'add', add };
  });
  writeFileSync(file, serializeCommit(actions));
}

const column = fc.constantFrom('k', 's', 'd', 'ts', 'p');

/** Constants for column `c`: random ones, and ones taken from (or next to) the table's own values, where skipping decisions are close. */
function constantFor(c: string, batches: Batch[]): fc.Arbitrary<string> {
  const rows = batches.flatMap((b) => b.rows);
  const own = <T,>(pick: (r: Row) => T | null): T[] => rows.flatMap((r) => (pick(r) === null ? [] : [pick(r)!]));
  const near = <T,>(random: fc.Arbitrary<T>, values: T[]): fc.Arbitrary<T> => (values.length === 0 ? random : fc.oneof({ arbitrary: random, weight: 1 }, { arbitrary: fc.constantFrom(...values), weight: 3 }));
  switch (c) {
    case 'k':
      return near(fc.integer({ min: -6, max: 6 }), own((r) => r.k)).map(String);
    case 's': {
      const values = own((r) => r.s);
      return near(str, [...values, ...values.map((v) => `${v}a`), ...values.map((v) => v.slice(0, -1))]).map(quote);
    }
    case 'd':
      return near(dbl, own((r) => r.d)).map(dblSql);
    case 'ts': {
      const values = own((r) => r.ts);
      return near(ts, [...values, ...values.map((v) => v + 1), ...values.map((v) => v - 1)]).map(tsSql);
    }
    default:
      return fc.constantFrom('1', '2', '3');
  }
}

function predicateFor(batches: Batch[]): fc.Arbitrary<string> {
  const atom: fc.Arbitrary<string> = column.chain((c) =>
    fc.oneof(
      fc.tuple(fc.constantFrom('=', '<>', '<', '<=', '>', '>='), constantFor(c, batches), fc.boolean()).map(([op, v, flip]) => (flip ? `${v} ${op} ${c}` : `${c} ${op} ${v}`)),
      fc.tuple(constantFor(c, batches), constantFor(c, batches)).map(([a, b]) => `${c} BETWEEN ${a} AND ${b}`),
      fc.array(constantFor(c, batches), { minLength: 1, maxLength: 3 }).map((vs) => `${c} IN (${vs.join(', ')})`),
      fc.constantFrom(`${c} IS NULL`, `${c} IS NOT NULL`),
    ),
  );
  return fc.letrec((tie) => ({
    expr: fc.oneof({ depthSize: 'small', withCrossShrink: true }, atom, fc.tuple(tie('expr'), fc.constantFrom('AND', 'OR'), tie('expr')).map(([a, op, b]) => `(${a} ${op} ${b})`)),
  })).expr as fc.Arbitrary<string>;
}

const scenario = fc.array(batch, { minLength: 1, maxLength: 4 }).chain((batches) => fc.tuple(fc.constant(batches), fc.array(predicateFor(batches), { minLength: 1, maxLength: 8 })));

describe('data skipping (property)', () => {
  it('for random tables, stats (ours, missing, truncated, partial) and predicates, the rows with skipping equal the rows without', async () => {
    let run = 0;
    let skipped = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async ([batches, predicates]) => {
        const table = resolveTable(temp.lake, `silver.skip_${run++}`);
        for (const [i, b] of batches.entries()) {
          const result = await writeTable(temp.lake, { table, source: source(b), mode: 'append', partitionBy: ['p'] });
          expect(result.status).toBe('committed');
          restat(table.tableRoot, i, b);
        }
        for (const where of predicates) {
          const sql = `SELECT k, s, d, ts, p FROM silver.skip_${run - 1} WHERE ${where} ORDER BY ALL`;
          const on = await runQuery(temp.lake, sql);
          const off = await runQuery(temp.lake, sql, { dataSkipping: false });
          expect(on.rows, where).toEqual(off.rows);
          skipped += on.views[0]!.filesSkippedByStats ?? 0;
        }
      }),
      {
        numRuns: 50,
        examples: [
          // A max cut to 32 characters lies below the file's real max.
          [[[{ p: 1, rows: [{ k: 1, s: `${'b'.repeat(31)}zzzz`, d: 1, ts: null }, { k: 2, s: 'a', d: Number.NaN, ts: null }], style: 'foreign' }], [`s = '${'b'.repeat(31)}zzzz'`, 'd > 1']]],
          // Java orders '\u{10000}' below '\uE000'; DuckDB (bytes) above.
          [[[{ p: 1, rows: [{ k: 1, s: '\uE000', d: 1, ts: null }, { k: 2, s: '\u{10000}', d: 2, ts: null }], style: 'java' }], ["s = '\uE000'", "s > '\uE000'"]]],
        ],
      },
    );
    // The property is about skipped files: some runs must have skipped some.
    expect(skipped).toBeGreaterThan(0);
  }, 300_000);
});
