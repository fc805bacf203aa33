/**
 * Reading `_delta_log/` (PROTOCOL.md "Delta Log Entries", "Checkpoints"): listing it, choosing the
 * log segment that rebuilds a version, and reading commits. All I/O goes through the storage port.
 */
import { LakeError } from '../core/index.js';
import { joinLocation, listNames, readFileIfExists, readRangeIfExists, readTextIfExists, statIfExists } from '../storage/index.js';
import { commitInfoOf, commitLines, parseCommitLines, parseCommitText, type Action } from './actions.js';
import { LOG_DIR, commitFileName, padVersion, parseLogFileName } from './log-path.js';

/**
 * What `_delta_log/` holds: commits by version and complete checkpoints by version. A `partial`
 * listing (`listLogFrom`) holds only the files of versions `from` and later: it can build the
 * latest version (when it holds a checkpoint at or after `from`) and find the newest commit, but
 * its `minCommit` is not the log's, and `earliestVersion`/`versionAtTimestamp` refuse it.
 */
export interface LogListing {
  logRoot: string;
  commits: Map<number, { name: string }>;
  checkpoints: Map<number, CheckpointFiles>;
  minCommit: number | undefined;
  maxCommit: number | undefined;
  /** True when only the files of versions ≥ `from` were listed. */
  partial: boolean;
  /** The first version listed (0 for a whole listing). */
  from: number;
}

export interface CheckpointFiles {
  version: number;
  kind: 'classic' | 'multipart' | 'v2';
  /** File names inside `_delta_log/`, parts in order. */
  names: string[];
}

/** The files needed to rebuild one version: an optional checkpoint plus the commits after it. */
export interface LogSegment {
  version: number;
  checkpoint: CheckpointFiles | undefined;
  commits: number[];
}

export function logRootOf(tableRoot: string): string {
  return joinLocation(tableRoot, LOG_DIR);
}

/** The whole log: what history, vacuum, time travel and anything needing `earliestVersion` or `minCommit` list. */
export function listLog(tableRoot: string): Promise<LogListing> {
  return listLogFrom(tableRoot, 0);
}

/**
 * The files of versions `from` and later only (`partial` when `from` > 0): on S3 a ListObjectsV2
 * starting after the versions before it (StartAfter), so a long log costs one page from there on
 * instead of a page per 1,000 files. Names are 20-digit versions, so `<version from-1>.~` sorts
 * after every file of version from-1 (`.json`, `.crc`, `.checkpoint….parquet`) and before any of
 * version `from`; `_last_checkpoint` and `_sidecars/` sort after every version.
 */
export async function listLogFrom(tableRoot: string, from: number): Promise<LogListing> {
  const logRoot = logRootOf(tableRoot);
  const partial = Number.isSafeInteger(from) && from > 0;
  // Names only: a stat per file costs more than the rest of the listing on a 10,000-commit log.
  const names = await listNames(logRoot, partial ? { startAfter: `${padVersion(from - 1)}.~` } : {});
  const entries = names.map((name) => ({ name }));
  const commits = new Map<number, { name: string }>();
  const parts = new Map<string, { version: number; names: string[]; parts: number }>();
  const checkpoints = new Map<number, CheckpointFiles>();
  let minCommit: number | undefined;
  let maxCommit: number | undefined;
  for (const entry of entries) {
    const file = parseLogFileName(entry.name);
    if (!file || (partial && file.version < from)) continue;
    if (file.type === 'commit') {
      commits.set(file.version, { name: entry.name });
      minCommit = minCommit === undefined ? file.version : Math.min(minCommit, file.version);
      maxCommit = maxCommit === undefined ? file.version : Math.max(maxCommit, file.version);
    } else if (file.type === 'checkpoint') {
      if (file.parts !== undefined && file.parts > 1) {
        const key = `${file.version}/${file.parts}`;
        const group = parts.get(key) ?? { version: file.version, names: [], parts: file.parts };
        group.names.push(entry.name);
        parts.set(key, group);
      } else if (file.uuid !== undefined) {
        if (!checkpoints.has(file.version)) checkpoints.set(file.version, { version: file.version, kind: 'v2', names: [entry.name] });
      } else {
        checkpoints.set(file.version, { version: file.version, kind: 'classic', names: [entry.name] });
      }
    }
  }
  for (const group of parts.values()) {
    // A multi-part checkpoint counts only when every part is present.
    if (group.names.length === group.parts && !checkpoints.has(group.version)) {
      checkpoints.set(group.version, { version: group.version, kind: 'multipart', names: group.names.sort() });
    }
  }
  return { logRoot, commits, checkpoints, minCommit, maxCommit, partial, from: partial ? from : 0 };
}

