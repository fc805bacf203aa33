import { beforeAll, describe, expect, it } from 'vitest';
import { resolveTable, tableSnapshot, writeTable } from '../../src/table/index.js';
import { describeChild } from '../helpers/child.js';
import { readRows } from '../helpers/lake.js';
import { canonicalRows } from '../helpers/rows.js';
import { cliLake } from '../helpers/temp-lake.js';

/** `lake optimize` as a user runs it (real process, the repository's catalog): dry run, every table, --where, the catalog's sort_by. */
const env = cliLake('lake-optimize-cli');
const { cli } = env;

function plays(batch: number): string {
  return `SELECT season, 'g' || CAST((i * 31 + ${batch}) % 17 AS VARCHAR) AS game_id, i * 10 + ${batch} AS play_id, ${batch} AS batch FROM range(20) t(i), (SELECT unnest([2023, 2024]) AS season)`;
}

beforeAll(async () => {
  const { lake } = env;
  // silver.pbp is in catalog/datasets.yml: sort_by [game_id, play_id].
  for (const name of ['silver.pbp', 'silver.other']) {
    const table = resolveTable(lake, name);
    for (let b = 0; b < 3; b++) await writeTable(lake, { table, source: plays(b), mode: 'append', partitionBy: ['season'] });
  }
});

interface Metrics {
  table: string;
  status: string;
  version?: number;
  sortBy: string[];
  numFilesRemoved: number;
  numFilesAdded: number;
  partitions: { partition: Record<string, string | null> }[];
}

describe('lake optimize (real process)', () => {
  it('--dry-run --json lists every table\'s rewrite and commits nothing', async () => {
    const dry = await cli('optimize', '--dry-run', '--json');
    expect(dry.code, describeChild(dry)).toBe(0);
    const metrics = JSON.parse(dry.stdout) as Metrics[];
    expect(metrics.map((m) => [m.table, m.status, m.numFilesRemoved, m.numFilesAdded])).toEqual([
      ['silver.other', 'dry-run', 6, 2],
      ['silver.pbp', 'dry-run', 6, 2],
    ]);
    expect(metrics.find((m) => m.table === 'silver.pbp')!.sortBy).toEqual(['game_id', 'play_id']);
    expect((await tableSnapshot(env.lake, resolveTable(env.lake, 'silver.pbp'))).version).toBe(2);
  });

  it('--where rewrites only the selected partitions; the table reads the same rows; a bad predicate is exit 2', async () => {
    const table = resolveTable(env.lake, 'silver.pbp');
    const before = canonicalRows(await readRows(env.lake, table.tableRoot));
    const run = await cli('optimize', 'silver.pbp', '--where', 'season = 2024');
    expect(run.code, describeChild(run)).toBe(0);
    expect(run.stdout).toContain('rewrote silver.pbp season=2024: 3 files');
    const snapshot = await tableSnapshot(env.lake, table);
    expect(snapshot.files.filter((f) => f.partitionValues['season'] === '2024')).toHaveLength(1);
    expect(snapshot.files.filter((f) => f.partitionValues['season'] === '2023')).toHaveLength(3);
    expect(canonicalRows(await readRows(env.lake, table.tableRoot))).toEqual(before);
    const bad = await cli('optimize', 'silver.pbp', '--where', 'batch = 1');
    expect(bad.code, describeChild(bad)).toBe(2);
    expect(bad.stderr).toContain('error [USAGE]');
  });

  it('shows the knobs and the conflict rule in --help', async () => {
    const help = await cli('optimize', '--help');
    expect(help.code).toBe(0);
    for (const text of ['--where <predicate>', '--target-file-mb <n>', '--sort-by <columns>', '--dry-run', '--json', 'DELTA_COMMIT_CONFLICT']) expect(help.stdout).toContain(text);
  });
});
