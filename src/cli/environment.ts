import { existsSync } from 'node:fs';
import { LakeError, isLakeError } from '../core/index.js';
import { resolveLocation } from '../storage/index.js';
import type { Lake } from '../table/index.js';

/**
 * The one settings loader of every command (README "Concepts", Settings). Before any command runs,
 * `loadDotEnv` puts the working folder's `.env` into the environment (variables already set win).
 * Every command then sees the same lake:
 *
 * - lake root: LAKE_ROOT, else the catalog's `lake.root`, else `tables`;
 * - DuckDB budget: LAKE_MEMORY_LIMIT / LAKE_THREADS / LAKE_TEMP_DIR, else the catalog's
 *   `lake.memory_limit` / `lake.threads`, else the engine's defaults;
 *
 * where the catalog is LAKE_CATALOG or `catalog/datasets.yml`, when that file exists (a lake used
 * away from a checkout needs none). Commands that run the pipeline always read the catalog
 * (`loadSettings`, lake-session.ts). The others read it only when LAKE_ROOT is unset: parsing and
 * validating it costs more than a small query (BENCHMARKS.md "CLI start-up"), so with LAKE_ROOT
 * set a query's budget comes from the LAKE_* variables and the engine defaults (which are the
 * shipped catalog's values) alone.
 *
 * Loads nothing heavy itself: the pipeline (catalog parser) is imported only when the catalog is
 * read or a budget variable is set, the table layer only when a lake opens.
 */

/** Loads `.env` into process.env when the file exists (variables already set win). Returns whether it did. */
export function loadDotEnv(file = '.env'): boolean {
  if (!existsSync(file)) return false;
  try {
    process.loadEnvFile(file);
  } catch (cause) {
    throw new LakeError('CATALOG_INVALID', `${file} cannot be read as an env file: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
      hint: 'Use KEY=value lines (Node env-file syntax), or remove the file.',
    });
  }
  return true;
}

const BUDGET_VARIABLES = ['LAKE_MEMORY_LIMIT', 'LAKE_THREADS', 'LAKE_TEMP_DIR'];

/** The catalog file every command reads its `lake:` settings from, when it exists. */
export function catalogFile(): string {
  const named = process.env['LAKE_CATALOG']?.trim();
  return named ? named : 'catalog/datasets.yml';
}

/**
 * The lake root (absolute) and, as a side effect, the process's DuckDB budget, from the sources in
 * the order of the file header. Validates the LAKE_* variables (CATALOG_INVALID, exit 2).
 */
export async function resolveLakeRoot(): Promise<string> {
  const root = process.env['LAKE_ROOT']?.trim();
  const file = catalogFile();
  if (!root && existsSync(file)) {
    const { loadSettings } = await import('./lake-session.js');
    return loadSettings(file).settings.root;
  }
  if (BUDGET_VARIABLES.some((v) => process.env[v]?.trim())) {
    const { budgetFromEnv } = await import('./lake-session.js');
    budgetFromEnv(process.env);
  }
  return resolveLocation(root ? root : 'tables');
}

/**
 * Opens the lake of `resolveLakeRoot` for `fn` and closes it after. A table that is not there
 * (TABLE_NOT_FOUND) is reported with the lake root searched and what the lake holds.
 */
export async function withLake<T>(fn: (lake: Lake) => Promise<T>): Promise<T> {
  const root = await resolveLakeRoot();
  const { openLake, withLakeContents } = await import('../table/index.js');
  const lake = await openLake({ root });
  try {
    return await fn(lake);
  } catch (error) {
    throw isLakeError(error, 'TABLE_NOT_FOUND') ? await withLakeContents(lake, error) : error;
  } finally {
    lake.close();
  }
}
