import path from 'node:path';
import { LakeError, type Clock, type Logger } from '../../core/index.js';
import { readCommit, type Snapshot } from '../../delta/index.js';
import { ident } from '../../engine/index.js';
import { findSnapshot, findTableRefs, resolveTable, type Lake, type TableRef } from '../../table/index.js';
import { DEFAULT_SILVER_SQL_DIR, columnRefs, loadSilverRule, type SilverColumn } from '../silver/index.js';
import { displayPath, type ProgressReporter, type ProgressSink } from '../run/index.js';
import type { Catalog } from '../catalog/index.js';
import { lastGoldBuild } from './last-build.js';
import { loadMarts, type MartRule } from './mart-rule.js';
import { changeMissesMart } from './source-columns.js';

/**
 * The plan of one mart: its sources at their current versions (a missing source read as an empty
 * relation with its canonical columns), the SELECT with every source pinned to that version, and
 * the scope to rebuild (every season, some seasons, or nothing) from the source commits since the
 * mart's last build.
 */
export interface BuildGoldOptions {
  catalog: Catalog;
  /** Mart names (e.g. fact_team_week); default every mart in the folder. */
  marts?: string[];
  dryRun?: boolean;
  /** Rebuild every season of every selected mart. */
  full?: boolean;
  /** Seasons a season-partitioned mart's rows are staged in per statement (default GOLD_SEASONS_PER_STAGE, build.ts). */
  seasonsPerStage?: number;
  runId?: string;
  clock?: Clock;
  sqlDir?: string;
  silverSqlDir?: string;
  lake?: Lake;
  root?: string;
  /** Table properties for gold tables created by this run. */
  configuration?: Record<string, string>;
  /** Paths in messages are shown relative to this folder (the CLI's working directory); absolute otherwise. */
  cwd?: string;
  logger?: Logger;
  /** Where progress goes besides `logger` (the CLI's display). */
  progress?: ProgressSink;
}

export interface SourceState {
  name: string;
  ref: TableRef;
  snapshot: Snapshot | undefined;
  /** Canonical columns of a silver source (its rule), to read a missing table as empty. */
  columns: SilverColumn[] | undefined;
}

/** What every mart of one build-gold run shares. */
export interface GoldContext {
  options: BuildGoldOptions;
  lake: Lake;
  runId: string;
  clock: Clock;
  stagingRoot: string;
  /** Dry run: what the marts before would have changed. */
  planned: Map<string, Change>;
  described: Map<string, SilverColumn[]>;
  progress: ProgressReporter;
}

/** The canonical columns of a source: a silver rule's, or a gold mart's output types (from its SQL); cached per run. */
export async function sourceColumns(ctx: GoldContext, name: string): Promise<SilverColumn[] | undefined> {
  if (ctx.described.has(name)) return ctx.described.get(name);
  const [layer, dataset] = name.split('.') as [string, string];
  let columns: SilverColumn[] | undefined;
  if (layer === 'silver') {
    const def = ctx.options.catalog.datasets.find((d) => d.name === dataset);
    if (def) columns = (await loadSilverRule(ctx.lake.engine, def, ctx.options.silverSqlDir ?? DEFAULT_SILVER_SQL_DIR)).columns;
  } else {
    const rule = loadMarts(ctx.options.sqlDir, ctx.options.silverSqlDir).find((r) => r.table === name);
    if (rule) columns = await describeMart(ctx, rule);
  }
  if (columns) ctx.described.set(name, columns);
  return columns;
}

/** Every source of the mart at its current version (`empty`: as if none existed yet). */
export async function sourceStates(ctx: GoldContext, rule: MartRule, empty: boolean): Promise<SourceState[]> {
  return Promise.all(
    rule.sources.map(async (name) => {
      const ref = resolveTable(ctx.lake, name);
      const snapshot = empty ? undefined : await findSnapshot(ctx.lake, ref);
      return { name, ref, snapshot, columns: snapshot ? undefined : await sourceColumns(ctx, name) };
    }),
  );
}

/**
 * The mart's SELECT with every source pinned: an existing table as `(SELECT <columns the mart
 * names> FROM t AT (VERSION => n) [WHERE season IN (…)])`, a missing one as an empty typed relation.
 */
export async function pinnedSql(ctx: GoldContext, rule: MartRule, sources: SourceState[], seasons: number[] | null): Promise<string> {
  const named = await columnRefs(ctx.lake.engine, rule.sql);
  const byName = new Map(sources.map((s) => [s.name, s]));
  let out = '';
  let cursor = 0;
  for (const ref of findTableRefs(rule.sql)) {
    const source = byName.get(ref.name)!;
    let relation: string;
    if (source.snapshot) {
      const have = source.snapshot.schema.fields.map((f) => f.name);
      const canonical = source.columns ?? (await sourceColumns(ctx, source.name)) ?? [];
      const select = [
        ...have.filter((c) => named.has(c)).map(ident),
        ...canonical.filter((c) => named.has(c.name) && !have.includes(c.name)).map((c) => `CAST(NULL AS ${c.type}) AS ${ident(c.name)}`),
      ];
      const filter = seasons && source.snapshot.partitionColumns.includes('season') ? ` WHERE ${seasons.length > 0 ? `season IN (${seasons.join(', ')})` : 'false'}` : '';
      relation = `(SELECT ${select.length > 0 ? select.join(', ') : '*'} FROM ${source.name} AT (VERSION => ${source.snapshot.version})${filter})`;
    } else {
      if (!source.columns) {
        throw new LakeError('USAGE', `${rule.table} reads ${source.name}, which does not exist yet`, {
          hint: source.name.startsWith('gold.') ? `Build it first: lake build-gold --marts ${source.name.slice(5)},${rule.mart}` : `Add the dataset ${source.name.slice(7)} to the catalog, or remove it from ${displayPath(rule.file, ctx.options.cwd)}.`,
        });
      }
      const typed = source.columns.filter((c) => named.has(c.name));
      relation = `(SELECT ${typed.length > 0 ? typed.map((c) => `CAST(NULL AS ${c.type}) AS ${ident(c.name)}`).join(', ') : 'NULL AS __none'} WHERE false)`;
    }
    out += rule.sql.slice(cursor, ref.start) + relation;
    cursor = ref.end;
  }
  return out + rule.sql.slice(cursor);
}

