import { commitsBehindCurrent, type TableRef } from '../../table/index.js';

export interface LastPromote {
  bronzeVersion: number;
  bronzeTableId: string | undefined;
  /** The sha256 of the rule (with the team-code mapping, key and dedupe) that commit applied. */
  ruleSha256: string | undefined;
}

/**
 * The bronze version the current silver state was built from, read from silver's log alone: the
 * newest promote commit, following a RESTORE back to the version it restored and past OPTIMIZE
 * rewrites. Undefined (a full rebuild) when the newest data change was made by anything else.
 */
export async function lastPromote(silver: TableRef): Promise<LastPromote | undefined> {
  // Newest first, reading a commit only when the walk gets to it: usually the newest is the promote.
  for await (const entry of commitsBehindCurrent(silver)) {
    const promote = entry.commitInfo?.['promote'] as { bronze_version?: unknown; bronze_table_id?: unknown; rule?: { sha256?: unknown } } | undefined;
    if (typeof promote?.bronze_version === 'number') {
      return {
        bronzeVersion: promote.bronze_version,
        bronzeTableId: typeof promote.bronze_table_id === 'string' ? promote.bronze_table_id : undefined,
        ruleSha256: typeof promote.rule?.sha256 === 'string' ? promote.rule.sha256 : undefined,
      };
    }
    // A rewrite (OPTIMIZE: dataChange false) keeps the rows the promote wrote.
    if (entry.operation === 'OPTIMIZE') continue;
    if (entry.changesFiles) return undefined;
  }
  return undefined;
}
