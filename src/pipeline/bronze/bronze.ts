import { createHash, randomUUID } from 'node:crypto';
import { LakeError, PIPELINE_VERSION, type Logger } from '../../core/index.js';
import { partitionKey, typeKey, type Snapshot } from '../../delta/index.js';
import { ident, literal, sqlType, toDeltaType } from '../../engine/index.js';
import { compareSchemas, isEmptyDrift, materializeRawFile, readSourceSql, typedColumns, type Asset, type ColumnType, type ManifestEntry, type SchemaDrift } from '../upstream/index.js';
import { findSnapshot, resolveTable, type Lake, type TableRef, writeTable } from '../../table/index.js';
import type { DatasetDef } from '../catalog/index.js';
import { partitionKeySql, rowsDigestSql } from '../quality/index.js';

/**
 * Bronze: one append-only Delta table per dataset (`bronze.<dataset>`). Every upstream file
 * version is appended whole, typed (upstream/raw-reader.ts) and stamped with `source`, `ingested_at` (UTC),
 * `pipeline_version`, `upstream_version` and `run_id`. One commit per file: its commitInfo
 * names the file (url, etag, size, sha256, nflverse_timestamp), the partitions it wrote and any
 * schema drift; a `txn` (appId per file, version = the file's manifest sequence) makes a replay
 * of the same download commit nothing.
 */
export const STAMP_COLUMNS = ['source', 'ingested_at', 'pipeline_version', 'upstream_version', 'run_id'] as const;

export interface BronzeWriteOptions {
  dataset: DatasetDef;
  asset: Asset;
  /** The landed file's manifest entry (its sequence is the txn version). */
  entry: ManifestEntry;
  /** Absolute path of the raw file. */
  file: string;
  runId: string;
  ingestedAt: number;
  compression?: string;
  rowGroupSize?: number;
  /** The lake's `row_group_mb` and `max_rows_per_file` (the dataset's own win). */
  rowGroupMb?: number;
  maxRowsPerFile?: number;
  /** Table properties when the table is created. */
  configuration?: Record<string, string>;
  logger?: Logger;
  now?: () => number;
}

export type BronzeWriteResult =
  | { status: 'committed'; table: string; version: number; rows: number; files: number; partitions: Record<string, string | null>[]; drift: SchemaDrift; columns: Record<string, string> }
  | { status: 'skipped'; table: string; version: number; reason: string; columns: Record<string, string> };

export function bronzeTable(lake: Pick<Lake, 'root'>, dataset: string): TableRef {
  return resolveTable(lake, `bronze.${dataset}`);
}

/** The upstream version recorded on rows and commits: nflverse_timestamp, else Last-Modified, else ETag, else the sha256. */
export function upstreamVersion(entry: ManifestEntry): string {
  return entry.nflverseTimestamp ?? entry.lastModified ?? entry.etag ?? `sha256:${entry.sha256.slice(0, 12)}`;
}

export function upstreamFileIdentity(entry: ManifestEntry, asset: Asset): Record<string, unknown> {
  return {
    app_id: asset.appId,
    url: entry.url,
    asset: asset.path,
    ...(asset.season !== undefined ? { season: asset.season } : {}),
    ...(asset.variant !== undefined ? { variant: asset.variant } : {}),
    size: entry.size,
    sha256: entry.sha256,
    etag: entry.etag ?? null,
    last_modified: entry.lastModified ?? null,
    nflverse_timestamp: entry.nflverseTimestamp ?? null,
    nflverse_type: entry.nflverseType ?? null,
    sequence: entry.sequence,
  };
}

async function columnTypes(lake: Lake, sql: string): Promise<ColumnType[]> {
  const result = await lake.engine.connection.run(`SELECT * FROM (${sql}) AS typed LIMIT 0`);
  const types = result.columnTypes();
  return result.columnNames().map((name, i) => ({ name, type: typeKey(toDeltaType(types[i]!, name)) }));
}

export async function writeBronze(lake: Lake, options: BronzeWriteOptions): Promise<BronzeWriteResult> {
  const { dataset: def, asset, entry } = options;
  const table = bronzeTable(lake, def.name);
  const snapshot = await findSnapshot(lake, table);
  const committedTxn = snapshot?.txns.get(asset.appId);
  if (snapshot && committedTxn !== undefined && committedTxn >= entry.sequence) {
    return { status: 'skipped', table: table.name, version: snapshot.version, reason: `${asset.key} sequence ${entry.sequence} is already committed`, columns: entry.columns ?? {} };
  }

  const source = await readSourceSql(lake.engine, options.file, asset, def);
  // Parquet is read where it is (typing, partition listing and the write each scan it, cheaply,
  // column by column); a CSV is parsed once into a temporary table.
  if (asset.format === 'parquet') return writeMaterialized(lake, options, table, snapshot, source);
  const raw = `__bronze_raw_${randomUUID().replace(/-/g, '')}`;
  await materializeRawFile(lake.engine, source, raw, asset, options.file);
  try {
    return await writeMaterialized(lake, options, table, snapshot, ident(raw));
  } finally {
    await lake.engine.connection.run(`DROP TABLE IF EXISTS ${ident(raw)}`).catch(() => undefined);
  }
}

