import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { sinceDate } from '../../src/cli/ingest-commands.js';
import { runIngest } from '../../src/pipeline/index.js';
import { catalog, sampleLake, TODAY, type SampleLake } from '../helpers/sample-lake.js';
import { startUpstreamServer, type UpstreamServer } from '../helpers/upstream-server.js';

/**
 * The seed's ingest and promote flags: `--since YYYY-MM-DD` (only upstream files changed since
 * then, by Last-Modified / If-Modified-Since against the local upstream server), `--force-rewrite`
 * (the seed's name for --force) and `--no-validate` (quality gates reported, not enforced, and
 * recorded in the commit, the report and the run log).
 */
const TEAMS = 'nflverse/teams/teams_colors_logos.parquet';
const WIN_TOTALS = 'mrcaseb/data/historical_win_totals.csv';

let server: UpstreamServer;
let dir: string;
const cleanup: (() => void)[] = [];

beforeAll(async () => {
  server = await startUpstreamServer();
  dir = mkdtempSync(path.join(tmpdir(), 'ingest-flags-'));
});
afterAll(async () => {
  for (const c of cleanup) c();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function lake(prefix: string): Promise<SampleLake> {
  const env = await sampleLake(server, prefix);
  cleanup.push(() => env.close());
  return env;
}

/** Runs the CLI in process against `env`'s folders; exit code and what it printed. */
function cli(env: SampleLake, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return runCliInProcess(args, { LAKE_ROOT: env.settings.root, LAKE_LOGS_DIR: env.settings.logsDir, LAKE_RAW_DIR: env.settings.rawDir, LAKE_CATALOG: 'catalog/datasets.yml', ...server.env() });
}

/** The Last-Modified the local upstream sends for a file now. */
async function lastModified(key: string): Promise<number> {
  const [upstream, ...rest] = key.split('/');
  const response = await fetch(`${server.baseUrls[upstream!]}/${rest.join('/')}`);
  await response.arrayBuffer();
  return Date.parse(response.headers.get('last-modified')!);
}

function ingest(env: SampleLake, since: Date, datasets = ['teams', 'win_totals']) {
  return runIngest({ catalog, settings: env.settings, command: 'update', datasets, seasons: { from: 2020, to: 2020 }, since, today: TODAY, clock: env.clock, lake: env.lake });
}

describe('--since', () => {
  it('a new lake asks with If-Modified-Since and commits only the files changed since then; the others are notices', async () => {
    const env = await lake('since-new');
    const winTotals = await lastModified(WIN_TOTALS);
    server.setFile(TEAMS, await server.renderParquet(TEAMS, { timestamp: '2026-02-11 08:30:00 EST' }));
    // teams now has a new version, a minute or more after win_totals' (the server's clock moves a minute per version).
    const teams = await lastModified(TEAMS);
    expect(teams).toBeGreaterThan(winTotals);
    const since = new Date((winTotals + teams) / 2);
    const before = server.requests.length;
    const result = await ingest(env, since);
    expect(result.failures).toBe(0);
    const by = Object.fromEntries(result.datasets.map((d) => [d.dataset, d]));
    expect(by['teams']!.commits).toBe(1);
    expect(by['win_totals']!.commits).toBe(0);
    expect(by['win_totals']!.notices).toEqual([expect.stringMatching(/^data\/historical_win_totals\.csv: not changed upstream since 2026-02-11: skipped \(--since\)$/)]);
    const asked = server.requests.slice(before);
    expect(asked.map((r) => [r.key, r.status, r.conditional]).sort()).toEqual([
      [WIN_TOTALS, 304, true],
      [TEAMS, 200, true],
    ].sort());
    expect(await env.version('bronze.win_totals')).toBeUndefined();
    const log = readFileSync(path.join(env.settings.logsDir, readdirSync(env.settings.logsDir)[0]!), 'utf8');
    expect(log).toMatch(new RegExp(`"since":"${since.toISOString()}".*"msg":"run started"`));
  });

  it('a changed file whose Last-Modified is still older than --since is discarded, not committed', async () => {
    const env = await lake('since-older');
    const first = await ingest(env, new Date(0), ['teams']);
    expect(first.commits).toBe(1);
    server.setFile(TEAMS, await server.renderParquet(TEAMS, { timestamp: '2026-02-11 09:00:00 EST' }));
    const again = await ingest(env, new Date(Date.parse('2030-01-01T00:00:00Z')), ['teams']);
    expect(again.commits).toBe(0);
    expect(again.datasets[0]!.notices[0]).toMatch(/not changed upstream since 2030-01-01 \(Last-Modified .* GMT\): skipped \(--since\)/);
    expect(await env.version('bronze.teams')).toBe(0);
  });

  it('the CLI takes a calendar day (midnight UTC) and refuses anything else with USAGE', async () => {
    expect(sinceDate('2025-09-01').toISOString()).toBe('2025-09-01T00:00:00.000Z');
    for (const bad of ['2025-02-30', '2025-9-1', 'yesterday']) expect(() => sinceDate(bad), bad).toThrow(/--since must be a date YYYY-MM-DD/);
    const env = await lake('since-cli');
    const refused = await cli(env, ['update', '--datasets', 'teams', '--season', '2020', '--since', '2025-13-01']);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/USAGE.*--since must be a date YYYY-MM-DD, got '2025-13-01'/);
    const future = await cli(env, ['bootstrap', '--years', '2020', '--datasets', 'teams', '--since', '2100-01-01', '--json']);
    expect(future.code, future.err).toBe(0);
    expect((JSON.parse(future.out) as { commits: number }).commits).toBe(0);
    const past = await cli(env, ['bootstrap', '--years', '2020', '--datasets', 'teams', '--since', '2000-01-01', '--json']);
    expect((JSON.parse(past.out) as { commits: number }).commits).toBe(1);
  });
});

describe('--force-rewrite', () => {
  it('is --force under the seed’s name: an unchanged file is appended again', async () => {
    const env = await lake('force-rewrite');
    expect((await cli(env, ['update', '--datasets', 'teams', '--season', '2020'])).code).toBe(0);
    const same = await cli(env, ['update', '--datasets', 'teams', '--season', '2020', '--json']);
    expect((JSON.parse(same.out) as { commits: number }).commits).toBe(0);
    const forced = await cli(env, ['update', '--datasets', 'teams', '--season', '2020', '--force-rewrite', '--json']);
    expect(forced.code, forced.err).toBe(0);
    expect((JSON.parse(forced.out) as { commits: number }).commits).toBe(1);
    expect(await env.version('bronze.teams')).toBe(1);
  });
});

describe('--quality-dir with --build-gold', () => {
  it("puts the promote's quality reports of `update --build-gold` in that folder, and needs --build-gold", async () => {
    const env = await lake('build-gold-quality-dir');
    const refused = await cli(env, ['update', '--datasets', 'teams', '--season', '2020', '--quality-dir', env.reportDir]);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/--quality-dir only applies to the promote of --build-gold/);
    expect(await env.version('bronze.teams')).toBeUndefined();
    const night = await cli(env, ['update', '--datasets', 'teams', '--season', '2020', '--build-gold', '--quality-dir', env.reportDir, '--json']);
    expect(night.code, night.err).toBe(0);
    expect(await env.version('bronze.teams')).toBe(0);
    expect(await env.version('silver.teams')).toBe(0);
    expect(env.reports('teams').map((r) => r['status'])).toEqual(['committed']);
  });
});

