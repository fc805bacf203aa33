/**
 * `_last_checkpoint` (PROTOCOL.md "Last Checkpoint File Schema"): a hint pointing readers at the
 * newest checkpoint. It is only a hint: a missing, unreadable or stale one is tolerated (the log
 * listing decides). Unlike log entries it may be replaced, but never moves back to an older version.
 */
import { joinLocation, readTextIfExists, replaceFile } from '../storage/index.js';
import { listLog, listLogFrom, logRootOf, type LogListing } from './log.js';
import { LAST_CHECKPOINT } from './log-path.js';

/** What a reader takes from `_last_checkpoint`. */
export interface LastCheckpointHint {
  version: number;
  size?: number;
  parts?: number;
}

/** What a writer records in `_last_checkpoint` after writing the checkpoint of `version`. */
export interface LastCheckpoint {
  version: number;
  /** Number of actions (rows) in the checkpoint. */
  size: number;
  parts: number;
  sizeInBytes: number;
  numOfAddFiles: number;
}

export async function readLastCheckpoint(tableRoot: string): Promise<LastCheckpointHint | undefined> {
  const text = await readTextIfExists(joinLocation(logRootOf(tableRoot), LAST_CHECKPOINT));
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as LastCheckpointHint;
    return typeof value.version === 'number' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The listing a load of the latest version needs: the log from the checkpoint `_last_checkpoint`
 * names on (`listLogFrom`, partial), so a long log on S3 costs one listing page, not one per 1,000
 * files. The whole log instead when the hint is missing or unreadable, or names a checkpoint the
 * partial listing does not hold complete (a stale hint, an incomplete multi-part checkpoint, a
 * deleted one). A hint older than the newest checkpoint is harmless: the listing holds both.
 * Only for the latest version: time travel, history and vacuum list the whole log (`listLog`).
 */
export async function listLatestLog(tableRoot: string): Promise<LogListing> {
  // A hint the store fails to read is no hint: the whole log's listing then decides (or fails as it always did).
  const hint = await readLastCheckpoint(tableRoot).catch(() => undefined);
  if (hint === undefined || !Number.isSafeInteger(hint.version) || hint.version <= 0) return listLog(tableRoot);
  const listing = await listLogFrom(tableRoot, hint.version);
  return listing.checkpoints.has(hint.version) ? listing : listLog(tableRoot);
}

/** The file's JSON, fields in the spec's order; `parts` only for a multi-part checkpoint. */
export function lastCheckpointJson(hint: LastCheckpoint): string {
  return JSON.stringify({
    version: hint.version,
    size: hint.size,
    ...(hint.parts > 1 ? { parts: hint.parts } : {}),
    sizeInBytes: hint.sizeInBytes,
    numOfAddFiles: hint.numOfAddFiles,
  });
}

/** Points `_last_checkpoint` at `hint.version`, unless it already points at a newer version. */
export async function writeLastCheckpoint(tableRoot: string, hint: LastCheckpoint): Promise<void> {
  const current = await readLastCheckpoint(tableRoot);
  if (current !== undefined && current.version > hint.version) return;
  await replaceFile(joinLocation(logRootOf(tableRoot), LAST_CHECKPOINT), lastCheckpointJson(hint));
}
