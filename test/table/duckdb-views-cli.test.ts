import { existsSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveTable, writeTable } from '../../src/table/index.js';
import { describeChild } from '../helpers/child.js';
import { cliLake } from '../helpers/temp-lake.js';

/** `lake duckdb` writes tables/lake.duckdb; `lake restore` then refreshes it (real processes). */
const env = cliLake('lake-duckdb-cli');
const { cli } = env;

beforeAll(async () => {
  const { lake } = env;
  const table = resolveTable(lake, 'silver.teams');
  await writeTable(lake, { table, source: "SELECT 'KC' AS team", mode: 'append' });
  await writeTable(lake, { table, source: "SELECT 'BUF' AS team", mode: 'append' });
});

describe('lake duckdb (real process)', () => {
  it('writes <root>/lake.duckdb with a view per table; a committed restore refreshes it', async () => {
    const r = await cli('duckdb');
    expect(r.code, describeChild(r)).toBe(0);
    const file = path.join(env.root, 'lake.duckdb');
    expect(r.stdout).toBe(`${file}: 1 view (silver.teams@v1)\nquery it with: duckdb ${file} -c "SELECT count(*) FROM silver.teams"\n`);
    expect(existsSync(file)).toBe(true);
    const restored = await cli('restore', 'silver.teams', '--version', '0', '--json');
    expect(restored.code, describeChild(restored)).toBe(0);
    const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
    const connection = await instance.connect();
    try {
      const reader = await connection.runAndReadAll("SELECT (SELECT version FROM main.lake_tables WHERE view = 'silver.teams') AS v, (SELECT list(team) FROM silver.teams) AS teams");
      expect(reader.getRowObjectsJS()).toEqual([{ v: 2n, teams: ['KC'] }]);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});
