import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine } from '../../src/engine/index.js';
import { describeChild, requireBuild, runCliProcess, type ChildResult } from '../helpers/child.js';

/** `lake demo` as a user runs it: a real child process of the built CLI, offline, on the shipped sample. */
let dir: string;
let demo: ChildResult;

beforeAll(async () => {
  requireBuild();
  dir = mkdtempSync(path.join(tmpdir(), 'demo-'));
  // No upstream variables: the demo serves the sample itself (a wrong base URL in the environment must not matter).
  demo = await runCliProcess(['demo', '--root', dir], { env: { NFLVERSE_BASE_URL: 'http://127.0.0.1:9/unreachable', LAKE_ROOT: path.join(dir, 'elsewhere') } });
}, 90_000);
afterAll(() => {
  if (!process.env['KEEP_TEST_DIRS']) rmSync(dir, { recursive: true, force: true });
});

describe('lake demo (child process of dist/cli/main.js)', () => {
  it('runs the whole pipeline and exits 0', () => {
    expect(demo.code, describeChild(demo)).toBe(0);
    expect(demo.stdout).toContain(`lake root: ${path.join(dir, 'tables')}\n`);
    expect(demo.stdout).toMatch(/^sample upstream: http:\/\/127\.0\.0\.1:\d+ /m);
  });

  it('bootstraps bronze from the sample, promotes every dataset to silver and builds the six marts', () => {
    expect(demo.stdout).toMatch(/^1\. bootstrap \(bronze\): 14 commits, 51,073 rows from 10 datasets \(run \d{8}T\d{6}Z-[0-9a-f]{6}\)/m);
    expect(demo.stdout).toMatch(/^ {3}promote: silver\.pbp v0, .*silver\.teams v0/m);
    for (const [mart, rows] of [['dim_game', 586], ['fact_game', 586], ['fact_team_week', 1172], ['dim_team', 32]] as const) {
      expect(demo.stdout).toMatch(new RegExp(`^ {3}gold\\.${mart} +v0 built · ${rows} rows$`, 'm'));
    }
  });

  it('runs ready-to-run queries from sql/queries with real answers', () => {
    expect(demo.stdout).toContain('team_epa_rankings.sql: offensive and defensive EPA per play (first 6 of 32)');
    expect(demo.stdout).toMatch(/^Tyreek Hill +│ MIA +│ 8 +│ 87 +│ 61 +│ 1014 /m);
    expect(demo.stdout).toContain('closing_line_results.sql: against the spread and over/under');
  });

  it('pulls a stat correction that rewrites only season 2020, and shows it by time travel and in the history', () => {
    expect(demo.stdout).toMatch(/^ {3}bronze\.pbp: 1 commit/m);
    expect(demo.stdout).toMatch(/^ {3}gold\.fact_team_week +v1 replaced season 2020 only · 32 rows$/m);
    expect(demo.stdout).toMatch(/^ {3}gold\.dim_team +unchanged \(no source commit\)$/m);
    expect(demo.stdout).toContain('5. time travel: gold.fact_team_week now (v1) and AT (VERSION => 0), before the correction');
    const kc = /^2020 +│ 1 +│ KC +│ (-?[\d.]+) +│ (-?[\d.]+)$/m.exec(demo.stdout);
    expect(kc, demo.stdout).not.toBeNull();
    expect(Number(kc![2])).toBeGreaterThan(Number(kc![1]));
    expect(demo.stdout).toContain('6. lake history gold.fact_team_week');
    expect(demo.stdout).toMatch(/^1 +│ WRITE +│ mode=Overwrite predicate=season = '2020'/m);
    expect(demo.stdout).toMatch(/^0 +│ CREATE TABLE /m);
  });

  it('ends with the lake root and the next commands, and leaves a lake.duckdb a plain DuckDB reads', async () => {
    expect(demo.stdout).toMatch(new RegExp(`^done in \\d+\\.\\d s\\. Lake root: ${path.join(dir, 'tables').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    expect(demo.stdout).toContain(`  export LAKE_ROOT=${path.join(dir, 'tables')}\n`);
    expect(demo.stdout).toContain('  lake sql --file sql/queries/qb_cpoe_vs_epa.sql\n');
    expect(existsSync(path.join(dir, '.sample-server'))).toBe(false);
    const db = await openEngine({ path: path.join(dir, 'tables', 'lake.duckdb') });
    try {
      const [row] = await db.rows<{ n: bigint }>('SELECT count(*) AS n FROM gold.fact_game');
      expect(Number(row!.n)).toBe(586);
    } finally {
      db.close();
    }
  });
});
