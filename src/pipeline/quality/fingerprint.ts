import { ident, type Engine } from '../../engine/index.js';
import { partitionKeySql } from './partition-key.js';

/**
 * The lineage fingerprint of a partition (docs/design.md decision 9): its row count, the sha256 over
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

/**
 * Per group of `relation` (`keyExpr AS pk`): its row count `n` and an order-independent digest `h`
 * of its rows (the sum of each row's hash over `columns`), so two relations hold the same rows
 * where both agree. `asText` hashes the values cast to text, for relations whose column types may
 * differ (staged Parquet against a Delta scan); otherwise the typed values are hashed.
 * `groupBy`: columns of `relation` returned (and grouped by) before `pk`, the rows ordered by them.
 */
export function rowsDigestSql(relation: string, keyExpr: string, columns: readonly string[], options: { asText?: boolean; groupBy?: readonly string[] } = {}): string {
  const values = columns.map((c) => (options.asText ? `CAST(${ident(c)} AS VARCHAR)` : ident(c)));
  const groups = options.groupBy?.length ? options.groupBy.map((c) => `${ident(c)}, `).join('') : '';
  return `SELECT ${groups}${keyExpr} AS pk, count(*) AS n, sum(hash(${values.join(', ')}))::HUGEINT AS h FROM ${relation} AS rows GROUP BY ALL${groups ? ' ORDER BY ALL' : ''}`;
}

export function keyJsonSql(columns: readonly string[]): string {
  return `to_json([${columns.map((c) => `CAST(${ident(c)} AS VARCHAR)`).join(', ')}])`;
}

function iso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}

/**
 * Fingerprints of every partition in a relation, by partition key (src/delta/partition.ts
 * `partitionKey`). `versions`: also the partition's distinct `upstream_version`s, sorted (nulls
 * left out), in the same scan. `flags`: SQL conditions over the relation's columns (a quality
 * gate's row rules, `rowRuleViolations`); `flagCounts[i]` counts the partition's rows where
 * `flags[i]` is true, in the same scan (one statement fewer per promoted group).
 */
export async function fingerprintPartitions(
  engine: Engine,
  relation: string,
  partitionColumns: readonly string[],
  keyColumns: readonly string[],
  options: { versions?: boolean; flags?: readonly string[] } = {},
): Promise<Map<string, PartitionFingerprint & { upstreamVersions?: string[]; flagCounts?: number[] }>> {
  const versions = options.versions ? `, list(DISTINCT upstream_version ORDER BY upstream_version) FILTER (WHERE upstream_version IS NOT NULL) AS versions` : '';
  const upstream = options.versions ? `, ${ident('upstream_version')} AS upstream_version` : '';
  const flags = options.flags ?? [];
  const flagged = flags.map((f, i) => `, (${f}) AS __flag${i}`).join('');
  const counted = flags.map((_, i) => `, count(*) FILTER (WHERE __flag${i}) AS __flags${i}`).join('');
  const rows = await engine.rows<{ pk: string; n: bigint | number; fp: string; lo: unknown; hi: unknown; versions?: string[] | null } & Record<string, unknown>>(
    `SELECT pk, count(*) AS n, sha256(coalesce(string_agg(k, chr(10) ORDER BY k), '')) AS fp, min(ingested_at) AS lo, max(ingested_at) AS hi${versions}${counted}
     FROM (SELECT ${partitionKeySql(partitionColumns)} AS pk, ${keyJsonSql(keyColumns)} AS k, ${ident('ingested_at')} AS ingested_at${upstream}${flagged} FROM ${relation} AS rel)
     GROUP BY pk`,
  );
  return new Map(
    rows.map((r) => [
      r.pk,
      {
        rowCount: Number(r.n),
        sha256: r.fp,
        minIngestedAt: iso(r.lo),
        maxIngestedAt: iso(r.hi),
        ...(options.versions ? { upstreamVersions: r.versions ?? [] } : {}),
        ...(options.flags ? { flagCounts: flags.map((_, i) => Number(r[`__flags${i}`] ?? 0)) } : {}),
      },
    ]),
  );
}

/** An empty partition's fingerprint (no rows: the hash of the empty string). */
export const EMPTY_FINGERPRINT: PartitionFingerprint = { rowCount: 0, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', minIngestedAt: null, maxIngestedAt: null };
