import { randomUUID } from 'node:crypto';
import { LakeError } from '../core/index.js';
import { readCommitInfo, type Snapshot } from '../delta/index.js';
import { ident, literal, scanSql } from '../engine/index.js';
import { tableSnapshot, type Lake, type TableRef } from './lake.js';

/**
 * What changed in a table between two versions, by business key and per partition (the
 * stat-correction ledger). Both versions become DuckDB views over exactly their files; the
 * comparison runs in DuckDB.
 *
 * - Keyed: a key only in `to` is added, only in `from` removed, in both with different values
 *   changed (columns compared: those both versions have, minus ignored ones). A key held by
 *   several rows compares the multiset of its rows; such keys are counted in `duplicateKeys`.
 * - Whole row (no key known): rows are compared as a multiset; a changed row shows as one
 *   removed plus one added.
 *
 * The key is `options.key`, else the `business_key` (or promote's `promote.key`) recorded in the
 * latest commitInfo at or before `to`, else the table property `nfl_lakehouse.businessKey` (comma-separated), else
 * `options.fallbackKey` (the catalog's, passed by the CLI), else whole-row comparison. A recorded
 * or fallback key whose columns are not in both versions is skipped.
 */
export interface DiffOptions {
  table: TableRef;
  from: VersionSelector;
  /** The latest version when left out. */
  to?: VersionSelector;
  key?: string[];
  fallbackKey?: string[];
  /** Columns left out of the comparison (e.g. ingest stamps such as ingested_at, run_id). */
  ignoreColumns?: string[];
  /** Rows of detail returned in `changes` (default 20). */
  limit?: number;
}

export type VersionSelector = { version: number } | { timestamp: number };

export type KeySource = 'option' | 'commitInfo' | 'metadata' | 'catalog' | 'row';

export interface PartitionDiff {
  partition: Record<string, string | null>;
  added: number;
  removed: number;
  changed: number;
}

export interface ColumnChange {
  column: string;
  from: string | null;
  to: string | null;
}

export interface DiffRow {
  change: 'added' | 'removed' | 'changed';
  partition: Record<string, string | null>;
  /** Key values as text (keyed diff). */
  key?: Record<string, string | null>;
  /** The changed columns, old and new values as text (keyed diff, keys held by one row). */
  columns?: ColumnChange[];
  /** The whole row as text (whole-row diff). */
  row?: Record<string, string | null>;
}

export interface DiffResult {
  table: string;
  from: number;
  to: number;
  key: string[] | undefined;
  keySource: KeySource;
  partitionColumns: string[];
  /** Columns only `to` has, only `from` has, and the ones compared. */
  columnsAdded: string[];
  columnsRemoved: string[];
  compared: string[];
  /** Keys (keyed) or rows (whole row). */
  added: number;
  removed: number;
  changed: number;
  duplicateKeys: number;
  partitions: PartitionDiff[];
  changes: DiffRow[];
}

export const BUSINESS_KEY_PROPERTY = 'nfl_lakehouse.businessKey';

function keyList(value: unknown): string[] | undefined {
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v !== '')) return value as string[];
  if (typeof value === 'string' && value.trim() !== '') return value.split(',').map((s) => s.trim()).filter(Boolean);
  return undefined;
}

/**
 * The business key recorded in the log: the latest commitInfo `business_key` (or `promote.key`,
 * which promote writes) at or before the snapshot's version, else the table property.
 */
export async function recordedBusinessKey(snapshot: Snapshot): Promise<{ key: string[]; source: 'commitInfo' | 'metadata' } | undefined> {
  for (let v = snapshot.version; v >= 0; v--) {
    const info = await readCommitInfo(snapshot.tableRoot, v);
    if (info === undefined) break;
    const promote = info['promote'];
    const key = keyList(info['business_key']) ?? (typeof promote === 'object' && promote !== null ? keyList((promote as Record<string, unknown>)['key']) : undefined);
    if (key) return { key, source: 'commitInfo' };
  }
  const key = keyList(snapshot.metadata.configuration[BUSINESS_KEY_PROPERTY]);
  return key ? { key, source: 'metadata' } : undefined;
}

