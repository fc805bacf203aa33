import { PIPELINE_VERSION, systemClock, type Clock, type Logger } from '../../core/index.js';
import { commitInfoOf, partitionKey, readCommit, type Snapshot } from '../../delta/index.js';
import { ident, scanSql } from '../../engine/index.js';
import { batchKey, findSnapshot, listBatches, removeBatches, type Batch, type Lake, type PartitionBatches, type RemoveBatchesResult } from '../../table/index.js';
import { fileLayout, type BronzeRetention, type Catalog, type DatasetDef } from '../catalog/index.js';
import { newRunId, toRunError, type RunError } from '../run/index.js';
import { bronzeTable } from '../bronze/index.js';
import { sourceId, sourceIdSql } from '../upstream/index.js';
import { DEFAULT_SILVER_SQL_DIR, canonicalSelect, inputSql, lastPromote, loadSilverRule, silverTable, transformSql, type SilverRule } from '../silver/index.js';

/**
 * Bronze garbage collection (`lake gc`, docs/maintenance.md "Bronze garbage collection"). nflverse publishes
 * whole-season files, so every change re-appends a whole file to bronze and superseded copies
 * pile up. Per bronze partition a batch (one append of one source file: its `source` and
 * `ingested_at`) is KEPT when
 * - `pending`: it was committed after the bronze version the last promote read (the next promote
 *   still has to read it);
 * - `silver`: it holds a row silver keeps — the winner of the dataset's dedupe over the
 *   partition's bronze rows (the newest row per key; `latest_batch`: the newest batch of each
 *   source), computed with the current silver rule, so a later rebuild of the partition from
 *   what is left gives exactly today's silver;
 * - `retention`: it is one of the newest `latest_batches` batches of its source (its URL path:
 *   the same file fetched from another host is the same source);
 * and removed otherwise, in one commit per table (src/table/batch-gc.ts). A dataset with
 * `bronze_retention: all` (the default) is left alone. When it cannot tell which batches the
 * next promote reads (never promoted, silver not written by a promote, bronze recreated, log
 * commits gone) the table is skipped, with the reason.
 */
export type KeepReason = 'pending' | 'silver' | 'retention';

export interface BatchDecision {
  source: string | null;
  ingested_at: string | null;
  run_id: string | null;
  upstream_version: string | null;
  rows: number;
  files: number;
  keep: boolean;
  /** Why it is kept (any of KeepReason), or why it goes. */
  reasons: string[];
}

export interface PartitionGc {
  partition: Record<string, string | null>;
  batches: BatchDecision[];
}

export interface BronzeGcOutcome {
  dataset: string;
  table: string;
  /** committed | noop (nothing to remove) | dry-run | skipped (retention all, no table, or pending batches unknown: see reason) | failed. */
  status: 'committed' | 'noop' | 'dry-run' | 'skipped' | 'failed';
  reason: string | null;
  retention: string;
  /** The bronze version the last promote read (null when silver is disabled). */
  last_promote_bronze_version: number | null;
  read_version: number | null;
  version: number | null;
  batches_kept: number;
  batches_removed: number;
  rows_removed: number;
  files_removed: number;
  files_rewritten: number;
  files_added: number;
  bytes_removed: number;
  bytes_added: number;
  /** Partitions with a batch to remove (every batch of them, kept or not, with reasons). */
  partitions: PartitionGc[];
  error?: RunError;
}

export interface BronzeGcOptions {
  catalog: Catalog;
  lake: Lake;
  /** Dataset names (default: every dataset whose bronze table exists). */
  datasets?: string[];
  dryRun?: boolean;
  runId?: string;
  sqlDir?: string;
  clock?: Clock;
  logger?: Logger;
  /** Called for a dataset once its rewritten files are written, just before its commit (tests). */
  beforeCommit?: (dataset: string) => Promise<void>;
}

export interface BronzeGcRunResult {
  run_id: string;
  dry_run: boolean;
  datasets: BronzeGcOutcome[];
  commits: number;
  failures: number;
}

