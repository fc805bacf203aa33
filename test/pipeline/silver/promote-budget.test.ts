import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureEngines, dataFilePath, DEFAULT_MEMORY_LIMIT } from '../../../src/engine/index.js';
import { parseCatalog, DEFAULT_SILVER_SQL_DIR, TEAM_CODES_FILE, runPromote } from '../../../src/pipeline/index.js';
import { lakeTempRoot, openLake, resolveTable, runQuery, tableSnapshot, writeTable, type Lake } from '../../../src/table/index.js';
import { thingsCatalog } from '../../helpers/things-catalog.js';

/**
 * The memory budget holds for a promote: under a DuckDB memory limit far below what the dedupe of
 * its partitions needs, the promote spills into the lake's temp folder (seen while it runs) and
 * commits the right rows, rather than failing; the spill folder is gone afterwards.
 */
const RULE = `SELECT CAST(id AS VARCHAR) AS id, CAST(season AS INTEGER) AS season, CAST(v AS BIGINT) AS v, CAST(pad AS VARCHAR) AS pad,
  CAST("source" AS VARCHAR) AS "source", CAST(ingested_at AS TIMESTAMPTZ) AS ingested_at, CAST(pipeline_version AS VARCHAR) AS pipeline_version,
  CAST(upstream_version AS VARCHAR) AS upstream_version, CAST(run_id AS VARCHAR) AS run_id
FROM bronze_rows`;
const SEASONS = 6;
const ROWS = 150_000;
/** Rows of season 2000 after the incremental merge of the second test. */
const MERGED = 6 * ROWS;

let dir: string;
let sqlDir: string;
let lake: Lake;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'promote-budget-'));
  sqlDir = path.join(dir, 'sql');
  mkdirSync(sqlDir);
  copyFileSync(path.join(DEFAULT_SILVER_SQL_DIR, TEAM_CODES_FILE), path.join(sqlDir, TEAM_CODES_FILE));
  writeFileSync(path.join(sqlDir, 'things.sql'), RULE);
  lake = await openLake({ root: path.join(dir, 'lake'), threads: 2, create: true });
  // Two batches of every key: the second (newer) one must win. Rows carry 120 characters of padding.
  for (const batch of [1, 2]) {
    const source = `SELECT (i % ${ROWS})::VARCHAR AS id, 2000 + (i // ${ROWS})::INTEGER AS season, (i * ${batch})::BIGINT AS v,
        repeat(md5((i * ${batch})::VARCHAR), 4)[1:120] AS pad, 'things' AS "source",
        TIMESTAMPTZ '2026-09-0${batch} 00:00:00+00' AS ingested_at, '0.1.0' AS pipeline_version, 'u${batch}' AS upstream_version, 'r${batch}' AS run_id
      FROM range(${SEASONS * ROWS}) t(i)`;
    await writeTable(lake, { table: resolveTable(lake, 'bronze.things'), source, mode: 'append', partitionBy: ['season'] });
  }
  lake.close();
}, 300_000);

