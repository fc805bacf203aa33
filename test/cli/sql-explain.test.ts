import { beforeAll, describe, expect, it } from 'vitest';
import { resolveTable, writeTable } from '../../src/table/index.js';
import { cliLake } from '../helpers/temp-lake.js';

const t = cliLake('lake-sql-explain-');

beforeAll(async () => {
  const table = resolveTable(t.lake, 'silver.games');
  for (const week of [1, 2, 3]) {
    await writeTable(t.lake, { table, source: `SELECT '2023_0${week}_KC_DET' AS game_id, ${week} AS week, 2023 AS season`, mode: 'append', partitionBy: ['season'] });
  }
});

describe('lake sql --explain', () => {
  it('names the files pruned, skipped by stats and read, then the plan, without running the query', async () => {
    const result = await t.cli('sql', '--explain', "SELECT count(*) FROM silver.games WHERE game_id = '2023_02_KC_DET'");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('silver.games @ version 2 (native reader): 3 files, 0 pruned by partition, 2 skipped by stats, 1 read');
    expect(result.stdout).toMatch(/READ_PARQUET|PARQUET_SCAN|TABLE_SCAN/i);
  });

  it('logs the files skipped at --log-level debug', async () => {
    const result = await t.cli('--log-level', 'debug', 'sql', "SELECT count(*) FROM silver.games WHERE game_id = '2023_03_KC_DET'");
    expect(result.code).toBe(0);
    const line = result.stderr.split('\n').find((l) => l.includes('files read'));
    expect(line, result.stderr).toBeDefined();
    expect(line).toMatch(/skippedByStats"?[:=] ?2/);
  });

  it('prints the same as JSON', async () => {
    const result = await t.cli('sql', '--explain', '--json', 'SELECT count(*) FROM silver.games WHERE week BETWEEN 2 AND 3');
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as { tables: Array<Record<string, unknown>>; plan: string };
    expect(out.tables[0]).toMatchObject({ table: 'silver.games', filesTotal: 3, filesSkippedByStats: 1, filesRead: 2 });
    expect(out.plan.length).toBeGreaterThan(0);
  });
});