export function retentionText(retention: BronzeRetention | undefined): string {
  return !retention || retention.kind === 'all' ? 'all' : `latest_batches: ${retention.n}`;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * Which batches of one partition stay (pure; the model the tests check against). `needed`: the
 * batches holding silver's rows, undefined when silver is disabled. A batch is kept for every
 * reason that applies; one kept for none goes, with `removal` as its reason.
 */
export function decideBatches(input: {
  batches: readonly Pick<Batch, 'key' | 'source' | 'ingestedAt'>[];
  pending: ReadonlySet<string>;
  needed: ReadonlySet<string> | undefined;
  latestBatches: number;
  removal: string;
}): Map<string, { keep: boolean; reasons: string[] }> {
  const newest = new Set<string>();
  const bySource = new Map<string, Pick<Batch, 'key' | 'ingestedAt'>[]>();
  // A source is its URL path (upstream/source-id.ts): batches of one file fetched from another host count together.
  for (const b of input.batches) {
    const id = String(sourceId(b.source));
    bySource.set(id, [...(bySource.get(id) ?? []), b]);
  }
  for (const list of bySource.values()) {
    const sorted = [...list].sort((a, b) => (b.ingestedAt ?? -Infinity) - (a.ingestedAt ?? -Infinity));
    for (const b of sorted.slice(0, input.latestBatches)) newest.add(b.key);
  }
  const out = new Map<string, { keep: boolean; reasons: string[] }>();
  for (const b of input.batches) {
    const reasons: KeepReason[] = [];
    if (input.pending.has(b.key)) reasons.push('pending');
    if (input.needed?.has(b.key)) reasons.push('silver');
    if (newest.has(b.key)) reasons.push('retention');
    out.set(b.key, reasons.length > 0 ? { keep: true, reasons } : { keep: false, reasons: [input.removal] });
  }
  return out;
}

function removalReason(rule: SilverRule | undefined, n: number): string {
  const beyond = `older than the newest ${n} batch${n === 1 ? '' : 'es'} of its source`;
  if (!rule) return `${beyond} (silver is disabled)`;
  return rule.dedupe === 'key'
    ? `superseded: ${beyond}, and every key it holds has a newer row in a kept batch (silver keeps none of its rows)`
    : `superseded: ${beyond}, and silver keeps only the newest batch of each source (latest_batch)`;
}

/** The batches holding the rows silver keeps in this partition: the winners of the dedupe, computed as promote does (silver-rule.ts dedupeSql). */
async function neededBatches(lake: Lake, snapshot: Snapshot, rule: SilverRule, partition: PartitionBatches): Promise<Set<string>> {
  const bronzeColumns = new Set(snapshot.schema.fields.map((f) => f.name));
  const scan = await scanSql(lake.engine, { ...snapshot, files: partition.files });
  const canonical = `SELECT ${canonicalSelect(rule)} FROM (${transformSql(rule, inputSql(scan, bronzeColumns, rule))}) AS incoming`;
  const partitionColumns = snapshot.partitionColumns;
  const by = (extra: readonly string[]): string => [...new Set([...partitionColumns, ...extra])].map(ident).join(', ');
  const sql =
    rule.dedupe === 'key'
      ? `SELECT DISTINCT source, epoch_ms(ingested_at) AS at FROM (SELECT ${by([...rule.key, 'source', 'ingested_at'])} FROM (${canonical}) AS c
           QUALIFY row_number() OVER (PARTITION BY ${by(rule.key)} ORDER BY ingested_at DESC, ${ident('source')} DESC) = 1) AS winners`
      : `SELECT DISTINCT source, epoch_ms(ingested_at) AS at FROM (${canonical}) AS c QUALIFY ingested_at = max(ingested_at) OVER (PARTITION BY ${[by([]), sourceIdSql()].filter((x) => x !== '').join(', ')})`;
  const rows = await lake.engine.rows<{ source: string | null; at: bigint | number | null }>(sql);
  return new Set(rows.map((r) => batchKey(r.source, r.at === null ? null : Number(r.at))));
}

type Pending = { kind: 'known'; batches: Map<string, Set<string>> } | { kind: 'unknown'; reason: string };

/**
 * The batches committed after `fromVersion` (exclusive), by partition key: from the current files
 * they still sit in, else (rewritten since by OPTIMIZE) from the commit (its upstream file url =
 * `source`) and the add's ingested_at statistics.
 */
async function pendingBatches(snapshot: Snapshot, listed: readonly PartitionBatches[], fromVersion: number): Promise<Pending> {
  const columns = snapshot.partitionColumns;
  const byKey = new Map(listed.map((p) => [p.key, p]));
  const batches = new Map<string, Set<string>>();
  const unknownParts = new Set<string>();
  for (let v = fromVersion + 1; v <= snapshot.version; v++) {
    let actions;
    try {
      actions = await readCommit(snapshot.tableRoot, v);
    } catch {
      return { kind: 'unknown', reason: `the bronze log no longer has version ${v} (after the last promote's bronze version ${fromVersion})` };
    }
    const commitInfo = commitInfoOf(actions);
    const upstream = commitInfo?.['upstream_file'] as { url?: unknown } | undefined;
    const url = typeof upstream?.url === 'string' ? upstream.url : undefined;
    for (const a of actions) {
      if (a.kind !== 'add' || !a.add.dataChange) continue;
      const key = partitionKey(columns, a.add.partitionValues);
      const set = batches.get(key) ?? new Set<string>();
      batches.set(key, set);
      const held = byKey.get(key)?.fileBatches.get(a.add.path);
      if (held) {
        for (const b of held) set.add(b);
        continue;
      }
      const stats = typeof a.add.stats === 'string' ? (JSON.parse(a.add.stats) as { minValues?: Record<string, unknown>; maxValues?: Record<string, unknown> }) : undefined;
      const min = stats?.minValues?.['ingested_at'];
      const max = stats?.maxValues?.['ingested_at'];
      if (url !== undefined && typeof min === 'string' && min === max && Number.isFinite(Date.parse(min))) set.add(batchKey(url, Date.parse(min)));
      else unknownParts.add(key);
    }
  }
  // A partition with pending rows of an unknown batch keeps everything.
  for (const key of unknownParts) batches.set(key, new Set(byKey.get(key)?.batches.map((b) => b.key) ?? []));
  return { kind: 'known', batches };
}

function emptyOutcome(def: DatasetDef, table: string): BronzeGcOutcome {
  return {
    dataset: def.name,
    table,
    status: 'noop',
    reason: null,
    retention: retentionText(def.bronzeRetention),
    last_promote_bronze_version: null,
    read_version: null,
    version: null,
    batches_kept: 0,
    batches_removed: 0,
    rows_removed: 0,
    files_removed: 0,
    files_rewritten: 0,
    files_added: 0,
    bytes_removed: 0,
    bytes_added: 0,
    partitions: [],
  };
}

/** Garbage-collects one dataset's bronze table; never throws (a failure is the outcome's error). */
export async function collectBronzeGarbage(options: BronzeGcOptions, def: DatasetDef, runId: string): Promise<BronzeGcOutcome> {
  const { lake, catalog } = options;
  const table = bronzeTable(lake, def.name);
  const outcome = emptyOutcome(def, table.name);
  const skip = (reason: string): BronzeGcOutcome => Object.assign(outcome, { status: 'skipped' as const, reason });
  try {
    const retention = def.bronzeRetention;
    if (!retention || retention.kind === 'all') return skip('bronze_retention: all (the default) keeps every batch; set bronze_retention: { latest_batches: n } in the catalog to collect this dataset');
    const snapshot = await findSnapshot(lake, table);
    if (!snapshot) return skip(`${table.name} does not exist`);
    outcome.read_version = snapshot.version;
    const silverEnabled = def.silver?.enabled !== false;
    let rule: SilverRule | undefined;
    let fromVersion = snapshot.version;
    if (silverEnabled) {
      const silver = silverTable(lake, def.name);
      const silverSnapshot = await findSnapshot(lake, silver);
      if (!silverSnapshot) return skip(`${silver.name} does not exist: every batch is still to be promoted (run lake promote first)`);
      const last = await lastPromote(silver);
      if (!last) return skip(`${silver.name}'s current state was not written by lake promote, so the next promote rebuilds from every batch`);
      if (last.bronzeVersion > snapshot.version || (last.bronzeTableId !== undefined && last.bronzeTableId !== snapshot.metadata.id)) return skip(`${table.name} was recreated since the last promote`);
      outcome.last_promote_bronze_version = last.bronzeVersion;
      fromVersion = last.bronzeVersion;
      rule = await loadSilverRule(lake.engine, def, options.sqlDir ?? DEFAULT_SILVER_SQL_DIR);
    }
    const listed = await listBatches(lake, table, snapshot);
    const pending = await pendingBatches(snapshot, listed.partitions, fromVersion);
    if (pending.kind === 'unknown') return skip(`cannot tell which batches the next promote reads: ${pending.reason}`);
    const removal = removalReason(rule, retention.n);
    const drop = new Map<string, Set<string>>();
    for (const partition of listed.partitions) {
      const pendingHere = pending.batches.get(partition.key) ?? new Set<string>();
      const base = { batches: partition.batches, pending: pendingHere, latestBatches: retention.n, removal };
      // Without silver's needs first: reading the partition through the silver rule only pays when something could go.
      let decisions = decideBatches({ ...base, needed: undefined });
      if (rule && [...decisions.values()].some((d) => !d.keep)) decisions = decideBatches({ ...base, needed: await neededBatches(lake, snapshot, rule, partition) });
      const gone = new Set([...decisions].filter(([, d]) => !d.keep).map(([k]) => k));
      outcome.batches_kept += partition.batches.length - gone.size;
      if (gone.size === 0) continue;
      drop.set(partition.key, gone);
      outcome.partitions.push({
        partition: partition.values,
        batches: partition.batches.map((b) => ({
          source: b.source,
          ingested_at: iso(b.ingestedAt),
          run_id: b.runId,
          upstream_version: b.upstreamVersion,
          rows: b.rows,
          files: b.files.length,
          ...decisions.get(b.key)!,
        })),
      });
    }
    const layout = fileLayout(catalog, def.name);
    const result = await removeBatches(lake, {
      table,
      batches: listed,
      drop,
      sortBy: layout.sortBy,
      maxRowsPerFile: layout.maxRowsPerFile,
      rowGroupBytes: layout.rowGroupMb === undefined ? undefined : layout.rowGroupMb * 1024 * 1024,
      rowGroupSize: catalog.lake.rowGroupSize,
      compression: catalog.lake.compression,
      dryRun: options.dryRun,
      now: () => (options.clock ?? systemClock).now(),
      operationParameters: { retention: outcome.retention, lastPromoteBronzeVersion: String(outcome.last_promote_bronze_version ?? 'none'), dedupe: rule?.dedupe ?? 'none' },
      commitMetadata: {
        run_id: runId,
        pipeline_version: PIPELINE_VERSION,
        dataset: def.name,
        gc: {
          retention: outcome.retention,
          last_promote_bronze_version: outcome.last_promote_bronze_version,
          removed_batches: outcome.partitions.flatMap((p) => p.batches.filter((b) => !b.keep).map((b) => ({ partition: p.partition, source: b.source, ingested_at: b.ingested_at, run_id: b.run_id, upstream_version: b.upstream_version, rows: b.rows, reason: b.reasons[0] }))),
        },
      },
      beforeCommit: options.beforeCommit ? () => options.beforeCommit!(def.name) : undefined,
    });
    applyResult(outcome, result);
    options.logger?.info({ dataset: def.name, table: table.name, status: outcome.status, version: outcome.version, batchesRemoved: outcome.batches_removed, rowsRemoved: outcome.rows_removed }, 'bronze gc finished');
    return outcome;
  } catch (error) {
    outcome.status = 'failed';
    outcome.error = toRunError(error);
    return outcome;
  }
}

function applyResult(outcome: BronzeGcOutcome, result: RemoveBatchesResult): void {
  outcome.status = result.status;
  outcome.version = result.version ?? null;
  outcome.batches_removed = result.batchesRemoved;
  outcome.rows_removed = result.rowsRemoved;
  outcome.files_removed = result.filesRemoved;
  outcome.files_rewritten = result.filesRewritten;
  outcome.files_added = result.filesAdded;
  outcome.bytes_removed = result.bytesRemoved;
  outcome.bytes_added = result.bytesAdded;
}

/** `lake gc`: every chosen dataset, one after the other (each reads whole partitions). */
export async function runBronzeGc(options: BronzeGcOptions): Promise<BronzeGcRunResult> {
  const runId = options.runId ?? newRunId((options.clock ?? systemClock).now());
  const names = options.datasets;
  const defs = names ? names.map((n) => options.catalog.datasets.find((d) => d.name === n)).filter((d): d is DatasetDef => d !== undefined) : options.catalog.datasets;
  const datasets: BronzeGcOutcome[] = [];
  for (const def of defs) {
    if (!names && !(await findSnapshot(options.lake, bronzeTable(options.lake, def.name)))) continue;
    datasets.push(await collectBronzeGarbage(options, def, runId));
  }
  return { run_id: runId, dry_run: options.dryRun === true, datasets, commits: datasets.filter((d) => d.status === 'committed').length, failures: datasets.filter((d) => d.status === 'failed').length };
}