/** The file's rows typed for bronze: its columns, plus `season` and the variant column when the file implies them. */
async function typedSelect(lake: Lake, options: BronzeWriteOptions, from: string): Promise<string> {
  const { dataset: def, asset } = options;
  const columns = await typedColumns(lake.engine, from, asset, def, options.file);
  const names = new Set(columns.map((c) => c.name));
  const generated = new Set<string>([...STAMP_COLUMNS, ...(def.variantColumn ? [def.variantColumn] : [])]);
  const clash = columns.find((c) => generated.has(c.name));
  if (clash) {
    throw new LakeError('SCHEMA_MISMATCH', `bronze.${def.name}: upstream file ${asset.url} has a column named ${clash.name}, which bronze adds itself`, {
      hint: 'Rename the bronze stamp or variant column in catalog/datasets.yml (variant_column) or report the upstream change.',
      details: { dataset: def.name, column: clash.name },
    });
  }
  const select = columns.map((c) => `${c.expr} AS ${ident(c.name)}`);
  if (def.partitions.includes('season') && !names.has('season') && asset.season !== undefined) select.push(`CAST(${asset.season} AS INTEGER) AS season`);
  if (def.variantColumn && asset.variant !== undefined) select.push(`${literal(asset.variant)} AS ${ident(def.variantColumn)}`);
  return `SELECT ${select.join(', ')} FROM ${from}`;
}

/** What the append will write: the incoming columns, schema drift against the table and this file's previous commit, the casts that resolve it. */
interface BronzePlan {
  incoming: ColumnType[];
  drift: SchemaDrift;
  /** Column → the table's type, for columns the file retyped in a castable way. */
  casts: Map<string, string>;
}

async function planAppend(lake: Lake, options: BronzeWriteOptions, snapshot: Snapshot | undefined, typedSql: string): Promise<BronzePlan> {
  const { dataset: def, asset, entry } = options;
  let incoming: ColumnType[];
  try {
    incoming = await columnTypes(lake, typedSql);
  } catch (cause) {
    throw new LakeError('DATA_INVALID', `${asset.url}: the file cannot be typed for bronze: ${cause instanceof Error ? cause.message : String(cause)}`, { cause, hint: 'Nothing was committed.' });
  }
  const tableTypes = snapshot ? new Map(snapshot.schema.fields.map((f) => [f.name, typeKey(f.type)])) : undefined;
  const report = compareSchemas(incoming, tableTypes, entry.columns, [...def.businessKey, ...def.partitions]);
  if (!isEmptyDrift(report.drift)) options.logger?.warn({ dataset: def.name, asset: asset.key, drift: report.drift }, 'schema drift');
  if (report.incompatible.length > 0) {
    throw new LakeError('SCHEMA_MISMATCH', `bronze.${def.name}: incompatible schema change in ${asset.url}: ${report.incompatible.join('; ')}`, {
      hint: 'Nothing was committed for this dataset; the others continue. Update the catalog (business_key, partitions) or rewrite the bronze table if the upstream change is intended.',
      details: { dataset: def.name, url: asset.url, drift: report.drift, problems: report.incompatible },
    });
  }
  const casts = new Map(report.drift.retyped.filter((r) => r.resolution === 'cast').map((r) => [r.name, tableTypes!.get(r.name)!]));
  return { incoming, drift: report.drift, casts };
}

/** The stamped and cast SELECT that is appended, in upstream's row order. */
function appendSql(options: BronzeWriteOptions, plan: BronzePlan, typedSql: string): string {
  const { entry } = options;
  const stamps = [
    `${literal(entry.url)} AS source`,
    `CAST(${literal(new Date(options.ingestedAt).toISOString())} AS TIMESTAMPTZ) AS ingested_at`,
    `${literal(PIPELINE_VERSION)} AS pipeline_version`,
    `${literal(upstreamVersion(entry))} AS upstream_version`,
    `${literal(options.runId)} AS run_id`,
  ];
  return `SELECT ${[...bodyColumns(plan), ...stamps].join(', ')} FROM (${typedSql}) AS typed`;
}

