import { describe, expect, it } from 'vitest';
import { parseCatalog } from '../../../src/pipeline/index.js';
import { thingsCatalog } from '../../helpers/things-catalog.js';

/** `bronze_retention` (README "Bronze garbage collection"): all by default, or { latest_batches: n }. */
describe('catalog bronze_retention', () => {
  it.each([
    ['', { kind: 'all' }],
    ['    bronze_retention: all\n', { kind: 'all' }],
    ['    bronze_retention: { latest_batches: 2 }\n', { kind: 'latest_batches', n: 2 }],
  ])('%j parses to %j', (extra, want) => {
    expect(parseCatalog(thingsCatalog(extra), 'x.yml').datasets[0]!.bronzeRetention).toEqual(want);
  });

  it.each(['    bronze_retention: some\n', '    bronze_retention: { latest_batches: 0 }\n', '    bronze_retention: { keep: 1 }\n'])('refuses %j with CATALOG_INVALID naming the field', (extra) => {
    expect(() => parseCatalog(thingsCatalog(extra), 'x.yml')).toThrow(expect.objectContaining({ code: 'CATALOG_INVALID', message: expect.stringContaining('datasets.things.bronze_retention') }));
  });
});
