import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_DIR } from '../../../src/delta/index.js';
import { openLake, resolveTable, tableSnapshot } from '../../../src/table/index.js';
import { describeChild, requireBuild, runCliProcess, type ChildResult } from '../../helpers/child.js';
import { committedPaths, readRows } from '../../helpers/lake.js';
import { routeKey } from '../../helpers/sample-lake.js';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';

/**
 * A promote killed (SIGKILL, a real child process) after it merged a partition's new batch into
 * the partition's final data file but before its commit (fault point `write.data-files`): silver
 * stays readable at its last version with its old rows; the merged file is left in the table
 * folder, uncommitted (no commit adds it) — our own file, which the rerun ignores and `lake
 * vacuum` removes; the rerun commits the merge.
 */
let server: UpstreamServer;
let dir: string;
const PBP = routeKey('pbp', 2020);

function env(fault?: string): Record<string, string | undefined> {
  return { LAKE_ROOT: path.join(dir, 'tables'), LAKE_RAW_DIR: path.join(dir, 'raw'), LAKE_LOGS_DIR: path.join(dir, 'logs'), LAKE_CATALOG: 'catalog/datasets.yml', LAKE_FAULTPOINT: fault, ...server.env() };
}

async function ok(args: string[]): Promise<ChildResult> {
  const r = await runCliProcess(args, { env: env() });
  expect(r.code, describeChild(r)).toBe(0);
  return r;
}

/** silver.pbp's version, rows, and the sum and count of yards_gained (what the new batch changes). */
async function silverState(): Promise<{ version: number; rows: number; yards: number; yardRows: number }> {
  const lake = await openLake({ root: path.join(dir, 'tables'), threads: 1 });
  try {
    const table = resolveTable(lake, 'silver.pbp');
    const snapshot = await tableSnapshot(lake, table);
    const [row] = await readRows(lake, table.tableRoot, undefined, 'count(*) AS n, sum(yards_gained) AS y, count(yards_gained) AS c');
    return { version: snapshot.version, rows: Number(row!['n']), yards: Number(row!['y']), yardRows: Number(row!['c']) };
  } finally {
    lake.close();
  }
}

/** Parquet files in silver.pbp's folder that no commit of its log adds. */
async function uncommitted(): Promise<string[]> {
  const root = path.join(dir, 'tables', 'silver', 'pbp');
  const added = await committedPaths(root);
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory() && child !== LOG_DIR) walk(child);
      else if (e.isFile() && e.name.endsWith('.parquet') && !added.has(child)) out.push(child);
    }
  };
  walk('');
  return out.sort();
}

beforeAll(async () => {
  requireBuild();
  server = await startUpstreamServer();
  dir = mkdtempSync(path.join(tmpdir(), 'promote-merge-crash-'));
  await ok(['update', '--datasets', 'pbp', '--season', '2020']);
  await ok(['promote', '--datasets', 'pbp']);
  // A re-published season: every play's yards_gained corrected; the next promote merges it into season=2020.
  server.setFile(PBP, await server.renderParquet(PBP, { timestamp: '2026-11-26 08:00:00 EST', sql: 'SELECT * REPLACE (yards_gained + 1 AS yards_gained) FROM {source}' }));
  await ok(['update', '--datasets', 'pbp', '--season', '2020']);
}, 300_000);

afterAll(async () => {
  await server?.close();
  if (dir && !process.env['KEEP_TEST_DIRS']) rmSync(dir, { recursive: true, force: true });
});

describe('a promote killed between its merged final file and its commit', () => {
  it('leaves silver at its last version (old rows, readable) and only its own uncommitted file; the rerun commits; vacuum removes the file', async () => {
    const before = await silverState();
    expect(await uncommitted()).toEqual([]);

    const killed = await runCliProcess(['promote', '--datasets', 'pbp'], { env: env('write.data-files') });
    expect(killed.signal, `the promote must reach write.data-files\n${describeChild(killed)}`).toBe('SIGKILL');
    expect(await silverState()).toEqual(before);
    // The merged partition's file, written into its final place and never committed.
    const left = await uncommitted();
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^season=2020\/part-[0-9a-f]{8}-/);

    await ok(['promote', '--datasets', 'pbp']);
    const after = await silverState();
    expect(after).toEqual({ ...before, version: before.version + 1, yards: before.yards + before.yardRows });
    expect(await uncommitted()).toEqual(left);

    await ok(['vacuum', 'silver.pbp', '--retain-hours', '0', '--force']);
    expect(await uncommitted()).toEqual([]);
    expect(await silverState()).toEqual(after);
  });
});