describe('--no-validate', () => {
  it('commits a batch that fails a gate, loudly: stderr, the commit (validate: false), the report and the run log say the gates were skipped', async () => {
    const env = await lake('no-validate');
    server.setFile(TEAMS, await server.renderParquet(TEAMS, { timestamp: '2026-02-11 10:00:00 EST', sql: `SELECT * REPLACE (CASE WHEN team_abbr = 'KC' THEN 'XXX' ELSE team_abbr END AS team_abbr) FROM {source}` }));
    await env.ingest(['teams']);
    const gated = await cli(env, ['promote', '--datasets', 'teams', '--quality-dir', env.reportDir]);
    expect(gated.code).toBe(3);
    expect(await env.version('silver.teams')).toBeUndefined();
    const skipped = await cli(env, ['promote', '--datasets', 'teams', '--quality-dir', env.reportDir, '--no-validate', '--json']);
    expect(skipped.code, skipped.err).toBe(0);
    expect(skipped.err).toMatch(/^warning: --no-validate: quality gates are NOT enforced in run \S+/);
    expect(await env.version('silver.teams')).toBe(0);
    expect(await env.count(`SELECT count(*) FROM silver.teams WHERE team_abbr = 'XXX'`)).toBeGreaterThan(0);
    const info = await env.commitInfo('silver.teams');
    expect(info).toMatchObject({ validate: false, promote: { quality: { quality_gates: 'skipped' } } });
    expect((info['promote'] as { quality: { failed: number } }).quality.failed).toBeGreaterThan(0);
    const report = env.reports('teams').find((r) => r['status'] === 'committed')!;
    expect(report).toMatchObject({ quality_gates: 'skipped' });
    const runId = (JSON.parse(skipped.out) as { runId: string }).runId;
    const log = readFileSync(path.join(env.settings.logsDir, `${runId}.jsonl`), 'utf8');
    expect(log).toMatch(/"validate":false.*"msg":"quality gates skipped \(--no-validate\)/);
    expect(log).toMatch(/"dataset":"teams".*"validate":false.*"msg":"quality gate failed but not enforced \(--no-validate\)"/);
  });

  it('is never the default, and on an ingest it needs --build-gold (the only promote an ingest runs)', async () => {
    const env = await lake('no-validate-usage');
    const refused = await cli(env, ['update', '--datasets', 'teams', '--season', '2020', '--no-validate']);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/--no-validate only applies to the promote of --build-gold/);
    expect(await env.version('bronze.teams')).toBeUndefined();
  });
});
