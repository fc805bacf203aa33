import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT, LakeError, PIPELINE_VERSION, isLakeError, systemClock, type Clock, type Logger } from '../../core/index.js';
import { readCommit, type Snapshot } from '../../delta/index.js';
import { ident, literal } from '../../engine/index.js';
import { openLake, resolveTable, tableSnapshot, type Lake, type TableRef, tableHistory, prepareQuery, findTableRefs, writeTable } from '../../table/index.js';
import { DEFAULT_SILVER_SQL_DIR, TEAM_CODES_FILE, columnRefs, loadSilverRule, loadTeamCodes, type SilverColumn } from '../silver/index.js';
import { newRunId } from '../run/index.js';
import type { Catalog } from '../catalog/index.js';

/**
 * `lake build-gold`: silver → gold marts, one DuckDB SELECT per mart in `sql/gold/<mart>.sql`.
 *
 * A mart file starts with a header of `-- @directive` lines (continued by `--   ` lines):
 * `@mart` (the file name), `@summary`, `@grain` (the key columns, checked unique and non-NULL
 * before every commit), `@partition season` (or none), `@coverage` (any number) and one
 * `@column name description` per output column. Sources are the `silver.x` / `gold.y` tables the
 * SELECT names (always with an alias, never `SELECT *` from a source); gold sources are built
 * first. The SELECT may use the team-code macros (sql/silver/_team_codes.sql), the macros of `sql/gold/_macros.sql`, and
 * the relation `team_code_aliases(alias, team, before_season)` parsed from that same mapping.
 *
 * Contract of a season-partitioned mart: its rows of season S depend only on the rows of season S
 * of its season-partitioned sources (and on any row of its other sources). That makes the
 * incremental rebuild exact: the seasons to rebuild are those whose partitions the source commits
 * since the versions recorded in the mart's last build touched (DESIGN.md decision 9; a RESTORE
 * is followed back to the version it restored); a change to a source without a season partition,
 * a changed mart SQL, or a log that lost commits rebuilds every season. Each mart is one Delta
 * commit (a partition replace of those seasons, or an overwrite) recording the source versions it
 * read (`source_versions`, which rollback --cascade follows). No source change: nothing committed.
 */
export const DEFAULT_GOLD_SQL_DIR = fileURLToPath(new URL('../../../sql/gold/', import.meta.url));
export const MACROS_FILE = '_macros.sql';

export interface MartColumn {
  name: string;
  description: string;
}

export interface MartRule {
  mart: string;
  /** `gold.<mart>` */
  table: string;
  file: string;
  sql: string;
  sha256: string;
  summary: string;
  grain: string[];
  /** `['season']` or `[]`. */
  partitionBy: string[];
  coverage: string[];
  columns: MartColumn[];
  /** `silver.x` / `gold.y` tables the SELECT reads, in order of first use. */
  sources: string[];
}

function invalid(file: string, problem: string): LakeError {
  return new LakeError('CATALOG_INVALID', `${file}: ${problem}`, { hint: 'Fix the mart header (see the comment at the top of src/lake/gold.ts).' });
}

