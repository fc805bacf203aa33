import { ident, type Engine } from '../engine/index.js';

/**
 * The lineage fingerprint of one partition (DESIGN.md decision 9): its row count, the sha256 over
 * its sorted business keys and the range of `ingested_at`. Each key is serialized as a JSON array
 * of its values cast to text (`["2020_01_ARI_SF","1"]`, NULL as null); the keys are sorted by
 * their bytes, joined with '\n' and hashed (hex). Equal fingerprints mean the same set of keys.
 * A table without a key fingerprints every column instead.
 */
export interface PartitionFingerprint {
  rowCount: number;
  sha256: string;
  minIngestedAt: string | null;
  maxIngestedAt: string | null;
}

export function keyJsonSql(columns: readonly string[]): string {
  return `to_json([${columns.map((c) => `CAST(${ident(c)} AS VARCHAR)`).join(', ')}])`;
}

function iso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}

export async function fingerprintPartition(engine: Engine, relation: string, keyColumns: readonly string[]): Promise<PartitionFingerprint> {
  const [row] = await engine.rows<{ n: bigint | number; fp: string; lo: unknown; hi: unknown }>(
    `SELECT count(*) AS n, sha256(coalesce(string_agg(k, chr(10) ORDER BY k), '')) AS fp, min(ingested_at) AS lo, max(ingested_at) AS hi
     FROM (SELECT ${keyJsonSql(keyColumns)} AS k, ${ident('ingested_at')} AS ingested_at FROM ${relation} AS rel)`,
  );
  return { rowCount: Number(row?.n ?? 0), sha256: row?.fp ?? '', minIngestedAt: iso(row?.lo), maxIngestedAt: iso(row?.hi) };
}
