/** Delta actions, with the spec's field names verbatim (PROTOCOL.md "Actions"). */
import { LakeError } from '../core/index.js';

export interface ProtocolAction {
  minReaderVersion: number;
  minWriterVersion: number;
  readerFeatures?: string[];
  writerFeatures?: string[];
}

export interface MetadataAction {
  id: string;
  name?: string | null;
  description?: string | null;
  format: { provider: string; options: Record<string, string> };
  schemaString: string;
  partitionColumns: string[];
  configuration: Record<string, string>;
  createdTime?: number | null;
}

export interface DeletionVectorDescriptor {
  storageType: string;
  pathOrInlineDv: string;
  offset?: number;
  sizeInBytes: number;
  cardinality: number;
}

export interface AddAction {
  path: string;
  partitionValues: Record<string, string | null>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  stats?: string | null;
  tags?: Record<string, string> | null;
  deletionVector?: DeletionVectorDescriptor | null;
  baseRowId?: number | null;
  defaultRowCommitVersion?: number | null;
  clusteringProvider?: string | null;
  /** Checkpoints may carry parsed stats instead of (or beside) the JSON string. */
  stats_parsed?: unknown;
}

export interface RemoveAction {
  path: string;
  deletionTimestamp?: number | null;
  dataChange: boolean;
  extendedFileMetadata?: boolean | null;
  partitionValues?: Record<string, string | null> | null;
  size?: number | null;
  stats?: string | null;
  tags?: Record<string, string> | null;
  deletionVector?: DeletionVectorDescriptor | null;
  baseRowId?: number | null;
  defaultRowCommitVersion?: number | null;
}

export interface TxnAction {
  appId: string;
  version: number;
  lastUpdated?: number | null;
}

export interface CommitInfoAction {
  timestamp?: number;
  operation?: string;
  operationParameters?: Record<string, unknown>;
  readVersion?: number;
  isBlindAppend?: boolean;
  engineInfo?: string;
  operationMetrics?: Record<string, unknown>;
  [key: string]: unknown;
}

/** The commit's `commitInfo`, when it has one (a commit carries at most one, first by convention). */
export function commitInfoOf(actions: readonly Action[]): CommitInfoAction | undefined {
  for (const a of actions) if (a.kind === 'commitInfo') return a.commitInfo;
  return undefined;
}

/**
 * The time of a commit in ms from its commitInfo: `inCommitTimestamp` where the writer recorded one
 * (PROTOCOL.md "In-Commit Timestamps": with the feature enabled it is the commit's timestamp, and
 * monotonic), else `timestamp`; undefined when neither is a number.
 */
export function commitInfoTime(commitInfo: Record<string, unknown> | undefined): number | undefined {
  const ict = commitInfo?.['inCommitTimestamp'];
  if (typeof ict === 'number') return ict;
  const ts = commitInfo?.['timestamp'];
  return typeof ts === 'number' ? ts : undefined;
}

export interface CheckpointMetadataAction {
  version: number;
  tags?: Record<string, string> | null;
}

export interface SidecarAction {
  path: string;
  sizeInBytes: number;
  modificationTime: number;
  tags?: Record<string, string> | null;
}

export interface DomainMetadataAction {
  domain: string;
  configuration: string;
  removed: boolean;
}

export type Action =
  | { kind: 'protocol'; protocol: ProtocolAction }
  | { kind: 'metaData'; metaData: MetadataAction }
  | { kind: 'add'; add: AddAction }
  | { kind: 'remove'; remove: RemoveAction }
  | { kind: 'txn'; txn: TxnAction }
  | { kind: 'commitInfo'; commitInfo: CommitInfoAction }
  | { kind: 'checkpointMetadata'; checkpointMetadata: CheckpointMetadataAction }
  | { kind: 'sidecar'; sidecar: SidecarAction }
  | { kind: 'domainMetadata'; domainMetadata: DomainMetadataAction }
  | { kind: 'cdc'; cdc: Record<string, unknown> }
  /** Action kinds we do not know. Kept (they are readable per the protocol) but ignored by replay. */
  | { kind: 'unknown'; name: string; value: unknown };