/** The mart's output columns and types, from its SELECT over empty sources (no data needed). */
export async function describeMart(ctx: GoldContext, rule: MartRule): Promise<SilverColumn[]> {
  const sql = await pinnedSql(ctx, rule, await sourceStates(ctx, rule, true), null);
  const result = await ctx.lake.engine.run(`SELECT * FROM (${sql}) AS mart LIMIT 0`);
  return result.columnNames().map((name, i) => ({ name, type: result.columnTypes()[i]!.toString() }));
}

export type Change = Set<number> | 'all';

/** Seasons whose partitions the commits after `from` touched ('all' when that cannot be told by season). */
async function touchedSeasons(snapshot: Snapshot, from: number): Promise<Change> {
  if (from === snapshot.version) return new Set();
  if (from > snapshot.version || !snapshot.partitionColumns.includes('season')) return 'all';
  const seasons = new Set<number>();
  for (let v = from + 1; v <= snapshot.version; v++) {
    let actions;
    try {
      actions = await readCommit(snapshot.tableRoot, v);
    } catch {
      return 'all'; // the log no longer has every commit since the last build
    }
    for (const a of actions) {
      if (a.kind === 'metaData' && a.metaData.partitionColumns.join(',') !== snapshot.partitionColumns.join(',')) return 'all';
      // A rewrite (OPTIMIZE, dataChange false) changes no rows.
      const values = a.kind === 'add' && a.add.dataChange ? a.add.partitionValues : a.kind === 'remove' && a.remove.dataChange ? a.remove.partitionValues : undefined;
      if (!values) continue;
      const season = Number(values['season']);
      if (values['season'] === null || values['season'] === undefined || !Number.isInteger(season)) return 'all';
      seasons.add(season);
    }
  }
  return seasons;
}

/** What to rebuild: every season, some seasons, or nothing. */
export interface Scope {
  mode: 'full' | 'seasons' | null;
  seasons: number[] | null;
  reason: string;
  /** Write the schema and partitioning anew (new table, changed SQL, --full). */
  recreate: boolean;
}

export async function planScope(ctx: GoldContext, rule: MartRule, mart: Snapshot | undefined, sources: SourceState[]): Promise<Scope> {
  const full = (reason: string, recreate = false): Scope => ({ mode: 'full', seasons: null, reason, recreate });
  if (ctx.options.full) return full('--full', true);
  if (!mart) return full('new table', true);
  const last = await lastGoldBuild(resolveTable(ctx.lake, rule.table));
  if (!last) return full('no build-gold commit in the history of the current version', true);
  if (last.ruleSha256 !== rule.sha256) return full(`${path.basename(rule.file)} changed`, true);
  if (mart.partitionColumns.join(',') !== rule.partitionBy.join(',')) return full('partitioning changed', true);
  const seasons = new Set<number>();
  const changed: string[] = [];
  const unread: string[] = [];
  for (const source of sources) {
    const recorded = last.sourceVersions[source.name];
    let change: Change;
    if (!source.snapshot) change = recorded === undefined ? new Set() : 'all';
    else if (recorded !== undefined && last.sourceTableIds[source.name] !== undefined && last.sourceTableIds[source.name] !== source.snapshot.metadata.id) change = 'all';
    else change = await touchedSeasons(source.snapshot, recorded ?? -1);
    const pending = ctx.planned.get(source.name);
    if (pending) change = change === 'all' || pending === 'all' ? 'all' : new Set([...change, ...pending]);
    // A source changed as a whole, but not in the columns this mart reads: nothing to rebuild for it.
    else if (change === 'all' && recorded !== undefined && source.snapshot && last.sourceTableIds[source.name] === source.snapshot.metadata.id && (await changeMissesMart(ctx.lake, rule.sql, source, recorded))) {
      unread.push(`${source.name} v${recorded} → v${source.snapshot.version} (not in the columns read)`);
      continue;
    }
    if (change === 'all') return full(`${source.name} changed (v${recorded ?? '-'} → v${source.snapshot?.version ?? '-'}, not by season)`);
    if (change.size === 0) continue;
    changed.push(`${source.name} v${recorded ?? '-'} → v${source.snapshot?.version ?? '-'}`);
    for (const s of change) seasons.add(s);
  }
  if (seasons.size === 0) return { mode: null, seasons: null, reason: unread.length > 0 ? `no source changed in the columns it reads: ${unread.join(', ')}` : 'no source changed', recreate: false };
  if (rule.partitionBy.length === 0) return full(changed.join(', '));
  return { mode: 'seasons', seasons: [...seasons].sort((a, b) => a - b), reason: changed.join(', '), recreate: false };
}
