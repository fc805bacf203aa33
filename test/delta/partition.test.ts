import { describe, expect, it } from 'vitest';
import { canonicalPartitionValues, partitionKey, timestampPartitionColumns, utcTimestampPartitionValue } from '../../src/delta/index.js';

describe('utcTimestampPartitionValue', () => {
  it.each([
    ['2021-03-14T14:59:59.123456Z', '2021-03-14T14:59:59.123456Z'],
    ['2021-03-14 14:59:59.123456', '2021-03-14T14:59:59.123456Z'],
    ['2021-03-14 14:59:59', '2021-03-14T14:59:59.000000Z'],
    ['2021-09-08 11:11:11', '2021-09-08T11:11:11.000000Z'],
    ['2021-03-14T09:59:59.5-05:00', '2021-03-14T14:59:59.500000Z'],
    ['2021-03-15T00:29:59.123456+0930', '2021-03-14T14:59:59.123456Z'],
    ['1969-12-31 23:59:59.999999', '1969-12-31T23:59:59.999999Z'],
    ['0099-01-01 00:00:00', '0099-01-01T00:00:00.000000Z'],
    ['2021-03-14 14:59:59.123456789', '2021-03-14T14:59:59.123456Z'],
  ])('reads %s as %s', (input, expected) => {
    expect(utcTimestampPartitionValue(input)).toBe(expected);
  });

  it.each(['', 'null', '2021-03-14', 'yesterday', '2021-03-14 25:00', '2021-03-14 24:00:00', '2021-13-01 00:00:00'])('says %j is not a timestamp', (input) => {
    expect(utcTimestampPartitionValue(input)).toBeUndefined();
  });
});

describe('canonicalPartitionValues', () => {
  const schema = {
    type: 'struct' as const,
    fields: [
      { name: 'ts', type: 'timestamp' as const, nullable: true, metadata: {} },
      { name: 'ntz', type: 'timestamp_ntz' as const, nullable: true, metadata: {} },
      { name: 'p', type: 'string' as const, nullable: true, metadata: {} },
    ],
  };

  it('finds the timestamp partition columns only (timestamp_ntz values have one form)', () => {
    expect([...timestampPartitionColumns(schema, ['ts', 'ntz', 'p'])]).toEqual(['ts']);
  });

  it('makes a zone-less and a UTC ISO value of one instant the same partition, and leaves NULL and other columns alone', () => {
    const columns = new Set(['ts']);
    const old = canonicalPartitionValues(columns, { ts: '2024-01-01 10:00:00.123456', ntz: '2024-01-01 10:00:00', p: 'x' });
    const ours = canonicalPartitionValues(columns, { ts: '2024-01-01T10:00:00.123456Z', ntz: '2024-01-01 10:00:00', p: 'x' });
    expect(partitionKey(['ts', 'ntz', 'p'], old)).toBe(partitionKey(['ts', 'ntz', 'p'], ours));
    expect(old).toEqual({ ts: '2024-01-01T10:00:00.123456Z', ntz: '2024-01-01 10:00:00', p: 'x' });
    expect(canonicalPartitionValues(columns, { ts: null })).toEqual({ ts: null });
  });
});