const KNOWN = new Set(['protocol', 'metaData', 'add', 'remove', 'txn', 'commitInfo', 'checkpointMetadata', 'sidecar', 'domainMetadata', 'cdc']);

/** Parses one action object (one line of a commit file, or one row of a checkpoint). */
export function parseAction(obj: unknown, where: string): Action | undefined {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new LakeError('DELTA_LOG_CORRUPT', `${where}: expected a JSON object per action, got ${JSON.stringify(obj)?.slice(0, 80)}`, {
      hint: 'The log entry is damaged; restore it from a backup or check which tool wrote it.',
    });
  }
  const record = obj as Record<string, unknown>;
  for (const [name, value] of Object.entries(record)) {
    if (value === null || value === undefined) continue;
    if (!KNOWN.has(name)) return { kind: 'unknown', name, value };
    return { kind: name, [name]: value } as Action;
  }
  return undefined;
}

/** Parses a newline-delimited commit file. Tolerates pretty-printed JSON (several lines per action). */
export function parseCommitText(text: string, where: string): Action[] {
  return parseCommitLines(text.split('\n'), where);
}

/** One line of a commit file held as bytes (`commitLines`). */
export interface CommitLine {
  /** The line with the value of its `stats` key replaced by `-0` (its bytes never decoded), where one was safely found. */
  lean?: string;
  /** The whole line. */
  text(): string;
}

const STATS_KEY = Buffer.from('"stats":"{');
const OBJECT_END = Buffer.from('}"');
/**
 * A quote after one of these bytes is a raw one (a JSON string holds quotes as `\"`): found inside
 * a stats value, the value ended earlier than its first `}"` and went on with more keys.
 */
const RAW_QUOTES = [',"', ' "', '\t"', '\r"'].map((p) => Buffer.from(p));

/**
 * The byte range [from, to) of the stats value of the line [start, end) (quotes included), found
 * without decoding it: it starts `"stats":"{` and, being a JSON object, ends at the first `}"`.
 * Undefined whenever that end cannot be shown to be the value's own (a raw quote before it, or
 * no `,` / `}` after it): the line is then parsed whole.
 */
function statsRange(buf: Buffer, start: number, end: number): [number, number] | undefined {
  const key = buf.indexOf(STATS_KEY, start);
  if (key < 0 || key >= end) return undefined;
  const from = key + STATS_KEY.length - 2;
  const close = buf.indexOf(OBJECT_END, from);
  const to = close + 2;
  if (close < 0 || to >= end || (buf[to] !== 0x2c && buf[to] !== 0x7d)) return undefined;
  // Searched within the value only: a raw quote after it is no matter, and searching on would
  // scan the rest of the commit once per line (quadratic on a commit of many wide adds).
  const value = buf.subarray(from + 1, close);
  for (const raw of RAW_QUOTES) if (value.indexOf(raw) >= 0) return undefined;
  return [from, to];
}

/**
 * The lines of a newline-delimited commit file held as bytes, decoded one by one (no string of
 * the whole file: a commit with wide stats would be a large object V8 frees only in a full
 * collection). Splitting at the newline byte is safe in UTF-8. With `stats: false` each line also
 * offers a `lean` text whose stats value is never decoded: stats are most of a commit's bytes.
 */
export function* commitLines(bytes: Uint8Array, options: { stats?: boolean } = {}): Generator<CommitLine> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lean = options.stats === false;
  for (let start = 0; start < buf.length; ) {
    let end = buf.indexOf(0x0a, start);
    if (end < 0) end = buf.length;
    const lineStart = start;
    const lineEnd = end;
    const range = lean ? statsRange(buf, lineStart, lineEnd) : undefined;
    yield {
      ...(range ? { lean: `${buf.toString('utf8', lineStart, range[0])}-0${buf.toString('utf8', range[1], lineEnd)}` } : {}),
      text: () => buf.toString('utf8', lineStart, lineEnd),
    };
    start = end + 1;
  }
}

/** The file action of a lean line (`CommitLine.lean`) without its stats; undefined unless the `-0` stood for its own stats (not a nested key's). */
function leanAction(text: string, where: string): Action | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const action = parseAction(value, where);
  const file = action?.kind === 'add' ? action.add : action?.kind === 'remove' ? action.remove : undefined;
  if (!file || !Object.is(file.stats, -0)) return undefined;
  delete file.stats;
  return action;
}

