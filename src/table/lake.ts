import path from 'node:path';
import { LakeError, isLakeError } from '../core/index.js';
import { loadSnapshot, type CheckpointReader, type Snapshot, type SnapshotOptions } from '../delta/index.js';
import { duckdbCheckpointReader, openEngine, type Engine } from '../engine/index.js';

export const LAYERS = ['bronze', 'silver', 'gold'] as const;
export type Layer = (typeof LAYERS)[number];

/** A lake: its root folder plus one DuckDB engine for the process. */
export interface Lake {
  root: string;
  engine: Engine;
  checkpoints: CheckpointReader;
  close(): void;
}

export interface OpenLakeOptions {
  root?: string;
  threads?: number;
  memoryLimit?: string;
}

export function defaultLakeRoot(): string {
  return path.resolve(process.env['LAKE_ROOT'] ?? 'tables');
}

export async function openLake(options: OpenLakeOptions = {}): Promise<Lake> {
  const engine = await openEngine({ threads: options.threads, memoryLimit: options.memoryLimit });
  return {
    root: path.resolve(options.root ?? defaultLakeRoot()),
    engine,
    checkpoints: duckdbCheckpointReader(engine),
    close: () => engine.close(),
  };
}

export interface TableRef {
  /** As the user named it: `silver.pbp` or a path. */
  name: string;
  tableRoot: string;
  layer?: Layer;
  dataset?: string;
}

const CATALOG_NAME = /^(bronze|silver|gold)\.([A-Za-z_][A-Za-z0-9_]*)$/;

/** `layer.dataset` resolves under the lake root; anything else is a path to a Delta table. */
export function resolveTable(lake: Pick<Lake, 'root'>, name: string): TableRef {
  const m = CATALOG_NAME.exec(name);
  if (m) return { name, tableRoot: path.join(lake.root, m[1]!, m[2]!), layer: m[1] as Layer, dataset: m[2]! };
  if (name.trim() === '') throw new LakeError('USAGE', 'empty table name', { hint: 'Name a table as layer.dataset (e.g. silver.pbp) or give a path.' });
  return { name, tableRoot: path.resolve(name) };
}

export async function tableSnapshot(lake: Lake, ref: TableRef, options: SnapshotOptions = {}): Promise<Snapshot> {
  return loadSnapshot(ref.tableRoot, lake.checkpoints, options, ref.name);
}

/** The table's latest snapshot, or undefined when no table exists there yet. */
export async function findSnapshot(lake: Lake, ref: TableRef): Promise<Snapshot | undefined> {
  try {
    return await tableSnapshot(lake, ref);
  } catch (error) {
    if (isLakeError(error, 'TABLE_NOT_FOUND')) return undefined;
    throw error;
  }
}
