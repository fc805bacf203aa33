import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LakeError, faultPoint, logger } from '../core/index.js';
import {
  checkpointFileName,
  dvUniqueId,
  logRootOf,
  unexpiredTombstones,
  writeLastCheckpoint,
  writerFeatures,
  type AddAction,
  type RemoveAction,
  type Snapshot,
} from '../delta/index.js';
import { exists, joinLocation, putIfAbsent, statIfExists } from '../storage/index.js';
import { ident, literal, type Engine } from './session.js';

export interface CheckpointOptions {
  /** Number of part files (a multi-part checkpoint when > 1); default 1, a classic checkpoint. */
  parts?: number;
  /** Milliseconds since the epoch; tombstones older than the retention duration before it are dropped. */
  now?: number;
}

export interface CheckpointResult {
  version: number;
  parts: number;
  sizeInBytes: number;
  numOfAddFiles: number;
  /** Number of actions (rows) in the checkpoint: `size` in `_last_checkpoint`. */
  actions: number;
  /** `exists` when a checkpoint for this version was already there and was left untouched. */
  status: 'written' | 'exists';
}

const MAP = 'MAP(VARCHAR, VARCHAR)';
const DV = 'STRUCT(storageType VARCHAR, pathOrInlineDv VARCHAR, "offset" INTEGER, sizeInBytes INTEGER, cardinality BIGINT)';

/** One field of a file-action struct: its DuckDB type and how to take it from the action. */
interface FileField<T> {
  name: string;
  type: string;
  get(action: T): unknown;
}

const ADD_FIELDS: FileField<AddAction>[] = [
  { name: 'path', type: 'VARCHAR', get: (a) => a.path },
  { name: 'partitionValues', type: MAP, get: (a) => a.partitionValues },
  { name: 'size', type: 'BIGINT', get: (a) => a.size },
  { name: 'modificationTime', type: 'BIGINT', get: (a) => a.modificationTime },
  { name: 'dataChange', type: 'BOOLEAN', get: (a) => a.dataChange },
  { name: 'stats', type: 'VARCHAR', get: (a) => a.stats },
  { name: 'tags', type: MAP, get: (a) => a.tags },
  { name: 'deletionVector', type: DV, get: (a) => a.deletionVector },
  { name: 'baseRowId', type: 'BIGINT', get: (a) => a.baseRowId },
  { name: 'defaultRowCommitVersion', type: 'BIGINT', get: (a) => a.defaultRowCommitVersion },
  { name: 'clusteringProvider', type: 'VARCHAR', get: (a) => a.clusteringProvider },
];

/** PROTOCOL.md: remove tombstones in a checkpoint carry no stats or tags. */
const REMOVE_FIELDS: FileField<RemoveAction>[] = [
  { name: 'path', type: 'VARCHAR', get: (r) => r.path },
  { name: 'deletionTimestamp', type: 'BIGINT', get: (r) => r.deletionTimestamp },
  { name: 'dataChange', type: 'BOOLEAN', get: (r) => r.dataChange },
  { name: 'extendedFileMetadata', type: 'BOOLEAN', get: (r) => r.extendedFileMetadata },
  { name: 'partitionValues', type: MAP, get: (r) => r.partitionValues },
  { name: 'size', type: 'BIGINT', get: (r) => r.size },
  { name: 'deletionVector', type: DV, get: (r) => r.deletionVector },
  { name: 'baseRowId', type: 'BIGINT', get: (r) => r.baseRowId },
  { name: 'defaultRowCommitVersion', type: 'BIGINT', get: (r) => r.defaultRowCommitVersion },
];

function structType(fields: readonly FileField<never>[]): string {
  return `STRUCT(${fields.map((f) => `${f.name} ${f.type}`).join(', ')})`;
}

/**
 * The V1 checkpoint schema (PROTOCOL.md "Checkpoint Schema"): one nullable struct column per
 * action kind, exactly one of them non-null per row. The column order is Spark's.
 */
