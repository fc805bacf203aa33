import { LakeError, isLakeError } from '../../core/index.js';
import { ident, literal } from '../../engine/index.js';
import { keyJsonSql, type PartitionValues } from '../quality/index.js';
import { resolveTable, tableSnapshot, type Lake, type Layer, type TableRef, runQuery } from '../../table/index.js';
import type { Catalog } from '../catalog/index.js';
import { loadMarts } from '../gold/index.js';

/**
 * `lake profile --layer silver`: per partition of each table, its rows, the NULLs of every column
 * and the number of distinct keys (the dataset's silver key, bronze's business key, a gold mart's
 * grain). One
 * aggregate query per table over its latest version.
 */
export interface PartitionProfile {
  partition: PartitionValues;
  rows: number;
  /** Distinct keys; null when the table has no key. Fewer than rows means duplicate keys. */
  distinct_keys: number | null;
  /** NULL count per (non-partition) column, in table order. */
  nulls: Record<string, number>;
}

export interface TableProfile {
  table: string;
  dataset: string;
  version: number;
  key: string[];
  columns: string[];
  partitions: PartitionProfile[];
}

export interface ProfileRun {
  layer: Layer;
  tables: TableProfile[];
  /** Datasets without a table in the layer. */
  missing: string[];
}

export async function profileTable(lake: Lake, table: TableRef, key: readonly string[]): Promise<TableProfile> {
  const snapshot = await tableSnapshot(lake, table);
  const partitionColumns = snapshot.partitionColumns;
  const names = snapshot.schema.fields.map((f) => f.name);
  const present = new Set(names);
  const usableKey = key.filter((k) => present.has(k));
  const data = names.filter((n) => !partitionColumns.includes(n));
  const select = [
    ...partitionColumns.map((c, i) => `CAST(${ident(c)} AS VARCHAR) AS p${i}`),
    'count(*) AS __rows',
    usableKey.length > 0 && usableKey.length === key.length ? `count(DISTINCT ${keyJsonSql(usableKey)}) AS __keys` : 'NULL AS __keys',
    ...data.map((c, i) => `count(*) - count(${ident(c)}) AS n${i}`),
  ];
  const group = partitionColumns.length > 0 ? ` GROUP BY ${partitionColumns.map((_c, i) => `p${i}`).join(', ')} ORDER BY ${partitionColumns.map((_c, i) => `p${i}`).join(', ')}` : '';
  const result = await runQuery(lake, `SELECT ${select.join(', ')} FROM delta_scan(${literal(table.tableRoot)}, version => ${snapshot.version})${group}`);
  const at = new Map(result.columns.map((c, i) => [c, i]));
  const partitions = result.rows.map((row) => ({
    partition: Object.fromEntries(partitionColumns.map((c, i) => [c, row[at.get(`p${i}`)!] === null ? null : String(row[at.get(`p${i}`)!])])),
    rows: Number(row[at.get('__rows')!]),
    distinct_keys: row[at.get('__keys')!] === null ? null : Number(row[at.get('__keys')!]),
    nulls: Object.fromEntries(data.map((c, i) => [c, Number(row[at.get(`n${i}`)!])])),
  }));
  return { table: table.name, dataset: table.dataset ?? table.name, version: snapshot.version, key: [...key], columns: names, partitions: partitions.filter((p) => p.rows > 0) };
}

/**
 * What a layer holds, by name, with each table's key: bronze and silver hold the catalog's
 * datasets (silver's key, else the business key), gold the marts of sql/gold (their grain).
 */
function layerEntries(catalog: Catalog, layer: Layer, goldSqlDir?: string): { name: string; key: string[]; enabled: boolean }[] {
  if (layer === 'gold') return loadMarts(goldSqlDir).map((m) => ({ name: m.mart, key: m.grain, enabled: true }));
  return catalog.datasets.map((d) => ({ name: d.name, key: layer === 'silver' ? (d.silver?.key ?? d.businessKey) : d.businessKey, enabled: d.enabled }));
}

/** Profiles the layer's table of every named dataset or mart (default: every enabled dataset; gold: every mart). */
export async function profileLayer(lake: Lake, catalog: Catalog, layer: Layer, datasets?: string[], options: { goldSqlDir?: string } = {}): Promise<ProfileRun> {
  const entries = layerEntries(catalog, layer, options.goldSqlDir);
  const what = layer === 'gold' ? 'mart' : 'dataset';
  const unknown = (datasets ?? []).filter((n) => !entries.some((d) => d.name === n));
  if (unknown.length > 0) {
    throw new LakeError('USAGE', `unknown ${layer} ${what}${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (${layer === 'gold' ? 'sql/gold' : `catalog ${catalog.file}`})`, {
      hint: `Known ${what}s of ${layer}: ${entries.map((d) => d.name).join(', ')}.`,
    });
  }
  const defs = datasets && datasets.length > 0 ? entries.filter((d) => datasets.includes(d.name)) : entries.filter((d) => d.enabled);
  const tables: TableProfile[] = [];
  const missing: string[] = [];
  for (const def of defs) {
    const table = resolveTable(lake, `${layer}.${def.name}`);
    try {
      tables.push(await profileTable(lake, table, def.key));
    } catch (error) {
      if (isLakeError(error, 'TABLE_NOT_FOUND')) missing.push(def.name);
      else throw error;
    }
  }
  return { layer, tables, missing };
}