async function chooseKey(options: DiffOptions, a: Snapshot, b: Snapshot): Promise<{ key: string[] | undefined; source: KeySource }> {
  const has = (cols: string[]): boolean => cols.every((c) => a.schema.fields.some((f) => f.name === c) && b.schema.fields.some((f) => f.name === c));
  if (options.key && options.key.length > 0) {
    const missing = options.key.filter((c) => !has([c]));
    if (missing.length > 0) {
      throw new LakeError('USAGE', `${options.table.name}: key column(s) ${missing.join(', ')} are not in both version ${a.version} and version ${b.version}`, {
        hint: `Columns of version ${b.version}: ${b.schema.fields.map((f) => f.name).join(', ')}`,
      });
    }
    return { key: options.key, source: 'option' };
  }
  const recorded = await recordedBusinessKey(b);
  if (recorded && has(recorded.key)) return recorded;
  if (options.fallbackKey && options.fallbackKey.length > 0 && has(options.fallbackKey)) return { key: options.fallbackKey, source: 'catalog' };
  return { key: undefined, source: 'row' };
}

const asText = (expr: string): string => `CAST(${expr} AS VARCHAR)`;

export async function diffTable(lake: Lake, options: DiffOptions): Promise<DiffResult> {
  const select = (s: VersionSelector | undefined) => (s === undefined ? {} : 'version' in s ? { version: s.version } : { timestamp: s.timestamp });
  const a = await tableSnapshot(lake, options.table, select(options.from));
  const b = await tableSnapshot(lake, options.table, select(options.to));
  const { key, source } = await chooseKey(options, a, b);
  const ignored = new Set(options.ignoreColumns ?? []);
  const inA = new Set(a.schema.fields.map((f) => f.name));
  const inB = new Set(b.schema.fields.map((f) => f.name));
  const compared = b.schema.fields.map((f) => f.name).filter((c) => inA.has(c) && !ignored.has(c));
  const partitionColumns = b.partitionColumns.filter((c) => inA.has(c));
  const limit = options.limit ?? 20;
  const id = randomUUID().replace(/-/g, '').slice(0, 12);
  const va = `__diff_${id}_from`;
  const vb = `__diff_${id}_to`;
  const result: DiffResult = {
    table: options.table.name,
    from: a.version,
    to: b.version,
    key,
    keySource: source,
    partitionColumns,
    columnsAdded: [...inB].filter((c) => !inA.has(c)),
    columnsRemoved: [...inA].filter((c) => !inB.has(c)),
    compared,
    added: 0,
    removed: 0,
    changed: 0,
    duplicateKeys: 0,
    partitions: [],
    changes: [],
  };
  const temps = [va, vb];
  try {
    await lake.engine.run(`CREATE OR REPLACE TEMP VIEW ${ident(va)} AS ${await scanSql(lake.engine, a)}`);
    await lake.engine.run(`CREATE OR REPLACE TEMP VIEW ${ident(vb)} AS ${await scanSql(lake.engine, b)}`);
    if (key) await keyedDiff(lake, result, va, vb, key, compared, partitionColumns, limit, temps);
    else await rowDiff(lake, result, va, vb, compared, partitionColumns, limit, temps);
  } finally {
    for (const name of temps.reverse()) {
      await lake.engine.connection.run(`DROP VIEW IF EXISTS ${ident(name)}`).catch(() => undefined);
      await lake.engine.connection.run(`DROP TABLE IF EXISTS ${ident(name)}`).catch(() => undefined);
    }
  }
  return result;
}

type TextRow = Record<string, string | null | number | bigint | boolean>;

function partitionOf(row: TextRow, partitionColumns: readonly string[]): Record<string, string | null> {
  return Object.fromEntries(partitionColumns.map((c, i) => [c, (row[`__p${i}`] ?? null) as string | null]));
}

function hashSql(columns: readonly string[]): string {
  return columns.length === 0 ? '0' : `hash(struct_pack(${columns.map((c) => `${ident(c)} := ${ident(c)}`).join(', ')}))`;
}

