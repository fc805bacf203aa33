import { describe, expect, it } from 'vitest';
import { findTableRefs } from '../../src/table/index.js';

describe('findTableRefs', () => {
  it.each([
    ['SELECT * FROM silver.pbp', [{ kind: 'catalog', name: 'silver.pbp', at: undefined, text: 'silver.pbp' }]],
    ['SELECT * FROM silver.pbp AT (VERSION => 12) p', [{ kind: 'catalog', name: 'silver.pbp', at: { version: 12 }, text: 'silver.pbp AT (VERSION => 12)' }]],
    [
      "SELECT * FROM gold.fact_game at ( timestamp => '2026-09-10T06:00:00Z' )",
      [{ kind: 'catalog', name: 'gold.fact_game', at: { timestamp: '2026-09-10T06:00:00Z' }, text: "gold.fact_game at ( timestamp => '2026-09-10T06:00:00Z' )" }],
    ],
    ["SELECT * FROM delta_scan('/t/x', version => 3)", [{ kind: 'path', name: '/t/x', at: { version: 3 }, text: "delta_scan('/t/x', version => 3)" }]],
    ["SELECT * FROM delta_scan('it''s') AT (VERSION => 1)", [{ kind: 'path', name: "it's", at: { version: 1 }, text: "delta_scan('it''s') AT (VERSION => 1)" }]],
    ['SELECT * FROM "silver"."pbp"', [{ kind: 'catalog', name: 'silver.pbp', at: undefined, text: '"silver"."pbp"' }]],
  ])('finds the reference in %s', (sql, expected) => {
    const refs = findTableRefs(sql);
    expect(refs.map((r) => ({ kind: r.kind, name: r.name, at: r.at, text: sql.slice(r.start, r.end) }))).toEqual(expected);
  });

  it.each([
    "SELECT 'silver.pbp' AS s",
    'SELECT 1 -- FROM silver.pbp',
    'SELECT 1 /* silver.pbp */',
    'SELECT * FROM db.silver.pbp',
    'SELECT silver.pbp(1)',
    'SELECT * FROM silverx.pbp',
  ])('ignores what is not a lake table reference: %s', (sql) => {
    expect(findTableRefs(sql)).toEqual([]);
  });

  it('finds every reference of a join across versions', () => {
    const sql = 'SELECT * FROM silver.pbp AT (VERSION => 1) a JOIN silver.pbp b USING (play_id) JOIN bronze.pbp AT (VERSION => 2) c USING (play_id)';
    expect(findTableRefs(sql).map((r) => [r.name, r.at])).toEqual([
      ['silver.pbp', { version: 1 }],
      ['silver.pbp', undefined],
      ['bronze.pbp', { version: 2 }],
    ]);
  });
});