export const CHECKPOINT_COLUMNS: readonly (readonly [string, string])[] = [
  ['txn', 'STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)'],
  ['add', structType(ADD_FIELDS)],
  ['remove', structType(REMOVE_FIELDS)],
  [
    'metaData',
    `STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, options ${MAP}), schemaString VARCHAR, ` +
      `partitionColumns VARCHAR[], configuration ${MAP}, createdTime BIGINT)`,
  ],
  ['protocol', 'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], writerFeatures VARCHAR[])'],
];

/** The rows of one part file: JSON lines for protocol, metaData and txns, and file actions. */
interface PartRows {
  lines: string[];
  adds: AddAction[];
  removes: RemoveAction[];
}

/** Protocol, metaData and txns as JSON lines, in the checkpoint's field layout. */
function tableLines(snapshot: Snapshot, sorted: boolean): string[] {
  const { protocol, metadata } = snapshot;
  const lines = [
    JSON.stringify({
      protocol: {
        minReaderVersion: protocol.minReaderVersion,
        minWriterVersion: protocol.minWriterVersion,
        // PROTOCOL.md: features are non-null exactly for reader version 3 / writer version 7.
        readerFeatures: protocol.minReaderVersion >= 3 ? (protocol.readerFeatures ?? []) : null,
        writerFeatures: protocol.minWriterVersion >= 7 ? (protocol.writerFeatures ?? []) : null,
      },
    }),
    JSON.stringify({
      metaData: {
        id: metadata.id,
        name: metadata.name ?? null,
        description: metadata.description ?? null,
        format: { provider: metadata.format.provider, options: metadata.format.options ?? {} },
        schemaString: metadata.schemaString,
        partitionColumns: metadata.partitionColumns,
        configuration: metadata.configuration ?? {},
        createdTime: metadata.createdTime ?? null,
      },
    }),
  ];
  const txns = [...snapshot.txns.entries()];
  if (sorted) txns.sort(([a], [b]) => compare(a, b));
  for (const [appId, version] of txns) lines.push(JSON.stringify({ txn: { appId, version, lastUpdated: null } }));
  return lines;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A total order on logical files: path, then deletion vector. */
function byFile(a: AddAction | RemoveAction, b: AddAction | RemoveAction): number {
  return compare(a.path, b.path) || compare(dvUniqueId(a.deletionVector), dvUniqueId(b.deletionVector));
}

/** Splits `items` into `parts` contiguous slices whose sizes differ by at most one. */
function split<T>(items: readonly T[], parts: number): T[][] {
  return Array.from({ length: parts }, (_, i) => items.slice(Math.floor((i * items.length) / parts), Math.floor(((i + 1) * items.length) / parts)));
}

/**
 * Everything but the tombstones is a function of the version alone, and is split first; the
 * tombstones (which depend on `now`) are split on their own and appended.
 */
function splitRows(lines: string[], adds: readonly AddAction[], removes: readonly RemoveAction[], parts: number): PartRows[] {
  const fixed: (string | AddAction)[] = [...lines, ...adds];
  const removeParts = split(removes, parts);
  return split(fixed, parts).map((items, i) => ({
    lines: items.filter((x): x is string => typeof x === 'string'),
    adds: items.filter((x): x is AddAction => typeof x !== 'string'),
    removes: removeParts[i]!,
  }));
}

/**
 * Writes a V1 checkpoint of `snapshot` (PROTOCOL.md "Checkpoints"): protocol, metaData, every txn,
 * every active add and the unexpired remove tombstones, as `<version>.checkpoint.parquet` or as a
 * multi-part checkpoint, then points `_last_checkpoint` at it.
 *
 * Each file is published with put-if-absent, so readers never see a partial file and an existing
 * checkpoint is never replaced. The rows of a multi-part checkpoint are sorted and split the same
 * way by every writer of the same version, so missing parts (a crashed writer) are filled in and
 * parts from two racing writers still add up to the same table state.
 */
export async function writeCheckpoint(engine: Engine, snapshot: Snapshot, options: CheckpointOptions = {}): Promise<CheckpointResult> {
  const parts = options.parts ?? 1;
  const { version, table } = snapshot;
  if (!Number.isInteger(parts) || parts < 1) {
    throw new LakeError('USAGE', `${table}: a checkpoint needs a whole number of parts ≥ 1, got ${parts}`);
  }
  if (snapshot.statsLoaded === false) {
    throw new LakeError('INTERNAL', `${table}: refusing to checkpoint version ${version} from a snapshot loaded without file stats (they would be lost)`);
  }
  const features = writerFeatures(snapshot.protocol);
  if (features.includes('domainMetadata')) {
    throw new LakeError('DELTA_WRITE_UNSUPPORTED', `${table} uses the Delta writer feature domainMetadata, whose actions this checkpoint writer does not carry; no checkpoint was written`, {
      hint: 'Checkpoint this table with delta-rs or Spark.',
    });
  }
  if (parts > 1 && features.includes('v2Checkpoint')) {
    throw new LakeError('DELTA_WRITE_UNSUPPORTED', `${table} uses V2 checkpoints, which forbid multi-part checkpoints; no checkpoint was written`, {
      hint: 'Write a classic checkpoint (parts = 1).',
    });
  }

  const sorted = parts > 1;
  const lines = tableLines(snapshot, sorted);
  const adds = sorted ? [...snapshot.files].sort(byFile) : snapshot.files;
  // PROTOCOL.md: tombstones stay in checkpoints until they expire.
  const removes = unexpiredTombstones(snapshot, options.now ?? Date.now());
  if (sorted) removes.sort(byFile);
  const rows = splitRows(lines, adds, removes, parts);

  const logRoot = logRootOf(snapshot.tableRoot);
  const names = Array.from({ length: parts }, (_, i) => checkpointFileName(version, i + 1, parts));
  const result = { version, parts, numOfAddFiles: adds.length, actions: lines.length + adds.length + removes.length };

  const existing = await Promise.all(names.map((n) => exists(joinLocation(logRoot, n))));
  if (existing.every(Boolean)) {
    logger().info({ table, version }, 'checkpoint exists, left untouched');
    return { ...result, sizeInBytes: await totalSize(logRoot, names), status: 'exists' };
  }

  const work = await fs.mkdtemp(path.join(engine.scratch(), 'checkpoint-'));
  let written = 0;
  try {
    // One connection runs one statement at a time: render the parts in sequence.
    for (const [i, part] of rows.entries()) {
      if (existing[i]) continue;
      const bytes = await renderPart(engine, path.join(work, `part-${i}.parquet`), part);
      if ((await putIfAbsent(joinLocation(logRoot, names[i]!), bytes)).status === 'written') written++;
      faultPoint('checkpoint.parquet-written');
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  const sizeInBytes = await totalSize(logRoot, names);
  if (written === 0) {
    logger().info({ table, version }, 'checkpoint written concurrently by another writer, left untouched');
    return { ...result, sizeInBytes, status: 'exists' };
  }
  await writeLastCheckpoint(snapshot.tableRoot, { version, size: result.actions, parts, sizeInBytes, numOfAddFiles: result.numOfAddFiles });
  faultPoint('checkpoint.last-written');
  logger().info({ table, version, parts, actions: result.actions, sizeInBytes }, 'checkpoint written');
  return { ...result, sizeInBytes, status: 'written' };
}

const SEPARATOR = '\u0001';

/**
 * Turns one part's rows into Parquet bytes with the checkpoint schema, in one DuckDB `COPY`.
 * File actions cross into DuckDB column by column: each column is one string parameter, its
 * values joined by U+0001 and split again in SQL, so 100,000 adds cost a few string copies
 * rather than 100,000 JSON documents. Objects (maps, deletion vectors) travel as JSON text and
 * are cast to their types; a string column holding U+0001 itself travels JSON-encoded instead.
 */
async function renderPart(engine: Engine, target: string, part: PartRows): Promise<Uint8Array> {
  const params: string[] = [];
  const param = (value: string): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const columns = CHECKPOINT_COLUMNS.map(([name, type]) => ({ name, type }));
  const nulls = (except: string): string => columns.map((c) => (c.name === except ? undefined : `NULL::${c.type} AS ${ident(c.name)}`)).filter(Boolean).join(', ');
  const branches = [`SELECT ${columns.map((c) => `NULL::${c.type} AS ${ident(c.name)}`).join(', ')} WHERE false`];
  if (part.lines.length > 0) {
    const j = `unnest(string_split(${param(part.lines.join(SEPARATOR))}, chr(1)))`;
    const select = columns.map((c) => `(j::JSON -> ${literal(c.name)})::${c.type} AS ${ident(c.name)}`).join(', ');
    branches.push(`SELECT ${select} FROM (SELECT ${j} AS j)`);
  }
  for (const [column, fields, actions] of [
    ['add', ADD_FIELDS, part.adds],
    ['remove', REMOVE_FIELDS, part.removes],
  ] as [string, FileField<never>[], never[]][]) {
    if (actions.length === 0) continue;
    const type = CHECKPOINT_COLUMNS.find(([name]) => name === column)![1];
    const unnested: string[] = [];
    const packed = fields.map((field) => {
      const expr = fieldColumn(field, actions, param);
      if (expr === undefined) return `${ident(field.name)} := NULL::${field.type}`;
      const alias = `c${unnested.length}`;
      unnested.push(`unnest(string_split(${expr.param}, chr(1))) AS ${alias}`);
      return `${ident(field.name)} := ${expr.cast(alias)}`;
    });
    branches.push(`SELECT ${nulls(column)}, struct_pack(${packed.join(', ')})::${type} AS ${ident(column)} FROM (SELECT ${unnested.join(', ')})`);
  }
  const select = columns.map((c) => ident(c.name)).join(', ');
  const sql = `COPY (SELECT ${select} FROM (${branches.join(' UNION ALL BY NAME ')})) TO ${literal(target)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 16384)`;
  await engine.connection.run(sql, params).catch((cause: unknown) => {
    throw new LakeError('INTERNAL', `writing checkpoint ${target} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  });
  return fs.readFile(target);
}

/**
 * One field of every action as a joined string parameter plus the SQL that turns a split value
 * back into the field's type; `undefined` when the field is null in every action. An empty
 * value is NULL.
 */
function fieldColumn(field: FileField<never>, actions: readonly never[], param: (value: string) => string): { param: string; cast(alias: string): string } | undefined {
  const values: string[] = new Array<string>(actions.length);
  let any = false;
  let separator = false;
  for (let i = 0; i < actions.length; i++) {
    const value = field.get(actions[i]!);
    let text: string;
    if (value === null || value === undefined) text = '';
    else if (typeof value === 'string') {
      text = value;
      if (text.includes(SEPARATOR)) separator = true;
    } else if (typeof value === 'boolean') text = value ? '1' : '0';
    else if (typeof value === 'number') text = String(Number.isInteger(value) ? value : Math.round(value));
    else text = JSON.stringify(value);
    if (text !== '') any = true;
    values[i] = text;
  }
  if (!any) return undefined;
  if (separator) {
    for (let i = 0; i < values.length; i++) if (values[i] !== '') values[i] = JSON.stringify(values[i]);
    return { param: param(values.join(SEPARATOR)), cast: (c) => `(nullif(${c}, '')::JSON ->> '$')` };
  }
  const joined = param(values.join(SEPARATOR));
  if (field.type === 'VARCHAR') return { param: joined, cast: (c) => `nullif(${c}, '')` };
  if (field.type === 'BOOLEAN') return { param: joined, cast: (c) => `(CASE ${c} WHEN '1' THEN true WHEN '0' THEN false END)` };
  if (field.type === 'BIGINT' || field.type === 'INTEGER') return { param: joined, cast: (c) => `nullif(${c}, '')::${field.type}` };
  return { param: joined, cast: (c) => `nullif(${c}, '')::JSON::${field.type}` };
}

async function totalSize(logRoot: string, names: readonly string[]): Promise<number> {
  const stats = await Promise.all(names.map((n) => statIfExists(joinLocation(logRoot, n)).catch(() => undefined)));
  return stats.reduce((sum, s) => sum + (s?.size ?? 0), 0);
}
