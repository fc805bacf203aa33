import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LakeError, errnoCode } from '../../core/index.js';
import { filesNumRecords, partitionKey, readCommit, type AddAction, type Snapshot } from '../../delta/index.js';
import type { PartitionValues } from '../quality/index.js';
import type { LastPromote } from './last-promote.js';
import { ident, literal, scanSql, type Engine } from '../../engine/index.js';
import { resolveTable, type Lake, type TableRef } from '../../table/index.js';
import { STAMP_COLUMNS } from '../bronze/index.js';
import type { DatasetDef } from '../catalog/index.js';
import { sourceIdSql } from '../upstream/index.js';

/**
 * Silver rules (docs/promote.md): one DuckDB SELECT per dataset
 * in `sql/silver/<dataset>.sql`, reading the relation `bronze_rows` and producing the dataset's
 * canonical columns in a stable order with explicit types. The canonical column list is what the
 * rule outputs; a column the rule reads that bronze does not have (the upstream dropped it) reads
 * as NULL, and bronze columns the rule does not read are reported as upstream additions.
 * `sql/silver/_team_codes.sql` holds the one team-code mapping every rule uses. Column lists that
 * several rules share (the lineage stamps, nflverse's stat groups) live in
 * `sql/silver/_fragments/<name>.sql`; a rule line `-- @include _fragments/<name>.sql` stands for the
 * fragment's lines, expanded before the rule is parsed or hashed.
 */
export const DEFAULT_SILVER_SQL_DIR = fileURLToPath(new URL('../../../sql/silver/', import.meta.url));
export const TEAM_CODES_FILE = '_team_codes.sql';
const INCLUDE = /^[ \t]*--[ \t]*@include\b(.*)$/gm;
const FRAGMENT = /^_fragments\/[a-z][a-z0-9_]*\.sql$/;
const SNAKE = /^[a-z][a-z0-9_]*$/;

export interface SilverColumn {
  name: string;
  /** DuckDB SQL type, e.g. VARCHAR, DOUBLE, TIMESTAMP WITH TIME ZONE. */
  type: string;
}

export interface SilverRule {
  dataset: string;
  file: string;
  /** The rule's SELECT, its fragments expanded. */
  sql: string;
  /** sha256 of the rule's text (its fragments expanded), the team-code mapping, the key and the dedupe strategy, recorded in every promote commit: when it changes, the next promote rebuilds every partition. */
  sha256: string;
  /** Column names the rule reads from bronze_rows. */
  referenced: ReadonlySet<string>;
  columns: SilverColumn[];
  key: string[];
  dedupe: 'key' | 'latest_batch';
  /** `silver.exact_duplicates` of the catalog: drop keeps rows equal in every column once. */
  exactDuplicates: 'keep' | 'drop';
  sortBy: string[];
  drop: string[];
}

export interface RuleDrift {
  /** Bronze columns the rule does not read (and the catalog does not drop): new upstream columns. */
  upstream_added: string[];
  /** Columns the rule reads that bronze has never had: written as NULL. */
  upstream_missing: string[];
}

export function silverTable(lake: Pick<Lake, 'root'>, dataset: string): TableRef {
  return resolveTable(lake, `silver.${dataset}`);
}

function readRule(file: string, what: string, hint = 'Add the silver rule (a SELECT … FROM bronze_rows), or set silver.enabled: false for the dataset in the catalog.'): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    if (errnoCode(cause) === 'ENOENT') throw new LakeError('CATALOG_INVALID', `${what}: ${file} does not exist`, { cause, hint });
    throw cause;
  }
}

/** The rule's text with every `-- @include _fragments/<name>.sql` line replaced by the fragment's text (fragments include nothing themselves). */
function expandIncludes(text: string, file: string, sqlDir: string): string {
  return text.replace(INCLUDE, (_line, arg: string) => {
    const target = arg.trim();
    const hint = 'Write `-- @include _fragments/<name>.sql` on a line of its own, naming a file in sql/silver/_fragments/.';
    if (!FRAGMENT.test(target)) throw new LakeError('CATALOG_INVALID', `${file}: @include ${JSON.stringify(target)} does not name a fragment`, { hint });
    const fragment = readRule(path.join(sqlDir, target), `${file} includes ${target}`, hint).trimEnd();
    if (new RegExp(INCLUDE.source, 'm').test(fragment)) throw new LakeError('CATALOG_INVALID', `${file}: the fragment ${target} has an @include of its own`, { hint: 'Inline the inner fragment: fragments do not nest.' });
    return fragment;
  });
}