/** Fails loudly when a partial listing reaches code that needs the whole log (a programming error, not a user's). */
export function requireWholeListing(listing: LogListing, use: string): void {
  if (listing.partial) throw new Error(`${use} needs the whole log of ${listing.logRoot}, but the listing starts at version ${listing.from} (listLog, not listLogFrom)`);
}

/** The newest version this log can rebuild (a checkpoint alone counts: the log may be truncated). */
export function latestVersion(listing: LogListing): number | undefined {
  let latest = listing.maxCommit;
  for (const v of listing.checkpoints.keys()) latest = latest === undefined ? v : Math.max(latest, v);
  return latest;
}

export function earliestVersion(listing: LogListing): number | undefined {
  requireWholeListing(listing, 'earliestVersion');
  // The earliest rebuildable version: 0 if the log starts there, else the earliest checkpoint.
  if (listing.commits.has(0)) return 0;
  let earliest: number | undefined;
  for (const v of listing.checkpoints.keys()) earliest = earliest === undefined ? v : Math.min(earliest, v);
  return earliest;
}

/**
 * Picks the newest complete checkpoint at or before `version` from which every commit up to
 * `version` is present. Fails with VERSION_NOT_FOUND when the version cannot be rebuilt.
 */
export function buildSegment(listing: LogListing, table: string, version?: number, skipCheckpoints: ReadonlySet<number> = new Set()): LogSegment {
  const latest = latestVersion(listing);
  if (latest === undefined) {
    throw new LakeError('TABLE_NOT_FOUND', `${table} is not a Delta table: ${listing.logRoot} holds no commits`, {
      hint: 'Check the table name or path; create the table with `lake write <table> --from … --mode overwrite`.',
    });
  }
  const target = version ?? latest;
  if (!Number.isInteger(target) || target < 0 || target > latest) {
    throw new LakeError('VERSION_NOT_FOUND', `${table} has no version ${target}; the latest version is ${latest}`, {
      hint: 'Run `lake history <table>` to see the versions.',
      details: { version: target, latest },
    });
  }
  const candidates = [...listing.checkpoints.keys()].filter((v) => v <= target && !skipCheckpoints.has(v)).sort((a, b) => b - a);
  for (const cp of [...candidates, -1]) {
    const commits: number[] = [];
    let complete = true;
    for (let v = cp + 1; v <= target; v++) {
      if (!listing.commits.has(v)) {
        complete = false;
        break;
      }
      commits.push(v);
    }
    if (complete) return { version: target, checkpoint: cp >= 0 ? listing.checkpoints.get(cp) : undefined, commits };
  }
  if (listing.partial) {
    // The versions before `from` were not listed: the caller lists the whole log and tries again.
    throw new LakeError('VERSION_NOT_FOUND', `${table} cannot rebuild version ${target} from the log after version ${listing.from}`, {
      hint: 'List the whole log (listLog) and try again.',
      details: { version: target, partialFrom: listing.from },
    });
  }
  const earliest = earliestVersion(listing);
  throw new LakeError('VERSION_NOT_FOUND', `${table} cannot rebuild version ${target}: its log files were cleaned up (earliest available version is ${earliest ?? 'none'})`, {
    hint: 'Time travel only reaches versions whose commits or a checkpoint are still in _delta_log.',
    details: { version: target, earliest },
  });
}

