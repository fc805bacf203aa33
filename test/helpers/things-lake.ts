import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_SILVER_SQL_DIR, TEAM_CODES_FILE } from '../../src/pipeline/index.js';

/**
 * The silver rule of the synthetic `things` dataset (test/helpers/things-catalog.ts) and the
 * columns of its bronze rows, for promote tests that write bronze batches themselves.
 */
export const THINGS_RULE = `SELECT CAST(id AS VARCHAR) AS id, CAST(season AS INTEGER) AS season, CAST(v AS BIGINT) AS v,
  CAST("source" AS VARCHAR) AS "source", CAST(ingested_at AS TIMESTAMPTZ) AS ingested_at, CAST(pipeline_version AS VARCHAR) AS pipeline_version,
  CAST(upstream_version AS VARCHAR) AS upstream_version, CAST(run_id AS VARCHAR) AS run_id
FROM bronze_rows`;

export const THINGS_COLUMNS = [
  { name: 'id', type: 'VARCHAR' },
  { name: 'season', type: 'INTEGER' },
  { name: 'v', type: 'BIGINT' },
  { name: 'source', type: 'VARCHAR' },
  { name: 'ingested_at', type: 'TIMESTAMPTZ' },
  { name: 'pipeline_version', type: 'VARCHAR' },
  { name: 'upstream_version', type: 'VARCHAR' },
  { name: 'run_id', type: 'VARCHAR' },
];

/** `<dir>/sql`: the team-code mapping and the things rule (`rule`, default THINGS_RULE); returns the folder. */
export function thingsSqlDir(dir: string, rule = THINGS_RULE): string {
  const sqlDir = path.join(dir, 'sql');
  mkdirSync(sqlDir);
  copyFileSync(path.join(DEFAULT_SILVER_SQL_DIR, TEAM_CODES_FILE), path.join(sqlDir, TEAM_CODES_FILE));
  writeFileSync(path.join(sqlDir, 'things.sql'), rule);
  return sqlDir;
}
