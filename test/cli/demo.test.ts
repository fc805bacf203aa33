import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine } from '../../src/engine/index.js';
import { CLI_MAIN, REPO_ROOT, describeChild, requireBuild, runCliProcess, type ChildResult } from '../helpers/child.js';

/** `lake demo` as a user runs it: a real child process of the built CLI, offline, on the shipped sample. */
let dir: string;
let demo: ChildResult;
/** PATH with a `lake` on it, as `npm link` leaves one (a wrapper of the built entry point). */
let pathWithLake: string;

beforeAll(async () => {
  requireBuild();
  dir = mkdtempSync(path.join(tmpdir(), 'demo-'));
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'lake'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI_MAIN)} "$@"\n`, { mode: 0o755 });
  pathWithLake = `${bin}${path.delimiter}${process.env['PATH'] ?? ''}`;
  // No upstream variables: the demo serves the sample itself (a wrong base URL in the environment must not matter).
  demo = await runCliProcess(['demo', '--root', dir], { env: { NFLVERSE_BASE_URL: 'http://127.0.0.1:9/unreachable', LAKE_ROOT: path.join(dir, 'elsewhere'), PATH: pathWithLake } });
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
    expect(demo.stdout).toContain('  lake history silver.pbp\n  lake lineage silver.pbp\n');
    expect(existsSync(path.join(dir, '.sample-server'))).toBe(false);
    const db = await openEngine({ path: path.join(dir, 'tables', 'lake.duckdb') });
    try {
      const [row] = await db.rows<{ n: bigint }>('SELECT count(*) AS n FROM gold.fact_game');
      expect(Number(row!.n)).toBe(586);
      // The views answer DESCRIBE / SUMMARIZE / SHOW like tables.
      const described = await db.rows<{ column_name: string }>('DESCRIBE gold.dim_player');
      expect(described.map((c) => c.column_name)).toContain('player_id');
      expect((await db.rows('SHOW gold.dim_player')).length).toBe(described.length);
      const summary = await db.rows<{ column_name: string; count: bigint }>('SUMMARIZE gold.fact_game');
      expect(Number(summary.find((c) => c.column_name === 'game_id')!.count)).toBe(586);
    } finally {
      db.close();
    }
  });

  it('ends by writing the report (lake report) and printing its path', () => {
    const page = path.join(dir, 'tables', 'report', 'index.html');
    const line = demo.stdout.trimEnd().split('\n').at(-1)!;
    expect(line).toMatch(/^Report \(history, partitions, quality, lineage; opens offline\): (.+) · \d+ KiB, built in \d+\.\d s$/);
    expect(line).toContain(page);
    const html = readFileSync(page, 'utf8');
    expect(html).toContain('data-table="gold.fact_team_week"');
    expect(html).toContain('aria-label="silver.pbp v1 → gold.fact_team_week v1"');
  });

  it('prints next steps that run as printed (from the folder it ran in, with lake on the PATH)', async () => {
    const next = demo.stdout.split('Next, from this folder:\n')[1]!.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim());
    const exported = next.find((l) => l.startsWith('export LAKE_ROOT='));
    expect(exported).toBe(`export LAKE_ROOT=${path.join(dir, 'tables')}`);
    const commands = next.filter((l) => l.startsWith('lake '));
    expect(commands.length).toBe(5);
    for (const command of commands) {
      const r = await new Promise<{ code: number; out: string }>((resolve) => {
        execFile('sh', ['-c', `${exported}; ${command}`], { cwd: REPO_ROOT, env: { ...process.env, PATH: pathWithLake } }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, out: `${stdout}${stderr}` }));
      });
      expect(r.code, `${command}\n${r.out}`).toBe(0);
      expect(r.out, command).not.toMatch(/error/i);
    }
  }, 120_000);

  it('profiles the gold marts (lake profile --layer gold), one mart with --datasets', async () => {
    const env = { LAKE_ROOT: path.join(dir, 'tables') };
    const all = await runCliProcess(['profile', '--layer', 'gold', '--json'], { env });
    expect(all.code, describeChild(all)).toBe(0);
    const run = JSON.parse(all.stdout) as { tables: { table: string; key: string[]; partitions: { rows: number; distinct_keys: number }[] }[]; missing: string[] };
    expect(run.missing).toEqual([]);
    expect(run.tables.map((t) => t.table).sort()).toEqual(['gold.dim_game', 'gold.dim_player', 'gold.dim_team', 'gold.fact_game', 'gold.fact_player_week', 'gold.fact_team_week']);
    const one = await runCliProcess(['profile', '--layer', 'gold', '--datasets', 'fact_team_week', '--json'], { env });
    expect(one.code, describeChild(one)).toBe(0);
    const [teamWeek] = (JSON.parse(one.stdout) as typeof run).tables;
    expect(teamWeek).toMatchObject({ table: 'gold.fact_team_week', key: ['season', 'week', 'team'] });
    expect(teamWeek!.partitions.reduce((n, p) => n + p.rows, 0)).toBe(1172);
    expect(teamWeek!.partitions.every((p) => p.distinct_keys === p.rows)).toBe(true);
    const unknown = await runCliProcess(['profile', '--layer', 'gold', '--datasets', 'pbp', '--json'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown gold mart pbp');
    expect(unknown.stderr).toContain('fact_team_week');
  }, 120_000);

  it.each([
    ['DESCRIBE gold.dim_player', 'column_name'],
    ['SHOW gold.dim_player', 'column_name'],
    ['DESC gold.dim_player;', 'column_name'],
    ['SUMMARIZE gold.fact_team_week', 'approx_unique'],
    ['DESCRIBE gold.fact_team_week AT (VERSION => 0)', 'column_name'],
  ])('answers %s on a lake table like DuckDB on a table', async (sql, column) => {
    const r = await runCliProcess(['sql', sql, '--json'], { env: { LAKE_ROOT: path.join(dir, 'tables') } });
    expect(r.code, describeChild(r)).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(Object.keys(rows[0]!)).toContain(column);
    const names = rows.map((row) => row['column_name']);
    expect(names).toContain(sql.includes('dim_player') ? 'player_id' : 'off_epa_per_play');
    // The columns of the table, not of a rewrite.
    expect(names.some((n) => String(n).startsWith('__'))).toBe(false);
  });
});
