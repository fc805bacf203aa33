import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isIdColumn, loadSilverRule, loadTeamCodes, DEFAULT_SILVER_SQL_DIR, type SilverRule } from '../../../src/pipeline/index.js';
import { resolveTable, runQuery, tableSnapshot } from '../../../src/table/index.js';
import { sampleRowCounts, startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';
import { catalog, sampleLake, type SampleLake } from '../../helpers/sample-lake.js';

/**
 * Contract of every silver table built from the shipped sample: one row per key, the rule's
 * canonical columns and types in order (snake_case, IDs as strings, season/week integers, UTC
 * timestamps), team codes only from the canonical set, and a second promote commits nothing.
 */
let server: UpstreamServer;
let env: SampleLake;
const DATASETS = Object.keys(sampleRowCounts());
const rules = new Map<string, SilverRule>();
let canonicalTeams: string[];

beforeAll(async () => {
  server = await startUpstreamServer();
  env = await sampleLake(server, 'contract');
  await env.ingest(DATASETS);
  const result = await env.promote({ datasets: DATASETS, maxWorkers: 2 });
  expect(result.failures, JSON.stringify(result.datasets.filter((d) => d.error).map((d) => [d.dataset, d.error]))).toBe(0);
  for (const d of DATASETS) rules.set(d, await loadSilverRule(env.lake.engine, catalog.datasets.find((x) => x.name === d)!));
  canonicalTeams = await loadTeamCodes(env.lake.engine, DEFAULT_SILVER_SQL_DIR);
}, 120_000);
afterAll(async () => {
  env.close();
  await server.close();
});

async function describeTable(dataset: string): Promise<{ name: string; type: string }[]> {
  const result = await runQuery(env.lake, `DESCRIBE SELECT * FROM silver.${dataset}`);
  return result.rows.map((r) => ({ name: String(r[0]), type: String(r[1]) }));
}

describe.each(DATASETS)('silver.%s', (dataset) => {
  const def = catalog.datasets.find((d) => d.name === dataset)!;

  it('has the canonical columns of its rule, in order, with their types', async () => {
    const rule = rules.get(dataset)!;
    const unquoted = (cols: { name: string; type: string }[]): { name: string; type: string }[] => cols.map((c) => ({ name: c.name, type: c.type.replace(/"/g, "") }));
    expect(unquoted(await describeTable(dataset))).toEqual(unquoted(rule.columns));
    for (const c of rule.columns) {
      expect(c.name).toMatch(/^[a-z][a-z0-9_]*$/);
      if (isIdColumn(c.name, def)) expect([c.name, c.type]).toEqual([c.name, 'VARCHAR']);
      if (c.name === 'season' || c.name === 'week') expect([c.name, c.type]).toEqual([c.name, 'INTEGER']);
      if (c.type.startsWith('TIMESTAMP')) expect([c.name, c.type]).toEqual([c.name, 'TIMESTAMP WITH TIME ZONE']);
    }
    expect(rule.columns.slice(-5).map((c) => c.name)).toEqual(['source', 'ingested_at', 'pipeline_version', 'upstream_version', 'run_id']);
  });

  it('holds one row per key, and every bronze key', async () => {
    const rule = rules.get(dataset)!;
    const silverRows = await env.count(`SELECT count(*) FROM silver.${dataset}`);
    if (rule.dedupe === 'key') {
      const key = rule.key.map((k) => `"${k}"`).join(', ');
      expect(await env.count(`SELECT count(*) FROM (SELECT DISTINCT ${key} FROM silver.${dataset})`)).toBe(silverRows);
    } else if (rule.exactDuplicates === 'drop') {
      // latest_batch, exact repeats kept once (test/pipeline/silver/exact-duplicates.test.ts counts them).
      expect(silverRows).toBe(await env.count(`SELECT count(*) FROM (SELECT DISTINCT * FROM bronze.${dataset})`));
    } else {
      // latest_batch: the sample has one batch per source, so silver holds bronze as delivered.
      expect(silverRows).toBe(await env.count(`SELECT count(*) FROM bronze.${dataset}`));
    }
    expect(silverRows).toBeGreaterThan(0);
  });

  it('has team codes only from the canonical set', async () => {
    for (const column of def.quality?.teamCodes ?? []) {
      const bad = await runQuery(env.lake, `SELECT DISTINCT "${column}" FROM silver.${dataset} WHERE "${column}" IS NOT NULL`);
      const values = bad.rows.map((r) => String(r[0]));
      expect([column, values.filter((v) => !canonicalTeams.includes(v))]).toEqual([column, []]);
    }
  });
});

describe('the whole sample', () => {
  it('normalizes the aliases the sources use (bronze has JAC, LAR, OAK, SD, STL, WSH; silver none)', async () => {
    const aliases = "('JAC','LAR','OAK','SD','STL','WSH','SDC','LVR','KCC','GNB')";
    expect(await env.count(`SELECT count(*) FROM bronze.lines WHERE abbr IN ${aliases}`)).toBeGreaterThan(0);
    expect(await env.count(`SELECT count(*) FROM bronze.espn_qbr WHERE team_abb IN ${aliases}`)).toBeGreaterThan(0);
    expect(await env.count(`SELECT count(*) FROM bronze.player_ids WHERE team IN ${aliases}`)).toBeGreaterThan(0);
    expect(await env.count(`SELECT count(*) FROM silver.lines WHERE abbr IN ${aliases}`)).toBe(0);
    expect(await env.count(`SELECT count(*) FROM silver.espn_qbr WHERE team_abb IN ${aliases} OR opp_abb IN ${aliases}`)).toBe(0);
    expect(await env.count(`SELECT count(*) FROM silver.player_ids WHERE team IN ${aliases}`)).toBe(0);
    // teams keeps the upstream abbreviation and adds the canonical code.
    const teams = await runQuery(env.lake, "SELECT team_abbr, team FROM silver.teams WHERE team_abbr IN ('OAK', 'SD', 'STL', 'LAR') ORDER BY 1");
    expect(teams.rows).toEqual([
      ['LAR', 'LA'],
      ['OAK', 'LV'],
      ['SD', 'LAC'],
      ['STL', 'LA'],
    ]);
  });

  it('schedules carry the kickoff in UTC (gametime is US Eastern)', async () => {
    const r = await runQuery(env.lake, "SELECT gameday, gametime, strftime(kickoff_utc, '%Y-%m-%dT%H:%M:%SZ') FROM silver.schedules WHERE game_id = '2023_01_DET_KC'", { exact: false });
    expect(r.rows[0]!.slice(1)).toEqual(['20:20', '2023-09-08T00:20:00Z']);
  });

  it('records upstream columns the pbp sample lacks (they are NULL in silver)', async () => {
    const info = await env.commitInfo('silver.pbp');
    const drift = (info['promote'] as { schema_drift: { upstream_missing: string[]; upstream_added: string[] } }).schema_drift;
    expect(drift.upstream_added).toEqual([]);
    expect(drift.upstream_missing).toHaveLength(38);
    expect(drift.upstream_missing).toContain('xpass');
    expect(await env.count('SELECT count(*) FROM silver.pbp WHERE xpass IS NOT NULL')).toBe(0);
  });

  it('a second promote commits nothing', async () => {
    const versions = await Promise.all(DATASETS.map((d) => tableSnapshot(env.lake, resolveTable(env.lake, `silver.${d}`)).then((s) => s.version)));
    const again = await env.promote({ datasets: DATASETS });
    expect(again.commits).toBe(0);
    expect(new Set(again.datasets.map((d) => d.status))).toEqual(new Set(['unchanged']));
    expect(await Promise.all(DATASETS.map((d) => tableSnapshot(env.lake, resolveTable(env.lake, `silver.${d}`)).then((s) => s.version)))).toEqual(versions);
  });

  it('every dataset of the catalog has a silver rule that binds (also those not in the sample)', async () => {
    for (const def of catalog.datasets) {
      const rule = await loadSilverRule(env.lake.engine, def);
      expect([def.name, rule.columns.length > 5]).toEqual([def.name, true]);
      for (const c of def.quality?.teamCodes ?? []) expect([def.name, rule.columns.some((x) => x.name === c)]).toEqual([def.name, true]);
    }
  });
});
