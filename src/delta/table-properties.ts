/**
 * Table properties (PROTOCOL.md "Table Properties" / Delta's `delta.*` configuration) and the rules
 * they drive: when a tombstone expires, how long deleted files are kept, when a commit is due for a
 * checkpoint. Pure: each rule takes the table's metadata (or snapshot) and the time or version.
 */
import { LakeError } from '../core/index.js';
import type { MetadataAction, RemoveAction } from './actions.js';
import type { Snapshot } from './snapshot.js';

/** Default `delta.deletedFileRetentionDuration`. */
export const DEFAULT_DELETED_FILE_RETENTION = 'interval 1 week';

/** Default `delta.checkpointInterval`: a checkpoint every this many commits. */
export const DEFAULT_CHECKPOINT_INTERVAL = 100;

const UNIT_MS: Record<string, number> = {
  microsecond: 0.001,
  millisecond: 1,
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
};

/**
 * Parses a Delta duration property such as `interval 7 days`, `interval 1 week`, `168 hours` or
 * `interval 1 day 12 hours` into milliseconds; `undefined` when it is not such a duration
 * (months and years are not durations: Delta rejects them too).
 */
export function parseIntervalMs(text: string): number | undefined {
  const tokens = text.trim().toLowerCase().split(/\s+/);
  if (tokens[0] === 'interval') tokens.shift();
  if (tokens.length === 0 || tokens.length % 2 !== 0) return undefined;
  let total = 0;
  for (let i = 0; i < tokens.length; i += 2) {
    const amount = tokens[i]!;
    const unit = tokens[i + 1]!.replace(/s$/, '');
    const factor = UNIT_MS[unit];
    if (!/^\d+$/.test(amount) || factor === undefined) return undefined;
    total += Number(amount) * factor;
  }
  return total;
}

/** `delta.deletedFileRetentionDuration` of the table, in milliseconds; USAGE when it is not a duration. */
export function deletedFileRetentionMs(snapshot: Pick<Snapshot, 'table' | 'metadata'>): number {
  const text = snapshot.metadata.configuration['delta.deletedFileRetentionDuration'] ?? DEFAULT_DELETED_FILE_RETENTION;
  const ms = parseIntervalMs(text);
  if (ms === undefined) {
    throw new LakeError('USAGE', `${snapshot.table}: table property delta.deletedFileRetentionDuration = '${text}' is not a duration`, {
      hint: "Set it to a value like 'interval 7 days' (units: week, day, hour, minute, second, millisecond).",
    });
  }
  return ms;
}

/**
 * The tombstones a checkpoint written at `now` still carries: those deleted less than
 * `delta.deletedFileRetentionDuration` before `now`. A missing `deletionTimestamp` counts as 0.
 */
export function unexpiredTombstones(snapshot: Pick<Snapshot, 'table' | 'metadata' | 'tombstones'>, now: number): RemoveAction[] {
  const horizon = now - deletedFileRetentionMs(snapshot);
  return snapshot.tombstones.filter((r) => (r.deletionTimestamp ?? 0) > horizon);
}

/** `delta.checkpointInterval` of the table (default 100); not a positive number means never. */
export function checkpointInterval(metadata: MetadataAction | undefined): number {
  return Number(metadata?.configuration['delta.checkpointInterval'] ?? DEFAULT_CHECKPOINT_INTERVAL);
}

/** Whether the commit of `version` should be followed by a checkpoint: every interval-th version after 0. */
export function checkpointDue(metadata: MetadataAction | undefined, version: number): boolean {
  const interval = checkpointInterval(metadata);
  return interval > 0 && version > 0 && version % interval === 0;
}
