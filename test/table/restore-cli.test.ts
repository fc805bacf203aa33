import { beforeAll, describe, expect, it } from 'vitest';
import { resolveTable, writeTable } from '../../src/table/index.js';
import { cliError, describeChild } from '../helpers/child.js';
import { cliLake } from '../helpers/temp-lake.js';
import { commitVersions, readRows } from '../helpers/lake.js';

/** `lake restore` and `lake rollback` as a user runs them: real processes, exit codes, JSON and text output. */
const env = cliLake('lake-restore-cli');
const { cli } = env;

beforeAll(async () => {
  const { lake } = env;
  const write = (table: string, runId: string, sql: string, mode: 'append' | 'replace' = 'append') =>
    writeTable(lake, { table: resolveTable(lake, table), source: sql, mode, partitionBy: ['season'], commitMetadata: { run_id: runId } });
  await write('silver.games', 'run-a', 'SELECT i AS id, 2023 + i % 2 AS season FROM range(0, 6) r(i)');
  await write('silver.games', 'run-b', 'SELECT 100 AS id, 2024 AS season', 'replace');
  await write('gold.totals', 'run-a', 'SELECT 2023 AS season, 6 AS games');
  await write('gold.totals', 'run-b', 'SELECT 2024 AS season, 1 AS games');
  await write('gold.totals', 'run-c', 'SELECT 2025 AS season, 0 AS games');
});

describe('lake restore / rollback (real process)', () => {
  it('restore --version, --dry-run, --json; usage errors exit 2', async () => {
    const dry = await cli('restore', 'silver.games', '--version', '0', '--dry-run');
    expect(dry.code, describeChild(dry)).toBe(0);
    expect(dry.stdout).toMatch(/^silver\.games: would restore version 0 on top of version 1: \+1 file .*, -1 file /);
    expect(await commitVersions(resolveTable(env.lake, 'silver.games').tableRoot)).toEqual([0, 1]);
    const done = await cli('restore', 'silver.games', '--version', '0', '--json');
    expect(done.code, describeChild(done)).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ status: 'committed', version: 2, restoredVersion: 0, metrics: { numRestoredFiles: 1, numRemovedFiles: 1 } });
    expect(await readRows(env.lake, resolveTable(env.lake, 'silver.games').tableRoot)).toHaveLength(6);

    const none = await cli('restore', 'silver.games', '--json');
    expect([none.code, cliError(none).code], describeChild(none)).toEqual([2, 'USAGE']);
  });

  it('rollback --dry-run shows the plan; a blocked rollback exits 4; --force rolls back; a rerun is a no-op', async () => {
    const plan = await cli('rollback', '--run', 'run-b', '--dry-run');
    expect(plan.code, describeChild(plan)).toBe(0);
    expect(plan.stdout).toContain('plan for rollback of run run-b (dry run: nothing is committed)');
    expect(plan.stdout).toMatch(/gold\.totals\s+run commits v1; at v2: BLOCKED by later commits v2 \(run-c\)/);
    // The restore above already took silver.games back to its pre-run version: nothing to undo there.
    expect(plan.stdout).toMatch(/silver\.games\s+run commits v1; at v2: already rolled back, nothing to do/);

    const blocked = await cli('rollback', '--run', 'run-b', '--json');
    expect([blocked.code, cliError(blocked).code]).toEqual([4, 'DELTA_COMMIT_CONFLICT']);
    expect(cliError(blocked).message).toContain('gold.totals (versions 2 by run-c)');

    const forced = await cli('rollback', '--run', 'run-b', '--force');
    expect(forced.code, describeChild(forced)).toBe(0);
    expect(forced.stdout).toMatch(/gold\.totals\s+run commits v1; at v2: restored to version 0 as v3 \(\+0 files, -2 files\); also undoes v2/);
    const again = await cli('rollback', '--run', 'run-b', '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'noop', tables: [{ action: 'already-rolled-back' }, { action: 'already-rolled-back' }] });
  });
});
