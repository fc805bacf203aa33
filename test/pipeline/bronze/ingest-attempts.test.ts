import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeChild, requireBuild, runCliProcess } from '../../helpers/child.js';
import { tempDirs } from '../../helpers/temp-dir.js';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';

/**
 * The per-file `attempts` of the ingest JSON (`lake update --json`) is the number of HTTP attempts
 * the download made, retries included, whether the file then committed or the run gave up.
 * Real child processes against the local upstream with injected faults.
 */
const TEAMS = 'nflverse/teams/teams_colors_logos.parquet';
const dirs = tempDirs('ingest-attempts');
let server: UpstreamServer;

interface AssetJson {
  key: string;
  status: string;
  attempts: number;
}
interface RunJson {
  datasets: { dataset: string; status: string; assets: AssetJson[]; error?: { code: string } }[];
}

async function update(): Promise<{ code: number | null; result: RunJson; describe: string }> {
  const root = await dirs.make();
  const env = { LAKE_ROOT: path.join(root, 'tables'), LAKE_RAW_DIR: path.join(root, 'raw'), LAKE_LOGS_DIR: path.join(root, 'logs'), LAKE_CATALOG: 'catalog/datasets.yml', ...server.env() };
  const r = await runCliProcess(['update', '--datasets', 'teams', '--season', '2020', '--json'], { env });
  return { code: r.code, result: JSON.parse(r.stdout) as RunJson, describe: describeChild(r) };
}

beforeAll(async () => {
  requireBuild();
  server = await startUpstreamServer();
});
afterAll(async () => {
  await server.close();
  await dirs.cleanup();
});

describe('lake update --json: per-file attempts', () => {
  it('one 503 then success: the file commits after 2 attempts', async () => {
    server.fault(TEAMS, { status: 503 });
    const { code, result, describe } = await update();
    expect(code, describe).toBe(0);
    expect(result.datasets[0]!.assets).toEqual([expect.objectContaining({ status: 'committed', attempts: 2 })]);
  });

  it('no fault: 1 attempt', async () => {
    const { code, result, describe } = await update();
    expect(code, describe).toBe(0);
    expect(result.datasets[0]!.assets).toEqual([expect.objectContaining({ status: 'committed', attempts: 1 })]);
  });

  it('503 on every attempt: the file fails after all 5 attempts (catalog max_attempts), exit 5', async () => {
    server.fault(TEAMS, ...Array.from({ length: 5 }, () => ({ status: 503, retryAfter: '0' })));
    const { code, result, describe } = await update();
    expect(code, describe).toBe(5);
    expect(result.datasets[0]).toMatchObject({ status: 'failed', error: { code: 'INGEST_HTTP_STATUS' } });
    expect(result.datasets[0]!.assets).toEqual([expect.objectContaining({ status: 'failed', attempts: 5 })]);
  });

  it('a 403 (not retried): the file fails after 1 attempt', async () => {
    server.fault(TEAMS, { status: 403 });
    const { code, result, describe } = await update();
    expect(code, describe).toBe(5);
    expect(result.datasets[0]!.assets).toEqual([expect.objectContaining({ status: 'failed', attempts: 1 })]);
  });
});