afterAll(() => {
  configureEngines({ memoryLimit: DEFAULT_MEMORY_LIMIT });
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The lake opened under a 256 MiB memory limit, and the most spill files seen at once in its temp
 * folder (watched until `close`, which also closes the lake).
 */
async function underBudget(): Promise<{ budgetLake: Lake; temp: string; spilled: () => number; close: () => void }> {
  configureEngines({ memoryLimit: '256MiB' });
  const budgetLake = await openLake({ root: path.join(dir, 'lake'), threads: 2 });
  const temp = lakeTempRoot(budgetLake.root);
  let spilled = 0;
  const watch = setInterval(() => {
    for (const folder of readdirSync(temp)) {
      try {
        spilled = Math.max(spilled, readdirSync(path.join(temp, folder)).length);
      } catch {
        // not created yet, or just removed
      }
    }
  }, 20);
  const close = (): void => {
    clearInterval(watch);
    budgetLake.close();
  };
  return { budgetLake, temp, spilled: () => spilled, close };
}

describe('promote under a small memory budget', () => {
  it('spills into <root>/.lake-tmp and commits every partition', async () => {
    const catalog = parseCatalog(thingsCatalog('    quality: { unique: true, not_null: [id] }\n'), 'test-catalog.yml');
    const { budgetLake, temp, spilled, close } = await underBudget();
    try {
      const result = await runPromote({ catalog, lake: budgetLake, sqlDir, reportDir: path.join(dir, 'quality'), datasets: ['things'], groupCells: SEASONS * ROWS * 2 * 20 });
      const d = result.datasets[0]!;
      expect(d.error).toBeUndefined();
      expect(d.status).toBe('committed');
      expect(d.partitions).toHaveLength(SEASONS);
      const rows = await runQuery(budgetLake, `SELECT count(*) AS n, count(DISTINCT id || '/' || season) AS k, sum(CASE WHEN upstream_version = 'u2' THEN 1 ELSE 0 END) AS newest FROM silver.things`);
      expect((rows.rows[0] as unknown[]).map(Number)).toEqual([SEASONS * ROWS, SEASONS * ROWS, SEASONS * ROWS]);
    } finally {
      close();
    }
    expect(spilled()).toBeGreaterThan(0);
    expect(readdirSync(temp).filter((n) => n.startsWith('duckdb-'))).toEqual([]);
  }, 300_000);

  it('an incremental merge of one large partition, deduplicated and sorted by one COPY into its final file, spills and commits', async () => {
    // A third batch for season 2000: every key of the season again (newer) and five times as many new ones.
    const seeding = await openLake({ root: path.join(dir, 'lake'), threads: 2 });
    const source = `SELECT i::VARCHAR AS id, 2000 AS season, (i * 3)::BIGINT AS v, repeat(md5((i * 3)::VARCHAR), 4)[1:120] AS pad, 'things' AS "source",
        TIMESTAMPTZ '2026-09-03 00:00:00+00' AS ingested_at, '0.1.0' AS pipeline_version, 'u3' AS upstream_version, 'r3' AS run_id
      FROM range(${MERGED}) t(i)`;
    await writeTable(seeding, { table: resolveTable(seeding, 'bronze.things'), source, mode: 'append' });
    seeding.close();
    // sort_by: the merged rows are sorted by id in the same COPY as their dedupe.
    const catalog = parseCatalog(thingsCatalog('    sort_by: [id]\n    quality: { unique: true, not_null: [id] }\n'), 'test-catalog.yml');
    const { budgetLake, temp, spilled, close } = await underBudget();
    try {
      const result = await runPromote({ catalog, lake: budgetLake, sqlDir, reportDir: path.join(dir, 'quality'), datasets: ['things'] });
      const d = result.datasets[0]!;
      expect(d.error).toBeUndefined();
      expect(d).toMatchObject({ status: 'committed', mode: 'incremental', partitions: [{ partition: { season: '2000' }, mode: 'merge', rowsBefore: ROWS, rowsInBatch: MERGED, rowsAfter: MERGED }] });
      const rows = await runQuery(budgetLake, `SELECT count(*) AS n, count(DISTINCT id) AS k, sum(CASE WHEN upstream_version = 'u3' THEN 1 ELSE 0 END) AS newest FROM silver.things WHERE season = 2000`);
      expect((rows.rows[0] as unknown[]).map(Number)).toEqual([MERGED, MERGED, MERGED]);
      // One file for the partition, its rows sorted by id.
      const table = resolveTable(budgetLake, 'silver.things');
      const files = (await tableSnapshot(budgetLake, table)).files.filter((f) => f.partitionValues['season'] === '2000');
      expect(files).toHaveLength(1);
      const [order] = await budgetLake.engine.rows<{ n: bigint; unsorted: bigint }>(
        `SELECT count(*) AS n, count(*) FILTER (WHERE id < prev) AS unsorted FROM (SELECT id, lag(id) OVER (ORDER BY file_row_number) AS prev FROM read_parquet('${dataFilePath(table.tableRoot, files[0]!.path)}', file_row_number = true))`,
      );
      expect([Number(order!.n), Number(order!.unsorted)]).toEqual([MERGED, 0]);
    } finally {
      close();
    }
    expect(spilled()).toBeGreaterThan(0);
    expect(readdirSync(temp).filter((n) => n.startsWith('duckdb-'))).toEqual([]);
  }, 300_000);
});