/**
 * Commits parsed in this process, by file and stats option, with the bytes they were parsed from.
 * A process reads the same commits again and again (a write loads the table before and after its
 * commit, a nightly update writes several files into one table, the promote and gold read the
 * logs the ingest read), and parsing a commit with hundreds of columns' stats costs far more than
 * reading it: a commit read again whose bytes are the same is not parsed again. The bytes decide,
 * not the name: a table removed and created again at the same path reuses commit names. The
 * actions are shared between callers, which never change them (as snapshots of the read cache
 * are shared); each caller gets its own array.
 */
const parsedCommits = new Map<string, { source: string | Uint8Array; actions: Action[] }>();
let parsedBytes = 0;
/** Bytes of commit files whose parse is kept (most recently read first out last), and the largest file kept. */
const PARSED_COMMITS_BYTES = 64 * 1024 * 1024;
const PARSED_COMMIT_MAX_BYTES = 8 * 1024 * 1024;

function sourceBytes(source: string | Uint8Array): number {
  return typeof source === 'string' ? source.length : source.byteLength;
}

function sameSource(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

function parsedOnce(key: string, source: string | Uint8Array, parse: () => Action[]): Action[] {
  const kept = parsedCommits.get(key);
  if (kept) {
    parsedCommits.delete(key);
    if (sameSource(kept.source, source)) {
      parsedCommits.set(key, kept);
      return [...kept.actions];
    }
    parsedBytes -= sourceBytes(kept.source);
  }
  const actions = parse();
  const size = sourceBytes(source);
  if (size <= PARSED_COMMIT_MAX_BYTES) {
    parsedCommits.set(key, { source, actions });
    parsedBytes += size;
    for (const [oldest, entry] of parsedCommits) {
      if (parsedBytes <= PARSED_COMMITS_BYTES) break;
      parsedCommits.delete(oldest);
      parsedBytes -= sourceBytes(entry.source);
    }
  }
  return [...actions];
}

/** The actions of one commit; `stats: false` leaves the stats of file actions out (`parseCommitLines`). */
export async function readCommit(tableRoot: string, version: number, options: { stats?: boolean } = {}): Promise<Action[]> {
  const file = joinLocation(logRootOf(tableRoot), commitFileName(version));
  const missing = (): LakeError =>
    new LakeError('VERSION_NOT_FOUND', `commit ${version} of ${tableRoot} is missing (${file})`, {
      hint: 'The log was cleaned up or is damaged; pick a later version.',
    });
  if (options.stats === false) {
    const bytes = await readFileIfExists(file);
    if (bytes === undefined) throw missing();
    return parsedOnce(`${file}\u0000lean`, bytes, () => parseCommitLines(commitLines(bytes, options), file, options));
  }
  const text = await readTextIfExists(file);
  if (text === undefined) throw missing();
  return parsedOnce(`${file}\u0000full`, text, () => parseCommitText(text, file));
}

/** How much of a commit `readCommitInfo` reads first, hoping the first line is commitInfo. */
const COMMIT_HEAD_BYTES = 64 * 1024;

/**
 * The commitInfo of a commit, reading only as much of the file as needed: writers put commitInfo
 * first, so the first line usually suffices; otherwise the whole commit is parsed.
 */
export async function readCommitInfo(tableRoot: string, version: number): Promise<Record<string, unknown> | undefined> {
  const file = joinLocation(logRootOf(tableRoot), commitFileName(version));
  const bytes = await readRangeIfExists(file, 0, COMMIT_HEAD_BYTES);
  if (bytes === undefined) return undefined;
  const head = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
  const newline = head.indexOf('\n');
  if (newline > 0) {
    try {
      const first = JSON.parse(head.slice(0, newline)) as Record<string, unknown>;
      if (first['commitInfo']) return first['commitInfo'] as Record<string, unknown>;
    } catch {
      // pretty-printed or unusual layout: fall through to a full parse
    }
  }
  const actions = await readCommit(tableRoot, version);
  return commitInfoOf(actions);
}

/** Modification time of a commit file (PROTOCOL.md: the commit time when commitInfo has none). */
export async function commitMtime(tableRoot: string, version: number): Promise<number | undefined> {
  return (await statIfExists(joinLocation(logRootOf(tableRoot), commitFileName(version))))?.mtimeMs;
}