function summarize(result: DiffResult, rows: TextRow[], partitionColumns: readonly string[]): void {
  const byPartition = new Map<string, PartitionDiff>();
  for (const row of rows) {
    const partition = partitionOf(row, partitionColumns);
    const k = JSON.stringify(partition);
    const entry = byPartition.get(k) ?? { partition, added: 0, removed: 0, changed: 0 };
    const n = Number(row['n']);
    if (row['change'] === 'added') entry.added += n;
    else if (row['change'] === 'removed') entry.removed += n;
    else entry.changed += n;
    byPartition.set(k, entry);
  }
  result.partitions = [...byPartition.values()];
  for (const p of result.partitions) {
    result.added += p.added;
    result.removed += p.removed;
    result.changed += p.changed;
  }
}

async function keyedDiff(lake: Lake, result: DiffResult, va: string, vb: string, key: string[], compared: string[], partitionColumns: string[], limit: number, temps: string[]): Promise<void> {
  const values = compared.filter((c) => !key.includes(c));
  const parts = partitionColumns.map((c, i) => `${asText(ident(c))} AS __p${i}`);
  const side = (view: string): string =>
    `SELECT ${[...key.map(ident), ...parts, `${hashSql(values)} AS __h`].join(', ')} FROM ${ident(view)}`;
  const grouped = (view: string): string =>
    `SELECT ${[...key.map(ident), ...partitionColumns.map((_, i) => `any_value(__p${i}) AS __p${i}`), 'count(*) AS __n', 'list_sort(list(__h)) AS __hs'].join(', ')} FROM (${side(view)}) GROUP BY ${key.map(ident).join(', ')}`;
  const joined = `__diff_${va.slice(7, 19)}_keys`;
  temps.push(joined);
  const on = key.map((k) => `ga.${ident(k)} IS NOT DISTINCT FROM gb.${ident(k)}`).join(' AND ');
  await lake.engine.run(`CREATE TEMP TABLE ${ident(joined)} AS
    SELECT ${[
      ...key.map((k) => `coalesce(gb.${ident(k)}, ga.${ident(k)}) AS ${ident(k)}`),
      ...partitionColumns.map((_, i) => `CASE WHEN gb.__n IS NULL THEN ga.__p${i} ELSE gb.__p${i} END AS __p${i}`),
      `CASE WHEN ga.__n IS NULL THEN 'added' WHEN gb.__n IS NULL THEN 'removed' WHEN ga.__n <> gb.__n OR ga.__hs <> gb.__hs THEN 'changed' END AS __change`,
      'greatest(coalesce(ga.__n, 0), coalesce(gb.__n, 0)) > 1 AS __dup',
    ].join(', ')}
    FROM (${grouped(va)}) AS ga FULL OUTER JOIN (${grouped(vb)}) AS gb ON ${on}`);
  const pcols = partitionColumns.map((_, i) => `__p${i}`);
  const counts = await lake.engine.rows<TextRow>(
    `SELECT ${[...pcols, '__change AS change', 'count(*) AS n'].join(', ')} FROM ${ident(joined)} WHERE __change IS NOT NULL GROUP BY ALL ORDER BY ALL`,
  );
  summarize(result, counts, partitionColumns);
  const [dups] = await lake.engine.rows<{ n: bigint | number }>(`SELECT count(*) AS n FROM ${ident(joined)} WHERE __dup`);
  result.duplicateKeys = Number(dups?.n ?? 0);
  if (limit <= 0) return;

  const keyText = key.map((k) => `${asText(`j.${ident(k)}`)} AS ${ident(`__k_${k}`)}`);
  const columnChanges = values.map(
    (c) => `CASE WHEN a.${ident(c)} IS DISTINCT FROM b.${ident(c)} THEN {'column': ${literal(c)}, 'from': ${asText(`a.${ident(c)}`)}, 'to': ${asText(`b.${ident(c)}`)}} END`,
  );
  const joinOn = (alias: string): string => key.map((k) => `${alias}.${ident(k)} IS NOT DISTINCT FROM j.${ident(k)}`).join(' AND ');
  const rows = await lake.engine.rows<TextRow & { __cols: ColumnChange[] | null }>(
    `SELECT ${[...keyText, ...pcols.map((p) => `j.${p}`), 'j.__change', 'j.__dup', columnChanges.length > 0 ? `list_filter([${columnChanges.join(', ')}], x -> x IS NOT NULL) AS __cols` : 'NULL AS __cols'].join(', ')}
     FROM (SELECT * FROM ${ident(joined)} WHERE __change IS NOT NULL ORDER BY ${[...pcols, ...key.map(ident)].join(', ')} LIMIT ${limit}) AS j
     LEFT JOIN ${ident(va)} AS a ON j.__change = 'changed' AND NOT j.__dup AND ${joinOn('a')}
     LEFT JOIN ${ident(vb)} AS b ON j.__change = 'changed' AND NOT j.__dup AND ${joinOn('b')}
     ORDER BY ${[...pcols.map((p) => `j.${p}`), ...key.map((k) => `j.${ident(k)}`)].join(', ')}`,
  );
  result.changes = rows.map((row) => {
    const out: DiffRow = {
      change: row['__change'] as DiffRow['change'],
      partition: partitionOf(row, partitionColumns),
      key: Object.fromEntries(key.map((k) => [k, (row[`__k_${k}`] ?? null) as string | null])),
    };
    if (out.change === 'changed' && !row['__dup'] && row.__cols) out.columns = row.__cols.map((c) => ({ column: c.column, from: c.from ?? null, to: c.to ?? null }));
    return out;
  });
}

