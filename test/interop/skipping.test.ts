import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { literal } from '../../src/engine/index.js';
import { prepareQuery } from '../../src/table/index.js';
import { tempLake } from '../helpers/temp-lake.js';
import { canonical, duckdbAnswer } from './normalize.js';
import { announceSkip, oracleQuery, REPO_ROOT } from './oracle.js';

/**
 * Issue 17: data skipping by file stats never changes an answer. On every conformance table (at
 * its latest version), predicates on each plain column, with constants taken from the table's
 * own values, read the same rows through our reader with skipping, without it, through delta-rs
 * (DataFusion file skipping) and through DuckDB's delta extension (delta-kernel skipping).
 */
const skip = announceSkip('data skipping against delta-rs and the DuckDB delta extension');
const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'delta-conformance', 'tables');
const GOLDEN = path.join(REPO_ROOT, 'test', 'conformance', 'golden');

const t = tempLake('lake-skipping-interop-');

const tables = readdirSync(GOLDEN).map((table) => {
  const versions = readdirSync(path.join(GOLDEN, table)).flatMap((f) => (/^v\d+\.json$/.test(f) ? [Number(f.slice(1, -5))] : []));
  return [table, Math.max(...versions)] as const;
});

/** Column types whose constants every reader writes the same way (bare numbers, quoted strings and dates). */
const PLAIN = /^(TINYINT|SMALLINT|INTEGER|BIGINT|DOUBLE|FLOAT|VARCHAR|DATE)$/;

/** Predicates on each plain column around one of its values (the median), plus IS [NOT] NULL. */
async function predicatesFor(truth: string): Promise<string[]> {
  const columns = await t.lake.engine.rows<{ column_name: string; column_type: string }>(`SELECT column_name, column_type FROM (DESCRIBE ${truth})`);
  const predicates: string[] = [];
  for (const { column_name: name, column_type: type } of columns) {
    if (!PLAIN.test(type) || !/^[a-z_][a-z0-9_]*$/i.test(name)) continue;
    const [row] = await t.lake.engine.rows<{ v: string | null }>(`SELECT CAST(quantile_disc("${name}", 0.5) AS VARCHAR) AS v FROM ${truth} WHERE NOT (CAST("${name}" AS VARCHAR) IN ('NaN', 'inf', '-inf'))`);
    if (row?.v === null || row?.v === undefined) continue;
    const value = /^(VARCHAR|DATE)$/.test(type) ? literal(row.v) : row.v;
    predicates.push(`${name} = ${value}`, `${name} < ${value}`, `${name} >= ${value}`, `${name} IS NULL`, `${name} IS NOT NULL`);
  }
  return predicates;
}

describe.skipIf(skip)('data skipping on the conformance tables', () => {
  let skippedFiles = 0;

  it.each(tables)('%s at version %i: every reader returns the same rows for each predicate', async (table, version) => {
    const tableRoot = path.join(FIXTURES, table);
    const scan = `SELECT * FROM delta_scan(${literal(tableRoot)}, version => ${version})`;
    const truth = `truth_${table.replace(/[^a-z0-9]/gi, '_')}`;
    let base;
    try {
      base = await prepareQuery(t.lake, scan, { dataSkipping: false });
    } catch {
      return; // tables our reader refuses (checked by the conformance suite)
    }
    await t.lake.engine.connection.run(`CREATE OR REPLACE TEMP TABLE ${truth} AS ${base.sql}`);
    const predicates = await predicatesFor(truth);
    if (predicates.length === 0) return;
    const [deltalake, duckdb] = await Promise.all([
      oracleQuery(tableRoot, 'deltalake', version, predicates),
      oracleQuery(tableRoot, 'duckdb', version, predicates),
    ]);
    for (const [i, where] of predicates.entries()) {
      const label = `${table} v${version} WHERE ${where}`;
      const want = canonical(await duckdbAnswer(t.lake.engine.connection, `SELECT * FROM ${truth} WHERE ${where}`)).rows;
      const ours = await prepareQuery(t.lake, `${scan} WHERE ${where}`);
      skippedFiles += ours.views[0]?.filesSkippedByStats ?? 0;
      expect.soft(canonical(await duckdbAnswer(t.lake.engine.connection, ours.sql)).rows, `ours with data skipping, ${label}`).toEqual(want);
      expect.soft(canonical(deltalake[i]!).rows, `delta-rs, ${label}`).toEqual(want);
      expect.soft(canonical(duckdb[i]!).rows, `duckdb delta extension, ${label}`).toEqual(want);
    }
  });

  it('skipped files somewhere (the comparison above is about skipping)', () => {
    expect(skippedFiles).toBeGreaterThan(0);
  });
});
