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
  const actions: Action[] = [];
  const lines = text.split('\n');
  let pending = '';
  for (const line of lines) {
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
    if (action) actions.push(action);
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
