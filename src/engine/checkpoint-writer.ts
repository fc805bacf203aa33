import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LakeError, logger } from '../core/index.js';
import {
  LAST_CHECKPOINT,
  checkpointFileName,
  logRootOf,
  readLastCheckpoint,
  writerFeatures,
  type AddAction,
  type DeletionVectorDescriptor,
  type RemoveAction,
  type Snapshot,
} from '../delta/index.js';
import { exists, putIfAbsent } from '../storage/index.js';
import { literal, type Engine } from './session.js';

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

/** PROTOCOL.md "Table Properties": default `delta.deletedFileRetentionDuration`. */
export const DEFAULT_DELETED_FILE_RETENTION = 'interval 1 week';

const MAP = 'MAP(VARCHAR, VARCHAR)';
const DV = 'STRUCT(storageType VARCHAR, pathOrInlineDv VARCHAR, "offset" INTEGER, sizeInBytes INTEGER, cardinality BIGINT)';

/**
 * The V1 checkpoint schema (PROTOCOL.md "Checkpoint Schema"): one nullable struct column per
 * action kind, exactly one of them non-null per row. Remove tombstones carry no stats or tags.
 * The column order is Spark's.
 */
export const CHECKPOINT_COLUMNS: readonly (readonly [string, string])[] = [
  ['txn', 'STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)'],
  [
    'add',
    `STRUCT(path VARCHAR, partitionValues ${MAP}, size BIGINT, modificationTime BIGINT, dataChange BOOLEAN, stats VARCHAR, tags ${MAP}, ` +
      `deletionVector ${DV}, baseRowId BIGINT, defaultRowCommitVersion BIGINT, clusteringProvider VARCHAR)`,
  ],
  [
    'remove',
    `STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, partitionValues ${MAP}, size BIGINT, ` +
      `deletionVector ${DV}, baseRowId BIGINT, defaultRowCommitVersion BIGINT)`,
  ],
  [
    'metaData',
    `STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, options ${MAP}), schemaString VARCHAR, ` +
      `partitionColumns VARCHAR[], configuration ${MAP}, createdTime BIGINT)`,
  ],
  ['protocol', 'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], writerFeatures VARCHAR[])'],
];

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

/** `delta.deletedFileRetentionDuration` of the table, in milliseconds. */
export function deletedFileRetentionMs(snapshot: Snapshot): number {
  const text = snapshot.metadata.configuration['delta.deletedFileRetentionDuration'] ?? DEFAULT_DELETED_FILE_RETENTION;
  const ms = parseIntervalMs(text);
  if (ms === undefined) {
    throw new LakeError('USAGE', `${snapshot.table}: table property delta.deletedFileRetentionDuration = '${text}' is not a duration`, {
      hint: "Set it to a value like 'interval 7 days' (units: week, day, hour, minute, second, millisecond).",
    });
  }
  return ms;
}

function dv(value: DeletionVectorDescriptor | null | undefined): Record<string, unknown> | null {
  if (!value) return null;
  return { storageType: value.storageType, pathOrInlineDv: value.pathOrInlineDv, offset: value.offset ?? null, sizeInBytes: value.sizeInBytes, cardinality: value.cardinality };
}

function addLine(add: AddAction): string {
  return JSON.stringify({
    add: {
      path: add.path,
      partitionValues: add.partitionValues,
      size: add.size,
      modificationTime: add.modificationTime,
      dataChange: add.dataChange,
      stats: add.stats ?? null,
      tags: add.tags ?? null,
      deletionVector: dv(add.deletionVector),
      baseRowId: add.baseRowId ?? null,
      defaultRowCommitVersion: add.defaultRowCommitVersion ?? null,
      clusteringProvider: add.clusteringProvider ?? null,
    },
  });
}

function removeLine(remove: RemoveAction): string {
  return JSON.stringify({
    remove: {
      path: remove.path,
      deletionTimestamp: remove.deletionTimestamp ?? null,
      dataChange: remove.dataChange,
      extendedFileMetadata: remove.extendedFileMetadata ?? null,
      partitionValues: remove.partitionValues ?? null,
      size: remove.size ?? null,
      deletionVector: dv(remove.deletionVector),
      baseRowId: remove.baseRowId ?? null,
      defaultRowCommitVersion: remove.defaultRowCommitVersion ?? null,
    },
  });
}

