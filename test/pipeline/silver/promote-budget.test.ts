import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureEngines, DEFAULT_MEMORY_LIMIT } from '../../../src/engine/index.js';
import { parseCatalog, DEFAULT_SILVER_SQL_DIR, TEAM_CODES_FILE, runPromote } from '../../../src/pipeline/index.js';
import { lakeTempRoot, openLake, resolveTable, runQuery, writeTable, type Lake } from '../../../src/table/index.js';
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

describe('promote under a small memory budget', () => {
  it('spills into <root>/.lake-tmp and commits every partition', async () => {
    const catalog = parseCatalog(thingsCatalog('    quality: { unique: true, not_null: [id] }\n'), 'test-catalog.yml');
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
    try {
      const result = await runPromote({ catalog, lake: budgetLake, sqlDir, reportDir: path.join(dir, 'quality'), datasets: ['things'], groupCells: SEASONS * ROWS * 2 * 20 });
      const d = result.datasets[0]!;
      expect(d.error).toBeUndefined();
      expect(d.status).toBe('committed');
      expect(d.partitions).toHaveLength(SEASONS);
      const rows = await runQuery(budgetLake, `SELECT count(*) AS n, count(DISTINCT id || '/' || season) AS k, sum(CASE WHEN upstream_version = 'u2' THEN 1 ELSE 0 END) AS newest FROM silver.things`);
      expect((rows.rows[0] as unknown[]).map(Number)).toEqual([SEASONS * ROWS, SEASONS * ROWS, SEASONS * ROWS]);
    } finally {
      clearInterval(watch);
      budgetLake.close();
    }
    expect(spilled).toBeGreaterThan(0);
    expect(readdirSync(temp).filter((n) => n.startsWith('duckdb-'))).toEqual([]);
  }, 300_000);
});
