import { describe, expect, it } from 'vitest';
import { castRule, compareSchemas } from '../../../src/pipeline/index.js';

describe('schema drift rule', () => {
  it.each([
    ['long', 'long', 'same'],
    ['double', 'string', 'cast'],
    ['integer', 'long', 'cast'],
    ['long', 'double', 'cast'],
    ['date', 'timestamp', 'cast'],
    ['long', 'integer', 'incompatible'],
    ['double', 'long', 'incompatible'],
    ['string', 'double', 'incompatible'],
    ['timestamp', 'date', 'incompatible'],
  ])('%s upstream into %s bronze: %s', (incoming, table, rule) => expect(castRule(incoming, table)).toBe(rule));

  const table = new Map([
    ['season', 'integer'],
    ['team', 'string'],
    ['wins', 'double'],
    ['games', 'integer'],
  ]);

  it('records new, missing and retyped columns; additive and widening changes are compatible', () => {
    const report = compareSchemas(
      [
        { name: 'season', type: 'integer' },
        { name: 'team', type: 'string' },
        { name: 'wins', type: 'long' },
        { name: 'book', type: 'string' },
      ],
      table,
      { season: 'integer', team: 'string', wins: 'double', games: 'integer' },
      ['season', 'team'],
    );
    expect(report).toEqual({
      drift: { added: [{ name: 'book', type: 'string' }], missing: ['games'], retyped: [{ name: 'wins', from: 'double', to: 'long', resolution: 'cast' }] },
      incompatible: [],
    });
  });

  it('stops on a missing key or partition column and on a narrowing type change', () => {
    const report = compareSchemas([{ name: 'season', type: 'integer' }, { name: 'games', type: 'double' }], table, undefined, ['season', 'team']);
    expect(report.incompatible).toEqual(['required column team (business key or partition) is missing', 'column games is integer in bronze but double upstream']);
  });

  it('reports nothing against a table that does not exist yet', () => {
    expect(compareSchemas([{ name: 'season', type: 'integer' }], undefined, undefined, ['season'])).toEqual({ drift: { added: [], missing: [], retyped: [] }, incompatible: [] });
  });
});