async function rowDiff(lake: Lake, result: DiffResult, va: string, vb: string, compared: string[], partitionColumns: string[], limit: number, temps: string[]): Promise<void> {
  const parts = partitionColumns.map((c, i) => `${asText(ident(c))} AS __p${i}`);
  const pcols = partitionColumns.map((_, i) => `__p${i}`);
  const grouped = (view: string): string =>
    `SELECT ${[...pcols.map((p) => `any_value(${p}) AS ${p}`), '__h', 'count(*) AS __n'].join(', ')} FROM (SELECT ${[...parts, `${hashSql(compared)} AS __h`].join(', ')} FROM ${ident(view)}) GROUP BY __h`;
  const joined = `__diff_${va.slice(7, 19)}_rows`;
  temps.push(joined);
  await lake.engine.run(`CREATE TEMP TABLE ${ident(joined)} AS
    SELECT ${[...pcols.map((p) => `coalesce(gb.${p}, ga.${p}) AS ${p}`), 'coalesce(gb.__h, ga.__h) AS __h', 'coalesce(gb.__n, 0) - coalesce(ga.__n, 0) AS delta'].join(', ')}
    FROM (${grouped(va)}) AS ga FULL OUTER JOIN (${grouped(vb)}) AS gb ON ga.__h = gb.__h
    WHERE coalesce(ga.__n, 0) <> coalesce(gb.__n, 0)`);
  const counts = await lake.engine.rows<TextRow>(
    `SELECT ${[...pcols, "CASE WHEN delta > 0 THEN 'added' ELSE 'removed' END AS change", 'sum(abs(delta)) AS n'].join(', ')} FROM ${ident(joined)} GROUP BY ALL ORDER BY ALL`,
  );
  summarize(result, counts, partitionColumns);
  if (limit <= 0 || compared.length === 0) return;
  const textCols = compared.map((c) => `${asText(ident(c))} AS ${ident(c)}`);
  const sample = (view: string, sign: string, change: string): string =>
    `SELECT ${[`'${change}' AS __change`, ...parts, ...textCols].join(', ')} FROM ${ident(view)} WHERE ${hashSql(compared)} IN (SELECT __h FROM ${ident(joined)} WHERE delta ${sign} 0)`;
  const rows = await lake.engine.rows<TextRow>(`SELECT * FROM (${sample(vb, '>', 'added')} UNION ALL ${sample(va, '<', 'removed')}) ORDER BY ALL LIMIT ${limit}`);
  result.changes = rows.map((row) => ({
    change: row['__change'] as DiffRow['change'],
    partition: partitionOf(row, partitionColumns),
    row: Object.fromEntries(compared.map((c) => [c, (row[c] ?? null) as string | null])),
  }));
}
