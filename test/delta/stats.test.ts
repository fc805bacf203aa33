import { describe, expect, it } from 'vitest';
import { buildFileStats, parseColumnPath, type StructType } from '../../src/delta/index.js';

const schema: StructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', nullable: true, metadata: {} },
    { name: 'name', type: 'string', nullable: true, metadata: {} },
    { name: 'ts', type: 'timestamp', nullable: true, metadata: {} },
    { name: 'x', type: 'double', nullable: true, metadata: {} },
    { name: 's', type: { type: 'struct', fields: [{ name: 'a.b', type: 'integer', nullable: true, metadata: {} }] }, nullable: true, metadata: {} },
    { name: 'season', type: 'integer', nullable: true, metadata: {} },
  ],
};

describe('file stats from DuckDB RETURN_STATS', () => {
  it('parses quoted column paths', () => {
    expect(parseColumnPath('"s"."a.b"')).toEqual(['s', 'a.b']);
    expect(parseColumnPath('"we""ird"')).toEqual(['we"ird']);
  });

  it('builds numRecords, typed min/max and null counts; skips partition columns and NaN columns', () => {
    const stats = buildFileStats(
      10,
      {
        '"id"': { min: '1', max: '9', null_count: '0' },
        '"name"': { min: 'Aaron', max: 'x'.repeat(40), null_count: '2' },
        '"ts"': { min: '2020-01-01 00:00:00.1234+00', max: '2020-01-02 00:00:00.0005+00', null_count: '0' },
        '"x"': { min: '1.5', max: '2.5', null_count: '0', has_nan: 'true' },
        '"s"."a.b"': { min: '-3', max: '4', null_count: '1' },
        '"season"': { min: '2020', max: '2020', null_count: '0' },
      },
      schema,
      ['season'],
    );
    expect(stats).toEqual({
      numRecords: 10,
      minValues: { id: 1, ts: '2020-01-01T00:00:00.123Z', s: { 'a.b': -3 } },
      maxValues: { id: 9, ts: '2020-01-02T00:00:00.001Z', s: { 'a.b': 4 } },
      nullCount: { id: 0, name: 2, ts: 0, x: 0, s: { 'a.b': 1 } },
    });
  });

  it('writes no min/max for an all-null column', () => {
    const stats = buildFileStats(3, { '"id"': { null_count: '3' } }, schema, []);
    expect(stats.minValues).toEqual({});
    expect(stats.nullCount).toEqual({ id: 3 });
  });
});
