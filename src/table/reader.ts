import { LakeError, logger, logsAt } from '../core/index.js';
import { columnMappingMode, type Snapshot } from '../delta/index.js';
import { deltaExtensionStatus, ident, literal, type DeltaExtensionStatus } from '../engine/index.js';
import type { Lake } from './lake.js';

/**
 * Which reader turns a Delta snapshot into rows (docs/design.md decision 5):
 * - `native`: our log replay hands DuckDB exactly the active files (`read_parquet`);
 * - `extension`: DuckDB's own `delta` extension (`delta_scan(path, version => n)`); fails when
 *   the extension cannot be loaded;
 * - `auto` (default): the faster reader. Measured (BENCHMARKS.md "Readers"): the native reader
 *   is as fast or faster on every query, warm or cold, and `LOAD delta` alone costs ~0.5 s of CPU
 *   per process, so `auto` reads natively.
 * Where the extension cannot serve a table (an error when the view is bound), the native
 * reader serves it and the fallback is logged at debug level; where it would return wrong rows
 * (`extensionMisreads`), the native reader serves it with a logged warning.
 */
export type ReaderMode = 'auto' | 'extension' | 'native';
export const READER_MODES: readonly ReaderMode[] = ['auto', 'extension', 'native'];

export function readerMode(value: string | undefined = process.env['LAKE_READER']): ReaderMode {
  const mode = (value ?? 'auto').trim().toLowerCase();
  if ((READER_MODES as readonly string[]).includes(mode)) return mode as ReaderMode;
  throw new LakeError('USAGE', `unknown reader '${value}' (from --reader or LAKE_READER)`, { hint: `Use one of: ${READER_MODES.join(', ')}.` });
}

const statusByLake = new WeakMap<Lake, Promise<DeltaExtensionStatus>>();

/** Loads the delta extension into the lake's DuckDB once; never downloads. */
export function extensionStatus(lake: Lake): Promise<DeltaExtensionStatus> {
  let status = statusByLake.get(lake);
  if (!status) {
    status = deltaExtensionStatus(lake.engine);
    statusByLake.set(lake, status);
  }
  return status;
}

/** Whether views should be tried through the extension; throws for `extension` when it cannot load. */
export async function useExtension(lake: Lake, mode: ReaderMode): Promise<boolean> {
  if (mode === 'native') return false;
  if (mode === 'auto') return false;
  const status = await extensionStatus(lake);
  if (status.loaded) return true;
  if (mode === 'extension') {
    throw new LakeError('USAGE', `LAKE_READER=extension, but DuckDB's delta extension does not load: ${status.error ?? 'unknown reason'}`, {
      hint: 'Install it with `lake extension install` (or `node scripts/install-delta-extension.mjs`), or use --reader native.',
    });
  }
  if (logsAt('debug')) logger().debug({ reason: status.error }, 'delta extension unavailable, native reader');
  return false;
}

/**
 * Why DuckDB's delta extension would return wrong rows for a snapshot, without an error; undefined
 * when it reads the snapshot right. Measured with extension 45c4087 (DuckDB 1.5.5) on tables
 * Spark 4.0 / delta-spark 4.0 wrote (test/interop/spark.test.ts): with column mapping (mode
 * `name` or `id`) and partition columns, it returns every partition column as NULL. (It reads the
 * one Databricks-written such table of the conformance fixtures right; we do not rely on that.)
 */
export function extensionMisreads(snapshot: Pick<Snapshot, 'metadata' | 'partitionColumns'>): string | undefined {
  const mode = columnMappingMode(snapshot.metadata.configuration);
  if (mode !== 'none' && snapshot.partitionColumns.length > 0) {
    return `column mapping mode '${mode}' with partition columns (${snapshot.partitionColumns.join(', ')}): the extension returns them as NULL`;
  }
  return undefined;
}

/**
 * Creates a view over the snapshot through the extension. Returns false (nothing created) when
 * the extension reads the snapshot wrong (`extensionMisreads`, logged as a warning) or cannot bind
 * it, so the caller falls back to the native reader.
 */
export async function createExtensionView(lake: Lake, view: string, snapshot: Pick<Snapshot, 'tableRoot' | 'version' | 'table' | 'metadata' | 'partitionColumns'>): Promise<boolean> {
  const { tableRoot, version, table } = snapshot;
  const misread = extensionMisreads(snapshot);
  if (misread) {
    logger().warn({ table, version, reason: misread }, 'delta extension reads this table wrong, native reader');
    return false;
  }
  try {
    await lake.engine.connection.run(`CREATE OR REPLACE TEMP VIEW ${ident(view)} AS SELECT * FROM delta_scan(${literal(tableRoot)}, version => ${version})`);
    return true;
  } catch (error) {
    if (logsAt('debug')) logger().debug({ table, version, err: error instanceof Error ? error.message : String(error) }, 'delta extension cannot read the table, native reader');
    return false;
  }
}