/** Lines that do not depend on `now`: protocol, metaData, txns, then the active files. */
function stateLines(snapshot: Snapshot, sorted: boolean): string[] {
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
  const files = sorted ? [...snapshot.files].sort((a, b) => compare(a.path, b.path)) : snapshot.files;
  for (const add of files) lines.push(addLine(add));
  return lines;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Splits `items` into `parts` contiguous slices whose sizes differ by at most one. */
function split<T>(items: readonly T[], parts: number): T[][] {
  return Array.from({ length: parts }, (_, i) => items.slice(Math.floor((i * items.length) / parts), Math.floor(((i + 1) * items.length) / parts)));
}

/**
 * Writes a V1 checkpoint of `snapshot` (DESIGN.md decision 7): protocol, metaData, every txn,
 * every active add and the unexpired remove tombstones, as `<version>.checkpoint.parquet` or as a
 * multi-part checkpoint, then points `_last_checkpoint` at it.
 *
 * Each file is published with put-if-absent, so readers never see a partial file and an existing
 * checkpoint is never replaced. A multi-part checkpoint is written only when none of its parts
 * exists; its rows are sorted and split the same way by every writer of the same version, so
 * parts from two racing writers still add up to the same table state.
 */
export async function writeCheckpoint(engine: Engine, snapshot: Snapshot, options: CheckpointOptions = {}): Promise<CheckpointResult> {
  const parts = options.parts ?? 1;
  const { version, table } = snapshot;
  if (!Number.isInteger(parts) || parts < 1) {
    throw new LakeError('USAGE', `${table}: a checkpoint needs a whole number of parts ≥ 1, got ${parts}`);
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

  const now = options.now ?? Date.now();
  const horizon = now - deletedFileRetentionMs(snapshot);
  const sorted = parts > 1;
  const fixed = stateLines(snapshot, sorted);
  const tombstones = snapshot.tombstones.filter((r) => (r.deletionTimestamp ?? 0) > horizon);
  if (sorted) tombstones.sort((a, b) => compare(a.path, b.path));
  const removes = tombstones.map(removeLine);
  // Tombstones depend on `now`, so they are split separately: the split of everything else is a
  // function of the version alone.
  const fixedParts = split(fixed, parts);
  const removeParts = split(removes, parts);
  const partLines = fixedParts.map((lines, i) => [...lines, ...removeParts[i]!]);

  const logRoot = logRootOf(snapshot.tableRoot);
  const names = Array.from({ length: parts }, (_, i) => checkpointFileName(version, i + 1, parts));
  const result = { version, parts, numOfAddFiles: snapshot.files.length, actions: fixed.length + removes.length };

  const existing = await Promise.all(names.map((n) => exists(path.join(logRoot, n))));
  if (existing.some(Boolean)) {
    const sizeInBytes = await totalSize(logRoot, names);
    logger().info({ table, version }, 'checkpoint exists, left untouched');
    return { ...result, sizeInBytes, status: 'exists' };
  }

  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'lake-checkpoint-'));
  let sizeInBytes = 0;
  try {
    const files: Uint8Array[] = [];
    // One connection runs one statement at a time: render the parts in sequence.
    for (const [i, lines] of partLines.entries()) files.push(await renderPart(engine, work, i, lines));
    for (let i = 0; i < parts; i++) {
      const bytes = files[i]!;
      const put = await putIfAbsent(path.join(logRoot, names[i]!), bytes);
      if (put.status === 'exists') {
        logger().warn({ table, version, part: i + 1 }, 'checkpoint part written concurrently by another writer');
        return { ...result, sizeInBytes: await totalSize(logRoot, names), status: 'exists' };
      }
      sizeInBytes += bytes.byteLength;
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  await writeLastCheckpoint(snapshot.tableRoot, { version, size: result.actions, parts, sizeInBytes, numOfAddFiles: result.numOfAddFiles });
  logger().info({ table, version, parts, actions: result.actions, sizeInBytes }, 'checkpoint written');
  return { ...result, sizeInBytes, status: 'written' };
}

/** Turns newline-delimited actions into Parquet bytes with the checkpoint schema. */
async function renderPart(engine: Engine, work: string, index: number, lines: string[]): Promise<Uint8Array> {
  const json = path.join(work, `part-${index}.json`);
  const parquet = path.join(work, `part-${index}.parquet`);
  let longest = 0;
  for (const line of lines) if (line.length > longest) longest = line.length;
  await fs.writeFile(json, lines.length === 0 ? '' : lines.join('\n') + '\n');
  const columns = CHECKPOINT_COLUMNS.map(([name, type]) => `${name}: ${literal(type)}`).join(', ');
  // UTF-16 length × 3 bounds the UTF-8 length of a line.
  const maxObject = Math.max(16 * 1024 * 1024, longest * 3 + 1);
  const source = `read_json(${literal(json)}, format = 'newline_delimited', columns = {${columns}}, maximum_object_size = ${maxObject})`;
  const select = CHECKPOINT_COLUMNS.map(([name]) => `"${name}"`).join(', ');
  await engine.run(`COPY (SELECT ${select} FROM ${source}) TO ${literal(parquet)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 16384)`);
  return fs.readFile(parquet);
}

async function totalSize(logRoot: string, names: readonly string[]): Promise<number> {
  const stats = await Promise.all(names.map((n) => fs.stat(path.join(logRoot, n)).catch(() => undefined)));
  return stats.reduce((sum, s) => sum + (s?.size ?? 0), 0);
}

interface LastCheckpoint {
  version: number;
  size: number;
  parts: number;
  sizeInBytes: number;
  numOfAddFiles: number;
}

/**
 * `_last_checkpoint` (PROTOCOL.md "Last Checkpoint File Schema") is a hint that may be replaced:
 * written to a temp file and renamed over the old one. It never moves back to an older version.
 */
async function writeLastCheckpoint(tableRoot: string, hint: LastCheckpoint): Promise<void> {
  const current = await readLastCheckpoint(tableRoot);
  if (current !== undefined && current.version > hint.version) return;
  const body = JSON.stringify({
    version: hint.version,
    size: hint.size,
    ...(hint.parts > 1 ? { parts: hint.parts } : {}),
    sizeInBytes: hint.sizeInBytes,
    numOfAddFiles: hint.numOfAddFiles,
  });
  const logRoot = logRootOf(tableRoot);
  const temp = path.join(logRoot, `.${LAST_CHECKPOINT}.${randomUUID()}.tmp`);
  try {
    await fs.writeFile(temp, body, { flag: 'wx' });
    await fs.rename(temp, path.join(logRoot, LAST_CHECKPOINT));
  } finally {
    await fs.rm(temp, { force: true });
  }
}
