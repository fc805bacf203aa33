import { commitsBehindCurrent, type TableRef } from '../../table/index.js';

/** What the current state of a mart was built from, as its newest build-gold commit recorded it. */
export interface LastBuild {
  ruleSha256: string | undefined;
  sourceVersions: Record<string, number>;
  sourceTableIds: Record<string, string>;
}

/**
 * The newest build-gold commit behind the mart's current version, following a RESTORE back to the
 * version it restored. Undefined (a full rebuild) when the newest data change was made by anything else.
 */
export async function lastGoldBuild(mart: TableRef): Promise<LastBuild | undefined> {
  // Newest first, reading a commit only when the walk gets to it (commitsBehindCurrent).
  for await (const entry of commitsBehindCurrent(mart)) {
    const gold = entry.commitInfo?.['gold'] as { rule_sha256?: unknown; source_versions?: unknown; source_table_ids?: unknown } | undefined;
    if (gold && typeof gold.source_versions === 'object' && gold.source_versions !== null) {
      return {
        ruleSha256: typeof gold.rule_sha256 === 'string' ? gold.rule_sha256 : undefined,
        sourceVersions: gold.source_versions as Record<string, number>,
        sourceTableIds: (gold.source_table_ids ?? {}) as Record<string, string>,
      };
    }
    if (entry.changesFiles) return undefined;
  }
  return undefined;
}