/** The file's columns as bronze stores them: the typed columns, cast where the table's type wins. */
function bodyColumns(plan: BronzePlan): string[] {
  return plan.incoming.map((c) => (plan.casts.has(c.name) ? `CAST(${ident(c.name)} AS ${sqlType(plan.casts.get(c.name)!)}) AS ${ident(c.name)}` : ident(c.name)));
}

/** The partition values present in the file (recorded as `changed_partitions`). */
async function filePartitions(lake: Lake, options: BronzeWriteOptions, typedSql: string): Promise<Record<string, string | null>[]> {
  const { dataset: def, asset } = options;
  if (def.partitions.length === 0) return [];
  const rows = await lake.engine.rows<Record<string, unknown>>(`SELECT DISTINCT ${def.partitions.map((p) => `CAST(${ident(p)} AS VARCHAR) AS ${ident(p)}`).join(', ')} FROM (${typedSql}) AS typed ORDER BY ALL`).catch(unreadable(def, asset));
  return rows.map((r) => partitionValues(def.partitions, r));
}

/** A file partition's values as `changed_partitions` records them (text, NULL as null), from `row[names[i]]`. */
function partitionValues(partitions: readonly string[], row: Record<string, unknown>, names: readonly string[] = partitions): Record<string, string | null> {
  return Object.fromEntries(partitions.map((p, i) => [p, row[names[i]!] === null || row[names[i]!] === undefined ? null : String(row[names[i]!])]));
}

/** DATA_INVALID for a query over the file that failed. */
function unreadable(def: DatasetDef, asset: Asset): (cause: unknown) => never {
  return (cause) => {
    throw new LakeError('DATA_INVALID', `${asset.url}: the file cannot be read: ${cause instanceof Error ? cause.message.replace(/^DuckDB: /, '') : String(cause)}`, {
      cause,
      hint: 'Nothing was committed; the dataset stays at its last good version.',
      details: { dataset: def.name, url: asset.url },
    });
  };
}

/** Tags on every bronze data file: the upstream file (app id) and batch it holds, and its partition's rows digest. */
export const BATCH_TAGS = { appId: 'nfl_lakehouse.appId', ingestedAt: 'nfl_lakehouse.ingestedAt', rowsDigest: 'nfl_lakehouse.rowsDigest' } as const;

/**
 * Per partition of the file: its row count and an order-independent digest of its rows (the
 * file's own columns as bronze stores them, stamps aside), prefixed by a digest of the column
 * names and types — so a retyped or renamed column never matches. The same scan lists the file's
 * partition values exactly as `filePartitions` does (grouped by their text before the key's
 * NULLIF, so a group per distinct value; digests of groups sharing a key add up).
 */
async function partitionDigests(lake: Lake, options: BronzeWriteOptions, plan: BronzePlan, typedSql: string): Promise<{ digests: Map<string, string>; partitions: Record<string, string | null>[] }> {
  const { dataset: def, asset } = options;
  const columns = createHash('sha256').update(JSON.stringify(plan.incoming.map((c) => [c.name, plan.casts.get(c.name) ?? c.type]))).digest('hex').slice(0, 16);
  const parts = def.partitions.map((_, i) => `__lake_part_${i}`);
  const texts = def.partitions.map((p, i) => `CAST(typed.${ident(p)} AS VARCHAR) AS ${ident(parts[i]!)}`);
  const rows = await lake.engine
    .rows<Record<string, unknown> & { pk: string; n: bigint | number; h: bigint | number | null }>(
      rowsDigestSql(`(SELECT ${[...bodyColumns(plan), ...texts].join(', ')} FROM (${typedSql}) AS typed)`, partitionKeySql(def.partitions), plan.incoming.map((c) => c.name), { groupBy: parts }),
    )
    .catch(unreadable(def, asset));
  const sums = new Map<string, { n: bigint; h: bigint }>();
  for (const r of rows) {
    const sum = sums.get(r.pk) ?? { n: 0n, h: 0n };
    sums.set(r.pk, { n: sum.n + BigInt(r.n), h: sum.h + BigInt(r.h ?? 0) });
  }
  const digests = new Map([...sums].map(([pk, sum]) => [pk, `${columns}:${sum.n}:${sum.h}`]));
  return { digests, partitions: def.partitions.length === 0 ? [] : rows.map((r) => partitionValues(def.partitions, r, parts)) };
}

/**
 * The partitions of the file whose rows equal, digest for digest, the newest batch this same
 * upstream file left in that partition: nflverse re-publishes a file over every season when one
 * season changes, and those partitions need no new batch (silver keeps the newest batch, whose
 * rows are the same). Decided only from tags on the current snapshot's files, and only for a
 * partition whose every file carries them (files written before the tags, or rewritten by
 * OPTIMIZE, make its partition "changed"); a rolled-back batch is not in the snapshot, so it is
 * never matched.
 */
