/**
 * Committing a version (PROTOCOL.md "Delta Log Entries"): the commit file is published with
 * put-if-absent through the storage port; a lost race is resolved by reading the winners and
 * either retrying on top of them or returning a conflict (a value, not an exception).
 */
import { LakeError, systemClock, type Clock } from '../core/index.js';
import { joinLocation, putIfAbsent } from '../storage/index.js';
import { serializeCommit, type Action, type CommitInfoAction } from './actions.js';
import { listLogFrom, logRootOf, readCommit } from './log.js';
import { commitFileName } from './log-path.js';
import { partitionKey } from './partition.js';
import { fileKey } from './replay.js';

/**
 * What a transaction may tolerate from commits that won the race (README.md "How tables are
 * stored", optimistic concurrency). Whatever the kind, a winner that changed metadata or protocol,
 * or advanced the `txn` version of one of our application ids, conflicts.
 * - `append`: blind append; nothing else conflicts.
 * - `replace`: replaces the listed partitions (keys from `partitionKey`); conflicts with any
 *   winner that added or removed files (`dataChange`) in one of them.
 * - `overwrite`: replaces the whole table; conflicts with any winner that changed data.
 * - `metadata`: changes metadata or protocol (schema change, restore); conflicts as `overwrite`.
 * - `create`: version 0; any winner means the table exists now.
 * - `rewrite`: rewrites the listed files without changing data (OPTIMIZE; keys from `fileKey`);
 *   conflicts only with a winner that removed one of them. Appends, and changes to other files,
 *   go through.
 * Whatever the kind, a winner that removed a file this commit removes conflicts too: a winner's
 * `dataChange: false` rewrite of those files (a concurrent OPTIMIZE) put their rows in new
 * files, which our removes would not remove.
 */
export type Isolation =
  | { kind: 'append' }
  | { kind: 'replace'; partitionColumns: readonly string[]; partitions: ReadonlySet<string> }
  | { kind: 'overwrite' }
  | { kind: 'create' }
  | { kind: 'metadata' }
  | { kind: 'rewrite'; files: ReadonlySet<string> };

export interface CommitRequest {
  tableRoot: string;
  table: string;
  /** The version the actions were prepared against; -1 when creating the table. */
  readVersion: number;
  /** Every action except commitInfo; prepared once, reused by every attempt. */
  actions: Action[];
  commitInfo: CommitInfoAction;
  isolation: Isolation;
  maxAttempts?: number;
  /** The time stamped into commitInfo when it has no `timestamp` (default the system clock). */
  clock?: Clock;
}

export type CommitOutcome =
  | { status: 'committed'; version: number; attempts: number }
  | { status: 'conflict'; attempts: number; winner: number; reason: string };

export const DEFAULT_MAX_ATTEMPTS = 25;

/** Why a winning commit conflicts with ours, or `undefined` when ours can go on top of it. */
export function conflictReason(winner: readonly Action[], ours: readonly Action[], isolation: Isolation): string | undefined {
  if (isolation.kind === 'create') return 'the table was created by another writer';
  for (const action of winner) {
    if (action.kind === 'metaData') return 'a concurrent commit changed the table metadata (schema, partitioning or properties)';
    if (action.kind === 'protocol') return 'a concurrent commit changed the table protocol';
  }
  const ourApps = new Set(ours.flatMap((a) => (a.kind === 'txn' ? [a.txn.appId] : [])));
  for (const action of winner) {
    if (action.kind === 'txn' && ourApps.has(action.txn.appId)) return `a concurrent commit advanced the transaction id of application '${action.txn.appId}'`;
  }
  const ourRemoves = new Set(ours.flatMap((a) => (a.kind === 'remove' ? [fileKey(a.remove)] : [])));
  if (isolation.kind === 'rewrite') for (const key of isolation.files) ourRemoves.add(key);
  // Checked for every isolation, but reported after the more specific reasons below.
  const both = winner.find((a) => a.kind === 'remove' && ourRemoves.has(fileKey(a.remove)));
  const removedTwice = both?.kind === 'remove' ? `a concurrent commit removed ${both.remove.path}, which this operation also removes` : undefined;
  if (isolation.kind === 'append' || isolation.kind === 'rewrite') return removedTwice;
  const changes: { partitionValues?: Record<string, string | null> | null }[] = [];
  for (const a of winner) {
    if (a.kind === 'add' && a.add.dataChange) changes.push(a.add);
    else if (a.kind === 'remove' && a.remove.dataChange) changes.push(a.remove);
  }
  if (isolation.kind === 'overwrite' || isolation.kind === 'metadata') {
    return changes.length > 0 ? 'a concurrent commit changed data in the table this operation replaces' : removedTwice;
  }
  for (const change of changes) {
    const key = partitionKey(isolation.partitionColumns, change.partitionValues ?? {});
    if (isolation.partitions.has(key)) return `a concurrent commit changed partition ${key} that this operation replaces`;
  }
  return removedTwice;
}

/**
 * Commits with put-if-absent and optimistic retries: only the serialized commit is rebuilt per
 * attempt, the actions are prepared once. Returns a value on conflict; the caller turns it into
 * DELTA_COMMIT_CONFLICT (`conflictError`) or retries the whole operation, if it can.
 */
export async function commitWithRetry(request: CommitRequest): Promise<CommitOutcome> {
  const logRoot = logRootOf(request.tableRoot);
  const maxAttempts = request.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  let readVersion = request.readVersion;
  let version = readVersion + 1;
  const clock = request.clock ?? systemClock;
  for (let attempt = 1; ; attempt++) {
    const commitInfo: CommitInfoAction = { ...request.commitInfo, timestamp: request.commitInfo.timestamp ?? clock.now() };
    if (readVersion >= 0) commitInfo.readVersion = readVersion;
    const body = serializeCommit([{ kind: 'commitInfo', commitInfo }, ...request.actions]);
    const result = await putIfAbsent(joinLocation(logRoot, commitFileName(version)), body, { written: 'commit.temp-written', linked: 'commit.linked' });
    if (result.status === 'written') return { status: 'committed', version, attempts: attempt };
    // Lost the race: check every commit that won since we read. Commit `version` exists, so the
    // log from it on (one listing page on S3, however long the log) holds the newest commit.
    const listing = await listLogFrom(request.tableRoot, version);
    const latest = listing.maxCommit ?? version;
    for (let v = version; v <= latest; v++) {
      const winner = await readCommit(request.tableRoot, v);
      const reason = conflictReason(winner, request.actions, request.isolation);
      if (reason) return { status: 'conflict', attempts: attempt, winner: v, reason };
    }
    if (attempt >= maxAttempts) {
      return { status: 'conflict', attempts: attempt, winner: latest, reason: `still losing the race after ${attempt} attempts` };
    }
    readVersion = latest;
    version = latest + 1;
  }
}

export function conflictError(table: string, outcome: Extract<CommitOutcome, { status: 'conflict' }>): LakeError {
  return new LakeError('DELTA_COMMIT_CONFLICT', `${table}: commit failed after ${outcome.attempts} attempt(s): ${outcome.reason} (version ${outcome.winner})`, {
    hint: 'Nothing was committed and the table is at its last good version. Re-run the command; it will read the new version first.',
    details: { winner: outcome.winner, attempts: outcome.attempts },
  });
}