/** Parses one mart file: header directives, the SELECT, its sources. Pure. */
export function parseMart(file: string, text: string): MartRule {
  const directives: { key: string; value: string }[] = [];
  const lines = text.split('\n');
  let body = 0;
  for (; body < lines.length; body++) {
    const line = lines[body]!;
    const directive = /^--\s*@(\w+)\s*(.*)$/.exec(line);
    if (directive) directives.push({ key: directive[1]!, value: directive[2]!.trim() });
    else if (/^--\s{2,}\S/.test(line) && directives.length > 0) directives[directives.length - 1]!.value += ` ${line.replace(/^--\s+/, '').trim()}`;
    else if (!/^--/.test(line) && line.trim() !== '') break;
  }
  const one = (key: string): string | undefined => directives.find((d) => d.key === key)?.value;
  const list = (value: string | undefined): string[] => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const mart = path.basename(file, '.sql');
  if (one('mart') !== mart) throw invalid(file, `@mart must be ${mart} (the file name), got ${one('mart') ?? 'nothing'}`);
  const grain = list(one('grain'));
  if (grain.length === 0) throw invalid(file, '@grain is missing');
  const partitionBy = list(one('partition'));
  if (partitionBy.length > 0 && partitionBy.join(',') !== 'season') throw invalid(file, `@partition must be season or absent, got ${partitionBy.join(', ')}`);
  const columns = directives.filter((d) => d.key === 'column').map((d) => {
    const m = /^(\w+)\s+(.*)$/.exec(d.value);
    if (!m) throw invalid(file, `@column needs a name and a description: ${d.value}`);
    return { name: m[1]!, description: m[2]!.trim() };
  });
  const sql = `${lines.slice(body).join('\n').trim().replace(/;+\s*$/, '')}\n`;
  const sources: string[] = [];
  for (const ref of findTableRefs(sql)) {
    if (ref.kind !== 'catalog' || ref.name.startsWith('bronze.')) throw invalid(file, `reads ${ref.name}: a mart reads silver.* and gold.* tables only`);
    if (ref.at) throw invalid(file, `reads ${ref.name} with an AT clause: build-gold pins the versions itself`);
    if (ref.name === `gold.${mart}`) throw invalid(file, 'a mart cannot read itself');
    if (!sources.includes(ref.name)) sources.push(ref.name);
  }
  return {
    mart,
    table: `gold.${mart}`,
    file,
    sql,
    sha256: createHash('sha256').update(text).digest('hex'),
    summary: one('summary') ?? '',
    grain,
    partitionBy,
    coverage: directives.filter((d) => d.key === 'coverage').map((d) => d.value),
    columns,
    sources,
  };
}