/**
 * `parseCommitText` over lines; with `stats: false` the `stats` of add and remove actions are left
 * out (reads need them only to skip files; see `commitStats`): from a `CommitLine` never decoded,
 * else dropped after parsing, so they never stay in a snapshot.
 */
export function parseCommitLines(lines: Iterable<string | CommitLine>, where: string, options: { stats?: boolean } = {}): Action[] {
  const keepStats = options.stats ?? true;
  const actions: Action[] = [];
  let pending = '';
  for (const item of lines) {
    if (!keepStats && pending === '' && typeof item !== 'string' && item.lean !== undefined) {
      const action = leanAction(item.lean, where);
      if (action) {
        actions.push(action);
        continue;
      }
    }
    const line = typeof item === 'string' ? item : item.text();
    if (pending === '' && line.trim() === '') continue;
    pending = pending === '' ? line : `${pending}\n${line}`;
    let value: unknown;
    try {
      value = JSON.parse(pending);
    } catch {
      continue; // a pretty-printed action spans several lines
    }
    pending = '';
    const action = parseAction(value, where);
    if (!action) continue;
    if (!keepStats && action.kind === 'add') delete action.add.stats;
    else if (!keepStats && action.kind === 'remove') delete action.remove.stats;
    actions.push(action);
  }
  if (pending.trim() !== '') {
    throw new LakeError('DELTA_LOG_CORRUPT', `${where}: the commit file ends with an incomplete JSON action`, {
      hint: 'A commit file is written atomically by Delta writers; this one is damaged. Restore it or remove the table version by hand.',
    });
  }
  return actions;
}

const PROTOCOL_KEYS = ['minReaderVersion', 'minWriterVersion', 'readerFeatures', 'writerFeatures'] as const;
const METADATA_KEYS = ['id', 'name', 'description', 'format', 'schemaString', 'partitionColumns', 'configuration', 'createdTime'] as const;
const ADD_KEYS = ['path', 'partitionValues', 'size', 'modificationTime', 'dataChange', 'stats', 'tags', 'deletionVector', 'baseRowId', 'defaultRowCommitVersion', 'clusteringProvider'] as const;
const REMOVE_KEYS = ['path', 'deletionTimestamp', 'dataChange', 'extendedFileMetadata', 'partitionValues', 'size', 'stats', 'tags', 'deletionVector', 'baseRowId', 'defaultRowCommitVersion'] as const;
const TXN_KEYS = ['appId', 'version', 'lastUpdated'] as const;

function ordered(value: object, keys: readonly string[]): Record<string, unknown> {
  const src = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of keys) if (src[key] !== undefined) out[key] = src[key];
  return out;
}

/** Serializes one action as a single JSON line, keys in the spec's order. */
export function serializeAction(action: Action): string {
  switch (action.kind) {
    case 'protocol':
      return JSON.stringify({ protocol: ordered(action.protocol, PROTOCOL_KEYS) });
    case 'metaData':
      return JSON.stringify({ metaData: ordered(action.metaData, METADATA_KEYS) });
    case 'add':
      return JSON.stringify({ add: ordered(action.add, ADD_KEYS) });
    case 'remove':
      return JSON.stringify({ remove: ordered(action.remove, REMOVE_KEYS) });
    case 'txn':
      return JSON.stringify({ txn: ordered(action.txn, TXN_KEYS) });
    case 'commitInfo':
      return JSON.stringify({ commitInfo: action.commitInfo });
    case 'unknown':
      return JSON.stringify({ [action.name]: action.value });
    default:
      return JSON.stringify({ [action.kind]: (action as Record<string, unknown>)[action.kind] });
  }
}

/** commitInfo first (as Spark and delta-rs write it), then the rest in the given order. */
export function serializeCommit(actions: readonly Action[]): string {
  const sorted = [...actions.filter((a) => a.kind === 'commitInfo'), ...actions.filter((a) => a.kind !== 'commitInfo')];
  return sorted.map(serializeAction).join('\n') + '\n';
}
