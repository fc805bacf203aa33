import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLake, tableHistory, resolveTable, type Lake } from '../../src/table/index.js';
import { canonical, type Answer } from './normalize.js';
import { announceSkip, oracleReadAll, oracleWrite, type OracleAnswer, type OracleScenario, type OracleWrite } from './oracle.js';
import { ourAnswer } from './tables.js';

/**
 * Tables delta-rs writes (create, append, overwrite, overwrite with a predicate, delete, optimize,
 * a checkpoint part-way; test/interop/oracles/write_table.py) are read by OUR reader at every
 * version, and each answer equals delta-rs's own answer row for row (and DuckDB's delta extension
 * agrees with both).
 */
const skip = announceSkip('tables delta-rs writes, read by our reader');

const SCENARIOS: OracleScenario[] = ['types', 'partitioned-string', 'partitioned-int'];

let root: string;
let lake: Lake;
const written = new Map<OracleScenario, { write: OracleWrite; deltalake: OracleAnswer[]; duckdb: OracleAnswer[] }>();

beforeAll(async () => {
  if (skip) return;
  root = mkdtempSync(path.join(tmpdir(), 'lake-interop-theirs-'));
  lake = await openLake({ root });
  await Promise.all(
    SCENARIOS.map(async (scenario) => {
      const write = await oracleWrite(path.join(root, scenario), scenario);
      const [deltalake, duckdb] = await Promise.all([oracleReadAll(write.path, 'deltalake'), oracleReadAll(write.path, 'duckdb')]);
      written.set(scenario, { write, deltalake, duckdb });
    }),
  );
});

afterAll(() => {
  lake?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

function expectSame(reader: string, scenario: string, version: number, got: Answer, want: Answer): void {
  const a = canonical(got);
  const b = canonical(want);
  expect.soft(a.columns, `${reader} columns, ${scenario} v${version}`).toEqual(b.columns);
  expect.soft(a.rows.length, `${reader} row count, ${scenario} v${version}`).toBe(b.rows.length);
  expect.soft(a.rows, `${reader} rows, ${scenario} v${version}`).toEqual(b.rows);
}

describe.skipIf(skip).each(SCENARIOS)('a table delta-rs writes, scenario %s', (scenario) => {
  it('has the versions write_table.py reports, with a checkpoint part-way', () => {
    const { write, deltalake } = written.get(scenario)!;
    const last = write.commits[write.commits.length - 1]!.version;
    expect(deltalake.map((a) => a.version)).toEqual(Array.from({ length: last + 1 }, (_, v) => v));
    expect(write.checkpoint).toBeGreaterThan(0);
    expect(write.checkpoint).toBeLessThan(last);
    expect(deltalake[last]!.rows.length).toBeGreaterThan(0);
  });

  it('is read by our reader at every version with the rows delta-rs reads', async () => {
    const { write, deltalake } = written.get(scenario)!;
    for (const want of deltalake) {
      const ours = await ourAnswer(lake, write.path, want.version);
      expectSame('our reader vs delta-rs', scenario, want.version, ours, want);
      expect.soft(ours.columns, `our column order, v${want.version}`).toEqual(want.columns);
    }
  });

  it("agrees with DuckDB's delta extension at every version (the two oracles agree with each other)", () => {
    const { deltalake, duckdb } = written.get(scenario)!;
    expect(duckdb.map((a) => a.version)).toEqual(deltalake.map((a) => a.version));
    for (const want of deltalake) expectSame('duckdb extension vs delta-rs', scenario, want.version, duckdb[want.version]!, want);
  });

  it("lists delta-rs's commits in our history", async () => {
    const { write } = written.get(scenario)!;
    const history = await tableHistory(lake, resolveTable(lake, write.path));
    expect(history.map((h) => h.version).sort((a, b) => a - b)).toEqual(write.commits.map((c) => c.version));
  });
});