/** Every mart in `sqlDir`, ordered so that a mart comes after the gold marts it reads. */
export function loadMarts(sqlDir: string = DEFAULT_GOLD_SQL_DIR, silverSqlDir: string = DEFAULT_SILVER_SQL_DIR): MartRule[] {
  // A mart's recorded sha256 covers the macro files it can use, so editing them rebuilds it.
  const shared = [path.join(sqlDir, MACROS_FILE), path.join(silverSqlDir, TEAM_CODES_FILE)].map((f) => (existsSync(f) ? readFileSync(f, 'utf8') : '')).join('\n');
  const rules = readdirSync(sqlDir)
    .filter((f) => f.endsWith('.sql') && !f.startsWith('_'))
    .sort()
    .map((f) => {
      const text = readFileSync(path.join(sqlDir, f), 'utf8');
      return { ...parseMart(path.join(sqlDir, f), text), sha256: createHash('sha256').update(text).update(shared).digest('hex') };
    });
  const byTable = new Map(rules.map((r) => [r.table, r]));
  const ordered: MartRule[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (rule: MartRule): void => {
    if (state.get(rule.table) === 'done') return;
    if (state.get(rule.table) === 'visiting') throw invalid(rule.file, `the gold marts read each other in a cycle through ${rule.table}`);
    state.set(rule.table, 'visiting');
    for (const source of rule.sources.filter((s) => s.startsWith('gold.'))) {
      const dep = byTable.get(source);
      if (!dep) throw invalid(rule.file, `reads ${source}, which no file in ${sqlDir} builds`);
      visit(dep);
    }
    state.set(rule.table, 'done');
    ordered.push(rule);
  };
  for (const rule of rules) visit(rule);
  return ordered;
}

/** `team_code_aliases(alias, team, before_season)` from the WHEN branches of the one team-code mapping. */
export function teamCodeAliases(text: string): { alias: string; team: string; beforeSeason: number | null }[] {
  const out = [...text.matchAll(/WHEN '([A-Z0-9]+)' THEN '([A-Z0-9]+)'/g)].map((m) => ({ alias: m[1]!, team: m[2]!, beforeSeason: null as number | null }));
  for (const m of text.matchAll(/= '([A-Z0-9]+)' AND season < (\d+) THEN '([A-Z0-9]+)'/g)) out.push({ alias: m[1]!, team: m[3]!, beforeSeason: Number(m[2]) });
  return out;
}

/** Macros every mart may use: the team-code mapping, `sql/gold/_macros.sql`, and `team_code_aliases`. */
async function loadGoldMacros(lake: Lake, sqlDir: string, silverSqlDir: string): Promise<void> {
  await loadTeamCodes(lake.engine, silverSqlDir);
  const macros = path.join(sqlDir, MACROS_FILE);
  if (existsSync(macros)) await lake.engine.run(readFileSync(macros, 'utf8'));
  const rows = teamCodeAliases(readFileSync(path.join(silverSqlDir, TEAM_CODES_FILE), 'utf8'));
  const values = rows.map((r) => `(${literal(r.alias)}, ${literal(r.team)}, ${r.beforeSeason ?? 'CAST(NULL AS INTEGER)'})`).join(', ');
  await lake.engine.run(`CREATE OR REPLACE TEMP TABLE team_code_aliases AS SELECT * FROM (VALUES ${values}) AS v(alias, team, before_season)`);
}

export interface BuildGoldOptions {
  catalog: Catalog;
  /** Mart names (e.g. fact_team_week); default every mart in the folder. */
  marts?: string[];
  dryRun?: boolean;
  /** Rebuild every season of every selected mart. */
  full?: boolean;
  runId?: string;
  clock?: Clock;
  sqlDir?: string;
  silverSqlDir?: string;
  lake?: Lake;
  root?: string;
  /** Table properties for gold tables created by this run. */
  configuration?: Record<string, string>;
  logger?: Logger;
}

export interface MartOutcome {
  mart: string;
  table: string;
  /** committed | unchanged (no source change) | planned (dry run) | failed | skipped (a gold source failed). */
  status: 'committed' | 'unchanged' | 'planned' | 'failed' | 'skipped';
  /** Partitioned by season (else rebuilt whole). */
  partitioned: boolean;
  /** full: every season (or an unpartitioned mart); seasons: the seasons listed. */
  mode: 'full' | 'seasons' | null;
  reason: string;
  seasons: number[] | null;
  versionBefore: number | null;
  version: number | null;
  /** The version of every existing source read. */
  sourceVersions: Record<string, number>;
  /** Sources that do not exist yet (read as empty relations with their canonical columns). */
  missingSources: string[];
  rows: number | null;
  rowsBySeason: Record<string, number>;
  filesAdded: number;
  filesRemoved: number;
  error?: { code: string; message: string; hint: string | undefined; exitCode: number };
  ms: number;
}

export interface GoldRunResult {
  runId: string;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  marts: MartOutcome[];
  commits: number;
  failures: number;
  exitCode: number;
}

interface LastBuild {
  ruleSha256: string | undefined;
  sourceVersions: Record<string, number>;
  sourceTableIds: Record<string, string>;
}

/** The sources the current mart state was built from: the newest build-gold commit, following RESTOREs. */
export async function lastGoldBuild(lake: Lake, mart: TableRef): Promise<LastBuild | undefined> {
  let upTo = Infinity;
  for (const entry of await tableHistory(lake, mart)) {
    if (entry.version > upTo) continue;
    const gold = entry.commitInfo?.['gold'] as { rule_sha256?: unknown; source_versions?: unknown; source_table_ids?: unknown } | undefined;
    if (gold && typeof gold.source_versions === 'object' && gold.source_versions !== null) {
      return {
        ruleSha256: typeof gold.rule_sha256 === 'string' ? gold.rule_sha256 : undefined,
        sourceVersions: gold.source_versions as Record<string, number>,
        sourceTableIds: (gold.source_table_ids ?? {}) as Record<string, string>,
      };
    }
    if (entry.operation === 'RESTORE') {
      upTo = Number(entry.operationParameters['version']);
      if (!Number.isInteger(upTo)) return undefined;
      continue;
    }
    if (entry.filesAdded > 0 || entry.filesRemoved > 0) return undefined;
  }
  return undefined;
}

async function trySnapshot(lake: Lake, table: TableRef): Promise<Snapshot | undefined> {
  try {
    return await tableSnapshot(lake, table);
  } catch (error) {
    if (isLakeError(error, 'TABLE_NOT_FOUND')) return undefined;
    throw error;
  }
}

type Change = Set<number> | 'all';

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
      const values = a.kind === 'add' ? a.add.partitionValues : a.kind === 'remove' ? a.remove.partitionValues : undefined;
      if (!values) continue;
      const season = Number(values['season']);
      if (values['season'] === null || values['season'] === undefined || !Number.isInteger(season)) return 'all';
      seasons.add(season);
    }
  }
  return seasons;
}