/** The rule's text as one statement: trailing semicolons dropped, ending on a new line (comments stay closed). */
function statement(text: string): string {
  return `${text.trim().replace(/;+\s*$/, '')}\n`;
}

/** Per DuckDB database (macros belong to its catalog, which an engine's forks share). */
const macrosLoaded = new WeakMap<object, { sqlDir: string; loaded: Promise<unknown>; teams?: Promise<string[]> }>();

/** Loads the team-code macros into the engine's database (once per database and folder, also when datasets ask at once from several connections). */
export async function loadTeamCodes(engine: Engine, sqlDir: string): Promise<string[]> {
  const { database } = engine;
  let entry = macrosLoaded.get(database);
  if (entry?.sqlDir !== sqlDir) {
    entry = { sqlDir, loaded: engine.run(readRule(path.join(sqlDir, TEAM_CODES_FILE), 'the team-code mapping')) };
    macrosLoaded.set(database, entry);
    entry.loaded.catch(() => macrosLoaded.delete(database));
  }
  await entry.loaded;
  // The codes are fixed once the macros are loaded: read once per engine, not once per dataset.
  const loaded = entry;
  loaded.teams ??= engine.rows<{ teams: string[] }>('SELECT canonical_teams() AS teams').then(([row]) => row?.teams ?? []);
  loaded.teams.catch(() => (loaded.teams = undefined));
  return [...(await loaded.teams)];
}

/**
 * The column names of SQL texts parsed before in this process (a rule or mart is parsed once per
 * run, not once per dataset or mart that reads it); the names depend on the text alone.
 */
const COLUMN_REFS = new Map<string, ReadonlySet<string>>();

/** DuckDB's parse tree of an SQL text (`json_serialize_sql`); `error` set when it does not parse. */
export type SqlAst = Record<string, unknown> & { error?: boolean; error_message?: string };

/** Parse trees of SQL texts, per text (a rule or mart is parsed once per process, not once per reader of it). */
const PARSED = new Map<string, Promise<SqlAst>>();

/** DuckDB's own parse of `sql`, once per text and process. */
export function parseSql(engine: Engine, sql: string): Promise<SqlAst> {
  let parsed = PARSED.get(sql);
  if (!parsed) {
    if (PARSED.size >= 256) PARSED.clear();
    parsed = engine.rows<{ ast: string }>(`SELECT json_serialize_sql(${literal(sql)}) AS ast`).then(([row]) => JSON.parse(row?.ast ?? '{}') as SqlAst);
    PARSED.set(sql, parsed);
    parsed.catch(() => PARSED.delete(sql));
  }
  return parsed;
}

/** Names of every column reference in a query (the last part of `alias.column`), from DuckDB's own parser. */
export async function columnRefs(engine: Engine, sql: string): Promise<Set<string>> {
  const known = COLUMN_REFS.get(sql);
  if (known) return new Set(known);
  const ast = await parseSql(engine, sql);
  if (ast.error) throw new LakeError('SQL_ERROR', `the silver rule does not parse: ${ast.error_message ?? 'unknown error'}`);
  const names = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    if (obj['class'] === 'COLUMN_REF' && Array.isArray(obj['column_names'])) {
      const parts = obj['column_names'] as string[];
      if (parts.length > 0) names.add(parts[parts.length - 1]!);
    }
    for (const value of Object.values(obj)) walk(value);
  };
  walk(ast);
  if (COLUMN_REFS.size >= 256) COLUMN_REFS.clear();
  COLUMN_REFS.set(sql, names);
  return new Set(names);
}

/** `bronze_rows` over a bronze relation: its columns, plus NULL for every column the rule reads that bronze lacks. */
export function inputSql(bronzeRelation: string, bronzeColumns: ReadonlySet<string>, rule: Pick<SilverRule, 'referenced'>): string {
  const missing = [...rule.referenced].filter((c) => !bronzeColumns.has(c)).sort();
  return `SELECT *${missing.map((c) => `, NULL AS ${ident(c)}`).join('')} FROM (${bronzeRelation}) AS bronze_in`;
}

