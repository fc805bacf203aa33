import { beforeAll, describe, expect, it } from 'vitest';
import { resolveTable, writeTable } from '../../src/table/index.js';
import { describeChild } from '../helpers/child.js';
import { cliLake } from '../helpers/temp-lake.js';

/** `lake diff` as a user runs it: the ledger of a stat correction, by the catalog's business key. */
const env = cliLake('lake-diff-cli');
const { cli } = env;

beforeAll(async () => {
  const { lake } = env;
  // silver.win_totals: the catalog's business key for win_totals is (team, season).
  const table = resolveTable(lake, 'silver.win_totals');
  await writeTable(lake, { table, source: "SELECT * FROM (VALUES ('ARI', 2020, 7.5::DOUBLE), ('BUF', 2020, 9.5), ('ARI', 2019, 5.0)) t(team, season, win_total)", mode: 'append', partitionBy: ['season'] });
  await writeTable(lake, { table, source: "SELECT * FROM (VALUES ('ARI', 2020, 7.5::DOUBLE), ('BUF', 2020, 10.5)) t(team, season, win_total)", mode: 'replace' });
});

describe('lake diff (real process)', () => {
  it('prints the changed row with old and new values, per partition, keyed by the catalog business key', async () => {
    const r = await cli('diff', 'silver.win_totals', '--from', '0', '--to', '1');
    expect(r.code, describeChild(r)).toBe(0);
    expect(r.stdout).toContain('silver.win_totals: version 0 → 1, compared by key (team, season) from catalog');
    expect(r.stdout).toContain('0 added, 0 removed, 1 changed keys');
    expect(r.stdout).toMatch(/season=2020\s+│ 0\s+│ 0\s+│ 1/);
    expect(r.stdout).toMatch(/changed │ season=2020 │ team=BUF season=2020 │ win_total: 9\.5 → 10\.5/);
  });
});