function unchangedPartitions(snapshot: Snapshot | undefined, options: BronzeWriteOptions, digests: Map<string, string>): Set<string> {
  const same = new Set<string>();
  if (!snapshot) return same;
  const columns = snapshot.partitionColumns;
  const newest = new Map<string, { at: string; digest: string | undefined }>();
  const untagged = new Set<string>();
  for (const file of snapshot.files) {
    const key = partitionKey(columns, file.partitionValues);
    const tags = file.tags ?? {};
    const at = tags[BATCH_TAGS.ingestedAt];
    if (at === undefined || tags[BATCH_TAGS.appId] === undefined) untagged.add(key);
    if (at === undefined || tags[BATCH_TAGS.appId] !== options.asset.appId) continue;
    const seen = newest.get(key);
    if (!seen || at > seen.at) newest.set(key, { at, digest: tags[BATCH_TAGS.rowsDigest] });
    else if (at === seen.at && seen.digest !== tags[BATCH_TAGS.rowsDigest]) newest.set(key, { at, digest: undefined });
  }
  for (const [key, digest] of digests) {
    const seen = newest.get(key);
    if (!untagged.has(key) && seen?.digest !== undefined && seen.digest === digest) same.add(key);
  }
  return same;
}

async function writeMaterialized(lake: Lake, options: BronzeWriteOptions, table: TableRef, snapshot: Snapshot | undefined, from: string): Promise<BronzeWriteResult> {
  const { dataset: def, asset, entry } = options;
  const typedSql = await typedSelect(lake, options, from);
  const plan = await planAppend(lake, options, snapshot, typedSql);
  // Digests cost a scan of the file: only for a file bronze already holds a batch of (a re-publish).
  const republished = snapshot?.files.some((f) => f.tags?.[BATCH_TAGS.appId] === asset.appId) ?? false;
  const scanned = republished ? await partitionDigests(lake, options, plan, typedSql) : undefined;
  const digests = scanned?.digests ?? new Map<string, string>();
  const same = unchangedPartitions(snapshot, options, digests);
  const appended = appendSql(options, plan, typedSql);
  const source = same.size > 0 ? `SELECT * FROM (${appended}) AS appended WHERE ${partitionKeySql(def.partitions)} NOT IN (${[...same].map(literal).join(', ')})` : appended;
  const filePartitionList = scanned?.partitions ?? (await filePartitions(lake, options, typedSql));
  const partitions = filePartitionList.filter((p) => !same.has(partitionKey(def.partitions, p)));
  const unchanged = filePartitionList.filter((p) => same.has(partitionKey(def.partitions, p)));
  const ingestedAt = new Date(options.ingestedAt).toISOString();
  const { drift } = plan;
  const result = await writeTable(lake, {
    table,
    source,
    tagFile: (add) => {
      const digest = digests.get(partitionKey(def.partitions, add.partitionValues));
      return { [BATCH_TAGS.appId]: asset.appId, [BATCH_TAGS.ingestedAt]: ingestedAt, ...(digest !== undefined ? { [BATCH_TAGS.rowsDigest]: digest } : {}) };
    },
    mode: 'append',
    partitionBy: snapshot ? undefined : def.partitions,
    schemaMode: 'merge',
    txn: { appId: asset.appId, version: entry.sequence },
    configuration: snapshot ? undefined : { 'delta.appendOnly': 'true', ...(options.configuration ?? {}) },
    compression: options.compression,
    rowGroupSize: options.rowGroupSize,
    rowGroupMb: def.rowGroupMb ?? options.rowGroupMb,
    maxRowsPerFile: def.maxRowsPerFile ?? options.maxRowsPerFile,
    // Bronze keeps upstream's row order: sort_by pays off where tables are queried (silver,
    // gold, and OPTIMIZE), while sorting every wide upstream file on ingest doubled its cost.
    operationParameters: { source: entry.url },
    commitMetadata: {
      run_id: options.runId,
      pipeline_version: PIPELINE_VERSION,
      upstream_version: upstreamVersion(entry),
      dataset: def.name,
      upstream_file: upstreamFileIdentity(entry, asset),
      changed_partitions: partitions,
      ...(unchanged.length > 0 ? { unchanged_partitions: unchanged } : {}),
      ...(isEmptyDrift(drift) ? {} : { schema_drift: drift }),
    },
    now: options.now,
  });
  const columnsAfter = Object.fromEntries(plan.incoming.map((c) => [c.name, plan.casts.get(c.name) ?? c.type]));
  if (result.status === 'skipped') return { status: 'skipped', table: table.name, version: result.version, reason: result.reason, columns: columnsAfter };
  return { status: 'committed', table: table.name, version: result.version, rows: result.rowsAdded, files: result.filesAdded, partitions, drift, columns: columnsAfter };
}
