import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { logger } from '../core/index.js';
import { ident, literal, openEngine, s3SecretSql, scanSql } from '../engine/index.js';
import { isRemote, localStateDir } from '../storage/index.js';
import { lakeTempRoot, tableSnapshot, type Lake, type TableRef } from './lake.js';
import { listLakeTables } from './vacuum.js';

/**
 * `lake duckdb`: a DuckDB database file (default `<lake root>/lake.duckdb`) holding schemas
 * bronze/silver/gold and one VIEW per table at its latest version, so the stock DuckDB CLI and
 * clients query the lake without this program (`duckdb tables/lake.duckdb -c "FROM silver.pbp"`).
 *
 * Each view is the native reader's SQL for the snapshot: `read_parquet([...])` over exactly the
 * version's files (absolute paths), partition values as typed constants from the log. No
 * extension is needed to read it. A view names the files of one version: it goes stale when the
 * table commits, and breaks once VACUUM deletes files it names; re-running refreshes every view.
 * The file is built beside the target and renamed over it, so a DuckDB session holding the old
 * file keeps working and readers never see a half-written database.
 *
 * `main.lake_tables` lists every view with its table root, version, file count and refresh time.
 */
export const DUCKDB_FILE = 'lake.duckdb';

export interface DuckdbViewsOptions {
  /** The database file; `<lake root>/lake.duckdb` by default. */
  out?: string;
  /** Tables to expose; every table under the lake root by default. */
  tables?: TableRef[];
  now?: () => number;
}

export interface DuckdbView {
  /** `layer.dataset` */
  view: string;
  tableRoot: string;
  version?: number;
  files?: number;
  /** Why the table has no view (it does not read: missing files, unsupported features). */
  error?: { code?: string; message: string };
}

export interface DuckdbViewsResult {
  path: string;
  views: DuckdbView[];
}


/** `<root>/lake.duckdb`; for a lake on S3, the lake's local folder (docs/s3.md "What stays local"). */
export function defaultDuckdbPath(lake: Pick<Lake, 'root'>): string {
  return path.join(localStateDir(lake.root) ?? lake.root, DUCKDB_FILE);
}

/**
 * What a stock duckdb session must run before the views of a lake on S3 read: httpfs and an S3
 * secret with the lake's endpoint settings (credentials left as placeholders); undefined for a
 * local lake.
 */
export async function duckdbS3Setup(lake: Pick<Lake, 'root'>): Promise<string | undefined> {
  if (!isRemote(lake.root)) return undefined;
  const secret = (await s3SecretSql('lake_s3', { credentials: false })).replace('CREATE OR REPLACE SECRET lake_s3', 'CREATE SECRET');
  return `LOAD httpfs; ${secret};`;
}

export async function writeDuckdbViews(lake: Lake, options: DuckdbViewsOptions = {}): Promise<DuckdbViewsResult> {
  const out = path.resolve(options.out ?? defaultDuckdbPath(lake));
  const refs = options.tables ?? (await listLakeTables(lake));
  const now = new Date((options.now ?? Date.now)()).toISOString();
  await mkdir(path.dirname(out), { recursive: true });
  const temp = path.join(path.dirname(out), `.${path.basename(out)}.${randomUUID()}.tmp`);
  const db = await openEngine({ path: temp, threads: 1, tempRoot: lakeTempRoot(lake.root), s3: isRemote(lake.root) });
  const views: DuckdbView[] = [];
  try {
    await db.run('CREATE TABLE main.lake_tables (view VARCHAR, table_root VARCHAR, version BIGINT, files BIGINT, refreshed_at TIMESTAMPTZ)');
    for (const ref of refs) {
      const [layer, dataset] = ref.layer && ref.dataset ? [ref.layer, ref.dataset] : ['main', path.basename(ref.tableRoot)];
      const name = `${layer}.${dataset}`;
      try {
        const snapshot = await tableSnapshot(lake, ref);
        // Deletion vectors inline into the SQL: the view cannot use the session's temp tables.
        // Timestamp partition values name their zone or are pinned to UTC by the scan: any session zone reads the same instant.
        const sql = await scanSql(lake.engine, snapshot, { dvInlineRanges: Number.MAX_SAFE_INTEGER });
        await db.run(`CREATE SCHEMA IF NOT EXISTS ${ident(layer)}`);
        await db.run(`CREATE OR REPLACE VIEW ${ident(layer)}.${ident(dataset)} AS ${sql}`);
        await db.run(`SELECT * FROM ${ident(layer)}.${ident(dataset)} LIMIT 0`);
        await db.run(
          `INSERT INTO main.lake_tables VALUES (${literal(name)}, ${literal(ref.tableRoot)}, ${snapshot.version}, ${snapshot.files.length}, ${literal(now)}::TIMESTAMPTZ)`,
        );
        views.push({ view: name, tableRoot: ref.tableRoot, version: snapshot.version, files: snapshot.files.length });
      } catch (error) {
        await db.run(`DROP VIEW IF EXISTS ${ident(layer)}.${ident(dataset)}`).catch(() => undefined);
        const e = error as { code?: string; message?: string };
        logger().warn({ table: name, err: e.message ?? String(error) }, 'no duckdb view for table');
        views.push({ view: name, tableRoot: ref.tableRoot, error: { code: e.code, message: e.message ?? String(error) } });
      }
    }
    await db.run('CHECKPOINT');
  } catch (error) {
    db.close();
    await rm(temp, { force: true });
    await rm(`${temp}.wal`, { force: true });
    throw error;
  }
  db.close();
  await rm(`${temp}.wal`, { force: true });
  // A WAL left beside the old file would be replayed into the new one.
  await rm(`${out}.wal`, { force: true });
  await rename(temp, out);
  await rm(`${out}.wal`, { force: true });
  logger().info({ path: out, views: views.filter((v) => !v.error).length }, 'duckdb views written');
  return { path: out, views };
}

/**
 * Refreshes the views after commits (call it at the end of a command that committed). By default
 * only an existing database file is refreshed, so the file appears only once a user ran
 * `lake duckdb`; `create: true` writes it regardless. Never fails the caller: a failed refresh is
 * logged and returns undefined.
 */
export async function refreshDuckdbViews(lake: Lake, options: { out?: string; create?: boolean } = {}): Promise<DuckdbViewsResult | undefined> {
  const out = path.resolve(options.out ?? defaultDuckdbPath(lake));
  if (!options.create && !existsSync(out)) return undefined;
  try {
    return await writeDuckdbViews(lake, { out });
  } catch (error) {
    logger().warn({ path: out, err: error instanceof Error ? error.message : String(error) }, 'duckdb views refresh failed');
    return undefined;
  }
}
