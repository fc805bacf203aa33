import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listLog } from '../../../src/delta/index.js';
import { CLI_CHILD, StartBarrier, describeChild, requireBuild, runCliProcess, startNode } from '../../helpers/child.js';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';

let server: UpstreamServer;
let dir: string;
const TEAMS = 'nflverse/teams/teams_colors_logos.parquet';

function env(root: string): Record<string, string> {
  return { LAKE_ROOT: path.join(root, 'tables'), LAKE_RAW_DIR: path.join(root, 'raw'), LAKE_LOGS_DIR: path.join(root, 'logs'), LAKE_CATALOG: 'catalog/datasets.yml', ...server.env() };
}

function fresh(name: string): string {
  const root = path.join(dir, name);
  return root;
}

beforeAll(async () => {
  requireBuild();
  server = await startUpstreamServer();
  dir = mkdtempSync(path.join(tmpdir(), 'bronze-cli-'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('lake bootstrap / update / recache-pbp (real processes, built dist/)', () => {
  it('two `lake update` runs started at once: one commits, the other refuses with LOCK_BUSY naming the holder', async () => {
    const root = fresh('race');
    const barrier = new StartBarrier(mkdtempSync(path.join(dir, 'barrier-')));
    server.fault(TEAMS, { delayMs: 1500 });
    const args = ['update', '--datasets', 'teams', '--season', '2025'];
    const children = ['a', 'b'].map((id) => startNode(CLI_CHILD, args, { id, env: { ...env(root), ...barrier.env() } }));
    await barrier.allUp(children);
    await barrier.release();
    const results = await Promise.all(children.map((c) => c.done));
    const codes = results.map((r) => r.code).sort();
    expect(codes, results.map(describeChild).join('\n')).toEqual([0, 4]);
    const loser = results.find((r) => r.code === 4)!;
    expect(loser.stderr).toMatch(/error \[LOCK_BUSY\]: another run holds the lock \S+\.lake\.lock: run \d{8}T\d{6}Z-[0-9a-f]{6} \(lake update\), pid \d+ on \S+, started \S+/);
    expect(loser.stderr).toMatch(/hint: Wait for that run to finish/);
    const log = await listLog(path.join(root, 'tables/bronze/teams'));
    expect([...log.commits.keys()]).toEqual([0]);
    expect(existsSync(path.join(root, 'raw/ingest.lock'))).toBe(false);
  });

  it('is quiet when piped, prints JSON with --json, and a second update commits nothing', async () => {
    const root = fresh('json');
    const first = await runCliProcess(['update', '--datasets', 'teams,win_totals', '--season', '2020', '--json'], { env: env(root) });
    expect(first.code, describeChild(first)).toBe(0);
    expect(first.stderr).toBe('');
    const result = JSON.parse(first.stdout) as { runId: string; commits: number; logFile: string; datasets: { dataset: string; commits: number; rows: number }[] };
    expect(result.commits).toBe(2);
    expect(result.datasets.map((d) => [d.dataset, d.rows])).toEqual([
      ['teams', 36],
      ['win_totals', 989],
    ]);
    expect(readdirSync(path.join(root, 'logs'))).toEqual([`${result.runId}.jsonl`]);
    const lines = readFileSync(result.logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l['msg'] === 'dataset finished').map((l) => [l['dataset'], l['rows'], typeof l['ms'], typeof l['bytes']])).toEqual(
      expect.arrayContaining([
        ['teams', 36, 'number', 'number'],
        ['win_totals', 989, 'number', 'number'],
      ]),
    );
    const second = await runCliProcess(['update', '--datasets', 'teams,win_totals', '--season', '2020'], { env: env(root) });
    expect(second.code, describeChild(second)).toBe(0);
    expect(second.stdout).toMatch(/bronze\.teams\s+1 unchanged/);
    expect(second.stdout).toMatch(/0 commits, 0 failures/);
  });

  it('--dry-run prints the plan and fetches nothing', async () => {
    const root = fresh('dry');
    const before = server.requests.length;
    const r = await runCliProcess(['bootstrap', '--years', '2019-2020', '--datasets', 'pbp,nextgen_stats', '--dry-run'], { env: env(root) });
    expect(r.code, describeChild(r)).toBe(0);
    expect(r.stdout).toContain('plan for lake bootstrap (dry run: nothing is fetched or written)');
    expect(r.stdout).toContain(`GET ${server.baseUrls['nflverse']}/pbp/play_by_play_2019.parquet`);
    expect(r.stdout).toContain(`GET ${server.baseUrls['nflverse']}/nextgen_stats/ngs_receiving.parquet`);
    expect(server.requests.length).toBe(before);
    expect(existsSync(path.join(root, 'tables'))).toBe(false);
    const recache = await runCliProcess(['recache-pbp', '--season', '2020', '--dry-run', '--json'], { env: env(root) });
    expect(JSON.parse(recache.stdout)).toMatchObject({ command: 'recache-pbp', datasets: [{ dataset: 'pbp', assets: [{ status: 'planned', conditional: false }] }] });
  });

  it.each([
    [['bootstrap', '--years', 'soon'], 2, /--years must be a season or a range like 1999-2024/],
    [['update', '--max-workers', '0'], 2, /--max-workers must be a positive integer/],
    [['update', '--datasets', 'pbp,nope'], 2, /\[USAGE\]: unknown dataset nope/],
    [['update', '--datasets', 'injuries', '--season', '2019'], 5, /\[INGEST_HTTP_STATUS\]: 1 of 1 datasets failed: injuries \[INGEST_HTTP_STATUS\]/],
  ])('lake %j exits %i with a clear error', async (args, code, message) => {
    const r = await runCliProcess(args, { env: env(fresh('errors')) });
    expect(r.code, describeChild(r)).toBe(code);
    expect(r.stderr).toMatch(message);
  });
});