interface SourceState {
  name: string;
  ref: TableRef;
  snapshot: Snapshot | undefined;
  /** Canonical columns of a silver source (its rule), to read a missing table as empty. */
  columns: SilverColumn[] | undefined;
}

interface RunContext {
  options: BuildGoldOptions;
  lake: Lake;
  runId: string;
  clock: Clock;
  stagingRoot: string;
  /** Dry run: what the marts before would have changed. */
  planned: Map<string, Change>;
  described: Map<string, SilverColumn[]>;
}

async function sourceColumns(ctx: RunContext, name: string): Promise<SilverColumn[] | undefined> {
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

async function sourceStates(ctx: RunContext, rule: MartRule, empty: boolean): Promise<SourceState[]> {
  return Promise.all(
    rule.sources.map(async (name) => {
      const ref = resolveTable(ctx.lake, name);
      const snapshot = empty ? undefined : await trySnapshot(ctx.lake, ref);
      return { name, ref, snapshot, columns: snapshot ? undefined : await sourceColumns(ctx, name) };
    }),
  );
}

/**
 * The mart's SELECT with every source pinned: an existing table as `(SELECT <columns the mart
 * names> FROM t AT (VERSION => n) [WHERE season IN (…)])`, a missing one as an empty typed relation.
 */
async function pinnedSql(ctx: RunContext, rule: MartRule, sources: SourceState[], seasons: number[] | null): Promise<string> {
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
      const filter = seasons && source.snapshot.partitionColumns.includes('season') ? ` WHERE season IN (${seasons.join(', ')})` : '';
      relation = `(SELECT ${select.length > 0 ? select.join(', ') : '*'} FROM ${source.name} AT (VERSION => ${source.snapshot.version})${filter})`;
    } else {
      if (!source.columns) {
        throw new LakeError('USAGE', `${rule.table} reads ${source.name}, which does not exist yet`, {
          hint: source.name.startsWith('gold.') ? `Build it first: lake build-gold --marts ${source.name.slice(5)},${rule.mart}` : `Add the dataset ${source.name.slice(7)} to the catalog, or remove it from ${path.relative(process.cwd(), rule.file)}.`,
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
async function describeMart(ctx: RunContext, rule: MartRule): Promise<SilverColumn[]> {
  const sql = await pinnedSql(ctx, rule, await sourceStates(ctx, rule, true), null);
  const result = await ctx.lake.engine.run(`SELECT * FROM (${sql}) AS mart LIMIT 0`);
  return result.columnNames().map((name, i) => ({ name, type: result.columnTypes()[i]!.toString() }));
}

/** What to rebuild: every season, some seasons, or nothing. */
interface Scope {
  mode: 'full' | 'seasons' | null;
  seasons: number[] | null;
  reason: string;
  /** Write the schema and partitioning anew (new table, changed SQL, --full). */
  recreate: boolean;
}

async function planScope(ctx: RunContext, rule: MartRule, mart: Snapshot | undefined, sources: SourceState[]): Promise<Scope> {
  const full = (reason: string, recreate = false): Scope => ({ mode: 'full', seasons: null, reason, recreate });
  if (ctx.options.full) return full('--full', true);
  if (!mart) return full('new table', true);
  const last = await lastGoldBuild(ctx.lake, resolveTable(ctx.lake, rule.table));
  if (!last) return full('no build-gold commit in the history of the current version', true);
  if (last.ruleSha256 !== rule.sha256) return full(`${path.basename(rule.file)} changed`, true);
  if (mart.partitionColumns.join(',') !== rule.partitionBy.join(',')) return full('partitioning changed', true);
  const seasons = new Set<number>();
  const changed: string[] = [];
  for (const source of sources) {
    const recorded = last.sourceVersions[source.name];
    let change: Change;
    if (!source.snapshot) change = recorded === undefined ? new Set() : 'all';
    else if (recorded !== undefined && last.sourceTableIds[source.name] !== undefined && last.sourceTableIds[source.name] !== source.snapshot.metadata.id) change = 'all';
    else change = await touchedSeasons(source.snapshot, recorded ?? -1);
    const pending = ctx.planned.get(source.name);
    if (pending) change = change === 'all' || pending === 'all' ? 'all' : new Set([...change, ...pending]);
    if (change === 'all') return full(`${source.name} changed (v${recorded ?? '-'} → v${source.snapshot?.version ?? '-'}, not by season)`);
    if (change.size === 0) continue;
    changed.push(`${source.name} v${recorded ?? '-'} → v${source.snapshot?.version ?? '-'}`);
    for (const s of change) seasons.add(s);
  }
  if (seasons.size === 0) return { mode: null, seasons: null, reason: 'no source changed', recreate: false };
  if (rule.partitionBy.length === 0) return full(changed.join(', '));
  return { mode: 'seasons', seasons: [...seasons].sort((a, b) => a - b), reason: changed.join(', '), recreate: false };
}

function toError(error: unknown): NonNullable<MartOutcome['error']> {
  if (isLakeError(error)) return { code: error.code, message: error.message, hint: error.hint, exitCode: error.exitCode };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), hint: 'This is a bug; please report it with the command you ran.', exitCode: EXIT.unexpected };
}

/** Grain keys unique and non-NULL in the staged rows, else QUALITY_GATE_FAILED (nothing committed). */
async function checkGrain(ctx: RunContext, rule: MartRule, staged: string): Promise<void> {
  const keys = rule.grain.map(ident).join(', ');
  const [row] = await ctx.lake.engine.rows<{ nulls: bigint; dups: bigint; example: string | null }>(
    `SELECT (SELECT count(*) FROM read_parquet(${literal(staged)}) WHERE ${rule.grain.map((c) => `${ident(c)} IS NULL`).join(' OR ')}) AS nulls,
            (SELECT count(*) FROM (SELECT ${keys} FROM read_parquet(${literal(staged)}) GROUP BY ALL HAVING count(*) > 1)) AS dups,
            (SELECT CAST(to_json(struct_pack(${rule.grain.map((c) => `${ident(c)} := ${ident(c)}`).join(', ')})) AS VARCHAR) FROM read_parquet(${literal(staged)}) GROUP BY ALL HAVING count(*) > 1 LIMIT 1) AS example`,
  );
  const nulls = Number(row?.nulls ?? 0);
  const dups = Number(row?.dups ?? 0);
  if (nulls === 0 && dups === 0) return;
  throw new LakeError('QUALITY_GATE_FAILED', `${rule.table}: the grain (${rule.grain.join(', ')}) is not a key of the built rows: ${dups} key${dups === 1 ? '' : 's'} held by several rows${row?.example ? ` (e.g. ${row.example})` : ''}, ${nulls} row${nulls === 1 ? '' : 's'} with a NULL key part; nothing was committed`, {
    hint: `Fix ${path.relative(process.cwd(), rule.file)} (or the silver data it reads), then run lake build-gold again.`,
  });
}

async function buildMart(ctx: RunContext, rule: MartRule, failedSources: string[]): Promise<MartOutcome> {
  const t0 = Date.now();
  const { lake } = ctx;
  const ref = resolveTable(lake, rule.table);
  const outcome: MartOutcome = { mart: rule.mart, table: rule.table, status: 'unchanged', partitioned: rule.partitionBy.length > 0, mode: null, reason: '', seasons: null, versionBefore: null, version: null, sourceVersions: {}, missingSources: [], rows: null, rowsBySeason: {}, filesAdded: 0, filesRemoved: 0, ms: 0 };
  const staged = path.join(ctx.stagingRoot, `${rule.mart}.parquet`);
  try {
    if (failedSources.length > 0) {
      outcome.status = 'skipped';
      outcome.reason = `${failedSources.join(', ')} failed`;
      return outcome;
    }
    const mart = await trySnapshot(lake, ref);
    outcome.versionBefore = mart?.version ?? null;
    outcome.version = outcome.versionBefore;
    const sources = await sourceStates(ctx, rule, false);
    for (const s of sources) {
      if (s.snapshot) outcome.sourceVersions[s.name] = s.snapshot.version;
      else outcome.missingSources.push(s.name);
    }
    const scope = await planScope(ctx, rule, mart, sources);
    outcome.mode = scope.mode;
    outcome.seasons = scope.seasons;
    outcome.reason = scope.reason;
    if (scope.mode === null) return outcome;
    if (ctx.options.dryRun) {
      outcome.status = 'planned';
      ctx.planned.set(rule.table, scope.seasons ? new Set(scope.seasons) : 'all');
      return outcome;
    }
    const pinned = await pinnedSql(ctx, rule, sources, scope.seasons);
    const prepared = await prepareQuery(lake, pinned);
    const filter = scope.seasons ? ` WHERE season IN (${scope.seasons.join(', ')})` : '';
    await mkdir(ctx.stagingRoot, { recursive: true });
    await lake.engine.run(`COPY (SELECT * FROM (${prepared.sql}) AS mart${filter}) TO ${literal(staged)} (FORMAT parquet, COMPRESSION ${ctx.options.catalog.lake.compression})`);
    await checkGrain(ctx, rule, staged);
    if (rule.partitionBy.length > 0) {
      const counts = await lake.engine.rows<{ season: number | null; n: bigint }>(`SELECT season, count(*) AS n FROM read_parquet(${literal(staged)}) GROUP BY ALL ORDER BY ALL`);
      for (const c of counts) outcome.rowsBySeason[String(c.season)] = Number(c.n);
    }
    const [total] = await lake.engine.rows<{ n: bigint }>(`SELECT count(*) AS n FROM read_parquet(${literal(staged)})`);
    outcome.rows = Number(total?.n ?? 0);
    const result = await writeTable(lake, {
      table: ref,
      source: `SELECT * FROM read_parquet(${literal(staged)})`,
      mode: scope.seasons ? 'replace' : 'overwrite',
      partitionBy: scope.seasons ? undefined : rule.partitionBy,
      schemaMode: scope.recreate ? 'overwrite' : 'strict',
      replacePartitions: scope.seasons?.map((s) => ({ season: String(s) })),
      configuration: mart ? undefined : ctx.options.configuration,
      compression: ctx.options.catalog.lake.compression,
      rowGroupSize: ctx.options.catalog.lake.rowGroupSize,
      operationParameters: { source: Object.entries(outcome.sourceVersions).map(([t, v]) => `${t}@${v}`).join(', ') },
      commitMetadata: {
        run_id: ctx.runId,
        pipeline_version: PIPELINE_VERSION,
        mart: rule.mart,
        business_key: rule.grain,
        source_versions: outcome.sourceVersions,
        gold: {
          mart: rule.mart,
          rule: { file: `sql/gold/${path.basename(rule.file)}`, sha256: rule.sha256 },
          rule_sha256: rule.sha256,
          grain: rule.grain,
          mode: scope.mode,
          reason: scope.reason,
          seasons: scope.seasons,
          source_versions: outcome.sourceVersions,
          source_table_ids: Object.fromEntries(sources.filter((s) => s.snapshot).map((s) => [s.name, s.snapshot!.metadata.id])),
          missing_sources: outcome.missingSources,
          rows: outcome.rows,
          rows_by_season: outcome.rowsBySeason,
        },
      },
      now: () => ctx.clock.now(),
    });
    if (result.status === 'committed') {
      outcome.status = 'committed';
      outcome.version = result.version;
      outcome.filesAdded = result.filesAdded;
      outcome.filesRemoved = result.filesRemoved;
    }
    return outcome;
  } catch (error) {
    outcome.status = 'failed';
    outcome.error = toError(error);
    return outcome;
  } finally {
    await rm(staged, { force: true });
    outcome.ms = Date.now() - t0;
  }
}

function openContext(options: BuildGoldOptions, lake: Lake, runId: string, clock: Clock): RunContext {
  return { options, lake, runId, clock, stagingRoot: path.join(lake.root, '.staging', `gold-${runId}`), planned: new Map(), described: new Map() };
}

function selectMarts(all: MartRule[], names: string[] | undefined, sqlDir: string): MartRule[] {
  if (!names || names.length === 0) return all;
  const unknown = names.filter((n) => !all.some((r) => r.mart === n || r.table === n));
  if (unknown.length > 0) throw new LakeError('USAGE', `unknown mart${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (${sqlDir})`, { hint: `Marts: ${all.map((r) => r.mart).join(', ')}` });
  return all.filter((r) => names.includes(r.mart) || names.includes(r.table));
}

/** Builds the selected marts in dependency order; a mart whose gold source failed is skipped. */
export async function buildGold(options: BuildGoldOptions): Promise<GoldRunResult> {
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();
  const runId = options.runId ?? newRunId(startedAt);
  const sqlDir = options.sqlDir ?? DEFAULT_GOLD_SQL_DIR;
  const rules = selectMarts(loadMarts(sqlDir, options.silverSqlDir), options.marts, sqlDir);
  const lake = options.lake ?? (await openLake({ root: options.root ?? options.catalog.lake.root }));
  const ctx = openContext(options, lake, runId, clock);
  try {
    await loadGoldMacros(lake, sqlDir, options.silverSqlDir ?? DEFAULT_SILVER_SQL_DIR);
    const marts: MartOutcome[] = [];
    for (const rule of rules) {
      const failed = rule.sources.filter((s) => marts.some((m) => m.table === s && (m.status === 'failed' || m.status === 'skipped')));
      const outcome = await buildMart(ctx, rule, failed);
      options.logger?.info({ run_id: runId, mart: rule.mart, status: outcome.status, mode: outcome.mode, seasons: outcome.seasons, version: outcome.version, rows: outcome.rows, ms: outcome.ms, code: outcome.error?.code }, 'mart finished');
      marts.push(outcome);
    }
    await rm(ctx.stagingRoot, { recursive: true, force: true });
    await rmdir(path.dirname(ctx.stagingRoot)).catch(() => undefined); // only when no other run stages
    const failed = marts.filter((m) => m.status === 'failed');
    return {
      runId,
      dryRun: options.dryRun === true,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(clock.now()).toISOString(),
      marts,
      commits: marts.filter((m) => m.status === 'committed').length,
      failures: failed.length,
      exitCode: failed.length === 0 ? EXIT.ok : failed[0]!.error!.exitCode,
    };
  } finally {
    if (!options.lake) lake.close();
  }
}

export interface MartDescription extends MartRule {
  /** Output columns with their DuckDB types, in order. */
  types: SilverColumn[];
}

/** Every mart with its output column types (from its SQL over empty sources; no data read). */
export async function describeMarts(options: Pick<BuildGoldOptions, 'catalog' | 'sqlDir' | 'silverSqlDir' | 'lake' | 'root'>): Promise<MartDescription[]> {
  const lake = options.lake ?? (await openLake({ root: options.root ?? options.catalog.lake.root }));
  const ctx = openContext(options, lake, 'describe', systemClock);
  try {
    await loadGoldMacros(lake, options.sqlDir ?? DEFAULT_GOLD_SQL_DIR, options.silverSqlDir ?? DEFAULT_SILVER_SQL_DIR);
    const out: MartDescription[] = [];
    for (const rule of loadMarts(options.sqlDir ?? DEFAULT_GOLD_SQL_DIR, options.silverSqlDir)) out.push({ ...rule, types: (await sourceColumns(ctx, rule.table)) ?? [] });
    return out;
  } finally {
    if (!options.lake) lake.close();
  }
}