/** The rule applied to an input relation for `bronze_rows`. */
export function transformSql(rule: Pick<SilverRule, 'sql'>, input: string): string {
  return `WITH bronze_rows AS (${input}) SELECT * FROM (\n${rule.sql}) AS silver_rule`;
}

export function schemaDrift(rule: SilverRule, bronzeColumns: readonly string[]): RuleDrift {
  const stamps = new Set<string>(STAMP_COLUMNS);
  const have = new Set(bronzeColumns);
  return {
    upstream_added: bronzeColumns.filter((c) => !rule.referenced.has(c) && !stamps.has(c) && !rule.drop.includes(c)).sort(),
    upstream_missing: [...rule.referenced].filter((c) => !have.has(c)).sort(),
  };
}

/** Loads and checks `sql/silver/<dataset>.sql`: its canonical columns, key and dedupe strategy. */
export async function loadSilverRule(engine: Engine, def: DatasetDef, sqlDir: string = DEFAULT_SILVER_SQL_DIR): Promise<SilverRule> {
  const file = path.join(sqlDir, `${def.name}.sql`);
  const sql = statement(expandIncludes(readRule(file, `no silver rule for dataset ${def.name}`), file, sqlDir));
  await loadTeamCodes(engine, sqlDir);
  const referenced = await columnRefs(engine, sql);
  // The canonical columns: the rule's output over an input where every column is NULL.
  const nulls = [...referenced].map((c) => `NULL AS ${ident(c)}`).join(', ') || '1 AS __none';
  let described;
  try {
    described = await engine.connection.run(`SELECT * FROM (${transformSql({ sql }, `SELECT ${nulls}`)}) LIMIT 0`);
  } catch (cause) {
    throw new LakeError('SQL_ERROR', `${file}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause, hint: 'Fix the silver rule: one SELECT … FROM bronze_rows.' });
  }
  const names = described.columnNames();
  const types = described.columnTypes();
  const columns = names.map((name, i) => ({ name, type: types[i]!.toString() }));
  const problems: string[] = [];
  for (const c of columns) if (!SNAKE.test(c.name)) problems.push(`column ${c.name} is not snake_case`);
  if (new Set(names).size !== names.length) problems.push('a column name appears twice');
  for (const c of ['source', 'ingested_at']) if (!names.includes(c)) problems.push(`the lineage column ${c} is missing`);
  for (const c of def.partitions) if (!names.includes(c)) problems.push(`the partition column ${c} is missing`);
  for (const c of columns) if (c.type === 'NULL') problems.push(`column ${c.name} has no type (cast it)`);
  const key = def.silver?.key ?? def.businessKey;
  const dedupe = def.silver?.dedupe ?? (key.length > 0 ? 'key' : 'latest_batch');
  const exactDuplicates = def.silver?.exactDuplicates ?? 'keep';
  if (dedupe === 'key' && key.length === 0) problems.push('dedupe: key needs a key (silver.key or business_key)');
  for (const c of key) if (!names.includes(c)) problems.push(`key column ${c} is not an output column`);
  if (problems.length > 0) {
    throw new LakeError('CATALOG_INVALID', `${file}: ${problems.join('; ')}`, { hint: 'Fix the silver rule or the dataset\'s silver: settings in the catalog.', details: { dataset: def.name, problems } });
  }
  return {
    dataset: def.name,
    file,
    sql,
    sha256: createHash('sha256')
      // exact_duplicates joins the hash only when it drops, so rules that keep them keep their hash.
      .update(JSON.stringify([sql, readRule(path.join(sqlDir, TEAM_CODES_FILE), 'the team-code mapping'), key, dedupe, ...(exactDuplicates === 'drop' ? ['exact_duplicates: drop'] : [])]))
      .digest('hex'),
    referenced,
    columns,
    key,
    dedupe,
    exactDuplicates,
    sortBy: def.sortBy.filter((c) => names.includes(c)),
    drop: def.silver?.drop ?? [],
  };
}

/** A SELECT list that casts a relation's columns to the rule's canonical columns, in order. */
export function canonicalSelect(rule: Pick<SilverRule, 'columns'>): string {
  return rule.columns.map((c) => `CAST(${ident(c.name)} AS ${c.type}) AS ${ident(c.name)}`).join(', ');
}

/** The existing silver rows, cast to the rule's columns (a column the table does not have yet is NULL). */
function existingSql(rule: Pick<SilverRule, 'columns'>, snapshot: Snapshot, scan: string): string {
  const have = new Set(snapshot.schema.fields.map((f) => f.name));
  const select = rule.columns.map((c) => `CAST(${have.has(c.name) ? ident(c.name) : 'NULL'} AS ${c.type}) AS ${ident(c.name)}`);
  return `SELECT ${select.join(', ')} FROM (${scan}) AS existing`;
}

/** The identity of the upstream file a bronze row came from (its `source` URL path): src/pipeline/upstream/source-id.ts, shared with bronze GC. */
export { sourceIdSql };

/**
 * One row per key and partition: `key` keeps the newest ingested_at per key (ties broken by
 * source, then by a hash of the whole row, so the bronze row order never matters); `latest_batch`
 * keeps the rows of the newest batch (ingested_at) of every source (`sourceIdSql`). Not sorted: the table writer
 * sorts each output file by the catalog's sort_by, and sorting here as well would hold the window
 * and the sort in memory together (a staged group then fails under a small memory limit instead
 * of spilling). With `exactDuplicates: 'drop'`, rows equal in every column are then kept once
 * (a batch's rows share their lineage stamps, so this removes the upstream file's exact repeats).
 */
export function dedupeSql(rule: Pick<SilverRule, 'columns' | 'key' | 'dedupe'> & Partial<Pick<SilverRule, 'exactDuplicates'>>, partitionColumns: readonly string[], union: string): string {
  const names = rule.columns.map((c) => ident(c.name)).join(', ');
  const by = (extra: readonly string[]): string => [...new Set([...partitionColumns, ...extra])].map(ident).join(', ');
  const qualify =
    rule.dedupe === 'key'
      ? `row_number() OVER (PARTITION BY ${by(rule.key)} ORDER BY ingested_at DESC, ${ident('source')} DESC, hash(u)) = 1`
      : `ingested_at = max(ingested_at) OVER (PARTITION BY ${[by([]), sourceIdSql()].filter((x) => x !== '').join(', ')})`;
  const deduped = `SELECT ${names} FROM (${union}) AS u QUALIFY ${qualify}`;
  return rule.exactDuplicates === 'drop' ? `SELECT DISTINCT ${names} FROM (${deduped}) AS d` : deduped;
}

export interface StageInput {
  rule: SilverRule;
  partitionColumns: readonly string[];
  bronze: Snapshot;
  /** Bronze files whose rows come in: the new ones (merge) or all of a partition (rebuild). */
  bronzeFiles: AddAction[];
  /** Silver files of the merged partitions ([] when every partition is rebuilt). */
  silver: Snapshot | undefined;
  silverFiles: AddAction[];
  /** Staging Parquet file receiving the partitions' deduplicated rows. */
  file: string;
  compression?: string;
}

/**
 * Stages a group of partitions: the incoming bronze rows through the silver rule, merged with the
 * partitions' current silver rows and deduplicated per partition, into one Parquet file. Returns
 * the incoming rows as SQL (the rule over the bronze files), which the measurements and quality
 * checks read again with only the columns they need — cheaper than writing all of a wide rule's
 * columns to a file and reading them back. The promote sizes groups so that memory stays bounded:
 * a large partition is a group of its own.
 */
/** The incoming rows of a group: the silver rule over its bronze files, cast to the rule's canonical columns. */
export async function incomingSql(engine: Engine, input: Pick<StageInput, 'rule' | 'bronze' | 'bronzeFiles'>): Promise<string> {
  const { rule } = input;
  const bronzeColumns = new Set(input.bronze.schema.fields.map((f) => f.name));
  const bronzeScan = await scanSql(engine, { ...input.bronze, files: input.bronzeFiles });
  return `SELECT ${canonicalSelect(rule)} FROM (${transformSql(rule, inputSql(bronzeScan, bronzeColumns, rule))}) AS incoming`;
}

export async function stagePartitions(engine: Engine, input: StageInput): Promise<string> {
  const { incoming, merged } = await mergeSql(engine, input);
  await engine.run(`COPY (${merged}) TO ${literal(input.file)} (FORMAT parquet, COMPRESSION ${input.compression ?? 'zstd'})`);
  return incoming;
}

/**
 * The rows a group of partitions holds after its promote (`merged`: the incoming rows and the
 * partitions' silver rows, deduplicated) and the incoming rows alone, as SQL.
 */
export async function mergeSql(engine: Engine, input: Omit<StageInput, 'file' | 'compression'>): Promise<{ incoming: string; merged: string }> {
  const { rule } = input;
  const incoming = await incomingSql(engine, input);
  const parts = [incoming];
  if (input.silver && input.silverFiles.length > 0) {
    const existing = existingSql(rule, input.silver, await scanSql(engine, { ...input.silver, files: input.silverFiles }));
    if (await supersedes(engine, rule, input.partitionColumns, incoming, existing)) return { incoming, merged: incoming };
    parts.push(existing);
  }
  const union = parts.map((p) => `(${p})`).join(' UNION ALL ');
  return { incoming, merged: dedupeSql(rule, input.partitionColumns, union) };
}

/**
 * Whether the dedupe of the incoming rows with the existing ones keeps exactly the incoming rows,
 * as they are: every existing row is older (ingested_at) than every incoming row, and under a
 * `key` dedupe its key (in its partition) comes again while no key repeats among the incoming
 * rows; under `latest_batch` its source comes again, each (partition, source) in one batch.
 * nflverse republishes a current-season file whole, a superset of what it held, so the nightly
 * merge of that season is then one write of the new rows — no read of the old file's columns,
 * no window over both, the rows kept in arrival order. One scan of the key columns decides;
 * NULL keys never match (the full merge runs). Never with `exact_duplicates: drop`.
 */
async function supersedes(engine: Engine, rule: Pick<SilverRule, 'key' | 'dedupe' | 'exactDuplicates'>, partitionColumns: readonly string[], incoming: string, existing: string): Promise<boolean> {
  if (rule.exactDuplicates === 'drop') return false;
  const byKey = rule.dedupe === 'key';
  if (byKey && rule.key.length === 0) return false;
  const match = byKey ? [...new Set([...partitionColumns, ...rule.key])].map(ident) : [...partitionColumns.map(ident), '__lake_source'];
  const columns = byKey ? match.join(', ') : [...partitionColumns.map(ident), `${sourceIdSql()} AS __lake_source`].join(', ');
  const list = match.join(', ');
  const repeats = byKey
    ? `SELECT count(*) - count(DISTINCT (${list})) FROM i`
    : `SELECT count(*) FROM (SELECT ${list} FROM i GROUP BY ALL HAVING count(DISTINCT ingested_at) > 1) AS r`;
  const [row] = await engine.rows<{ repeats: bigint | number; missing: bigint | number; newer: boolean | null }>(
    `WITH i AS (SELECT ${columns}, ingested_at FROM (${incoming}) AS inc), e AS (SELECT ${columns}, ingested_at FROM (${existing}) AS ex)
     SELECT (${repeats}) AS repeats,
            (SELECT count(*) FROM e ANTI JOIN (SELECT DISTINCT ${list} FROM i) AS k USING (${list})) AS missing,
            (SELECT max(ingested_at) FROM e) < (SELECT min(ingested_at) FROM i) AS newer`,
  );
  return row !== undefined && Number(row.repeats) === 0 && Number(row.missing) === 0 && row.newer === true;
}

// The plan of a promote: the partitions bronze changed since the last promote, and the groups they are staged in.

export interface PartitionWork {
  values: PartitionValues;
  mode: 'merge' | 'rebuild';
  /** Bronze files whose rows come in. */
  files: AddAction[];
}

export function groupFiles(columns: readonly string[], files: readonly AddAction[]): Map<string, { values: PartitionValues; files: AddAction[] }> {
  const groups = new Map<string, { values: PartitionValues; files: AddAction[] }>();
  for (const file of files) {
    const key = partitionKey(columns, file.partitionValues);
    const group = groups.get(key) ?? { values: Object.fromEntries(columns.map((c) => [c, file.partitionValues[c] ?? null])), files: [] };
    group.files.push(file);
    groups.set(key, group);
  }
  return groups;
}

/** The partitions to promote: those bronze commits after `last` added files to (merge) or removed files from (rebuild). */
export type FullReason = 'first promote' | 'no promote recorded for the current silver state' | 'bronze was recreated' | 'the silver rule changed' | 'the bronze log no longer has every commit since the last promote';

/** The partitions to promote: those bronze commits after `last` added files to (merge) or removed files from (rebuild); every partition when `full`. */
export async function changedPartitions(
  bronze: Snapshot,
  silver: Snapshot | undefined,
  last: LastPromote | undefined,
  ruleSha256: string,
): Promise<{ mode: 'incremental' | 'full'; reason?: FullReason; work: Map<string, PartitionWork> }> {
  const columns = bronze.partitionColumns;
  const bronzeGroups = groupFiles(columns, bronze.files);
  const full = (reason: FullReason): { mode: 'full'; reason: FullReason; work: Map<string, PartitionWork> } => {
    const work = new Map<string, PartitionWork>();
    for (const [key, g] of bronzeGroups) work.set(key, { values: g.values, mode: 'rebuild', files: g.files });
    // Silver partitions bronze no longer has are emptied.
    for (const [key, g] of groupFiles(columns, silver?.files ?? [])) if (!work.has(key)) work.set(key, { values: g.values, mode: 'rebuild', files: [] });
    return { mode: 'full', reason, work };
  };
  if (!silver) return full('first promote');
  if (!last) return full('no promote recorded for the current silver state');
  if (last.bronzeVersion > bronze.version || (last.bronzeTableId !== undefined && last.bronzeTableId !== bronze.metadata.id)) return full('bronze was recreated');
  if (last.ruleSha256 !== undefined && last.ruleSha256 !== ruleSha256) return full('the silver rule changed');
  // Rewrites (OPTIMIZE: adds and removes with dataChange false) change no rows; but when a file
  // that brought new rows was rewritten since, its rows cannot be told apart: rebuild the partition.
  const added = new Set<string>();
  const removedFrom = new Set<string>();
  for (let v = last.bronzeVersion + 1; v <= bronze.version; v++) {
    let actions;
    try {
      actions = await readCommit(bronze.tableRoot, v);
    } catch {
      return full('the bronze log no longer has every commit since the last promote');
    }
    for (const a of actions) {
      if (a.kind === 'add' && a.add.dataChange) added.add(a.add.path);
      else if (a.kind === 'remove' && a.remove.dataChange) removedFrom.add(partitionKey(columns, a.remove.partitionValues ?? {}));
      else if (a.kind === 'remove' && added.has(a.remove.path)) removedFrom.add(partitionKey(columns, a.remove.partitionValues ?? {}));
    }
  }
  const work = new Map<string, PartitionWork>();
  for (const [key, g] of bronzeGroups) {
    if (removedFrom.has(key)) work.set(key, { values: g.values, mode: 'rebuild', files: g.files });
    else {
      const fresh = g.files.filter((f) => added.has(f.path));
      if (fresh.length > 0) work.set(key, { values: g.values, mode: 'merge', files: fresh });
    }
  }
  for (const key of removedFrom) {
    if (work.has(key)) continue;
    const values = Object.fromEntries(columns.map((c, i) => [c, (JSON.parse(key) as (string | null)[])[i] ?? null]));
    work.set(key, { values, mode: 'rebuild', files: [] });
  }
  return { mode: 'incremental', work };
}

export function numRecords(files: readonly AddAction[]): number | null {
  return filesNumRecords(files) ?? null;
}

/** Rows × columns staged together at most (a larger partition is staged alone): bounds memory. */
export const GROUP_CELLS = 20_000_000;

export type WorkItem = [key: string, item: PartitionWork];

/** Consecutive partitions packed into groups of at most `budget` cells (rows from the log stats). */
export function planGroups(work: Map<string, PartitionWork>, silverGroups: Map<string, { files: AddAction[] }>, columns: number, budget: number): WorkItem[][] {
  const groups: WorkItem[][] = [];
  let current: WorkItem[] = [];
  let cells = 0;
  for (const entry of [...work.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const [key, item] = entry;
    const rows = (numRecords(item.files) ?? 0) + (item.mode === 'merge' ? (numRecords(silverGroups.get(key)?.files ?? []) ?? 0) : 0);
    if (current.length > 0 && cells + rows * columns > budget) {
      groups.push(current);
      current = [];
      cells = 0;
    }
    current.push(entry);
    cells += rows * columns;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
