import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine } from '../../src/engine/index.js';
import { describeChild, requireBuild, runCliProcess } from '../helpers/child.js';
import { startUpstreamServer, type UpstreamServer } from '../helpers/upstream-server.js';

let server: UpstreamServer;
let dir: string;

beforeAll(async () => {
  requireBuild();
  server = await startUpstreamServer();
  dir = mkdtempSync(path.join(tmpdir(), 'refresh-views-'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('tables/lake.duckdb follows commit runs', () => {
  it('is refreshed by an ingest run that committed, once a user created it', async () => {
    const env = { LAKE_ROOT: path.join(dir, 'tables'), LAKE_RAW_DIR: path.join(dir, 'raw'), LAKE_LOGS_DIR: path.join(dir, 'logs'), LAKE_CATALOG: 'catalog/datasets.yml', ...server.env() };
    const first = await runCliProcess(['update', '--datasets', 'teams', '--season', '2020'], { env });
    expect(first.code, describeChild(first)).toBe(0);
    const created = await runCliProcess(['duckdb'], { env });
    expect(created.code, describeChild(created)).toBe(0);
    const file = path.join(dir, 'tables', 'lake.duckdb');
    const before = statSync(file).mtimeMs;
    const second = await runCliProcess(['update', '--datasets', 'win_totals', '--season', '2020'], { env });
    expect(second.code, describeChild(second)).toBe(0);
    expect(statSync(file).mtimeMs).toBeGreaterThan(before);
    const engine = await openEngine();
    try {
      await engine.run(`ATTACH '${file}' AS lake (READ_ONLY)`);
      const views = await engine.rows<{ view_name: string; schema_name: string }>("SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = 'lake' AND NOT internal ORDER BY ALL");
      expect(views.map((v) => `${v.schema_name}.${v.view_name}`)).toEqual(expect.arrayContaining(['bronze.teams', 'bronze.win_totals']));
    } finally {
      engine.close();
    }
  });
});
