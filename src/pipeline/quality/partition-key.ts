import { ident } from '../../engine/index.js';

/**
 * SQL computing a row's partition key exactly as `partitionKey` (src/delta/partition.ts) writes
 * it for the log: the JSON array of the partition values as text, '' and NULL both null (the
 * writer stores an empty partition value as NULL). Lets one query check many partitions.
 */
export function partitionKeySql(columns: readonly string[], alias?: string): string {
  if (columns.length === 0) return "'[]'";
  const col = (c: string): string => (alias ? `${alias}.${ident(c)}` : ident(c));
  return `to_json([${columns.map((c) => `NULLIF(CAST(${col(c)} AS VARCHAR), '')`).join(', ')}])`;
}
