import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOG_DIR, decodeAddPath } from '../../../src/delta/index.js';
import { runQuery, writeTable, type Lake } from '../../../src/table/index.js';
import { CLI_CHILD, READER_CHILD, WRITER_CHILD, cliError, commitGateEnv, describeChild, jsonLines, runTogether, startTogether, type ChildResult } from '../../helpers/child.js';
import { cliLake } from '../../helpers/temp-lake.js';
import { checkpointVersions, commitActions, commitVersions, range, readRows, sqlValue, valuesSource } from '../../helpers/lake.js';
import { rowObjects } from '../../helpers/rows.js';
import { subdir } from '../../helpers/temp-dir.js';

/**
 * Optimistic concurrency (docs/design.md decisions 2 and 3) with real processes. Children start
 * together behind a barrier; "gated" rounds additionally hold every child at its first commit
 * link until all are there, so they deterministically race for the same version.
 */

const APPEND_COLUMNS = [
  { name: 'writer', type: 'VARCHAR' },
  { name: 'seq', type: 'INTEGER' },
  { name: 'i', type: 'INTEGER' },
];
const REPLACE_COLUMNS = [
  { name: 'p', type: 'VARCHAR' },
  { name: 'writer', type: 'VARCHAR' },
  { name: 'round', type: 'INTEGER' },
  { name: 'i', type: 'INTEGER' },
];

interface CliWriteResult {
  status: string;
  version: number;
  attempts: number;
}

function cliResult(r: ChildResult): CliWriteResult {
  // `lake write --json` prints one pretty-printed JSON document.
  try {
    return JSON.parse(r.stdout) as CliWriteResult;
  } catch {
    throw new Error(`no JSON result\n${describeChild(r)}`);
  }
}

/** Rows `writer` puts into partition `p` in `round`: `count` of them, tagged. */
function replaceRows(p: string, writer: string, round: number, count: number): Record<string, unknown>[] {
  return range(count).map((i) => ({ p, writer, round, i }));
}

describe('concurrent writers (real processes)', () => {
  const env = cliLake('lake-concurrency');

  it('6 processes appending 5 times each at once: 30 contiguous commits, no lost or duplicated rows', async () => {
    const WRITERS = 6;
    const APPENDS = 5;
    const ROWS = 3;
    const base = await env.make('append');
    const root = path.join(base, 'table');
    await writeTable(env.lake, {
      table: { name: root, tableRoot: root },
      source: valuesSource(APPEND_COLUMNS, [{ writer: 'seed', seq: 0, i: 0 }]),
      mode: 'append',
      configuration: { 'delta.checkpointInterval': '4' },
    });

    const specs = range(WRITERS).map((w) => {
      const writer = `w${w}`;
      const ops = range(APPENDS).map((seq) => ({
        mode: 'append',
        source: valuesSource(APPEND_COLUMNS, range(ROWS).map((i) => ({ writer, seq, i }))),
      }));
      return { id: writer, args: [JSON.stringify({ lakeRoot: base, tableRoot: root, ops })] };
    });
    // A reader process reads the latest version over and over while the writers commit.
    const stopFile = path.join(base, 'stop-reading');
    const reader = {
      id: 'reader',
      script: READER_CHILD,
      args: [JSON.stringify({ lakeRoot: base, stopFile, sql: `SELECT count(*) AS n, count(DISTINCT writer || '/' || seq || '/' || i) AS d FROM delta_scan(${sqlValue(root)})` })],
    };
    const children = await startTogether(WRITER_CHILD, [...specs, reader], await subdir(base, 'barrier'));
    const results = await Promise.all(children.slice(0, WRITERS).map((c) => c.done));
    await writeFile(stopFile, '');
    const readerResult = await children.at(-1)!.done;

    const committed: { writer: string; version: number; attempts: number }[] = [];
    for (const r of results) {
      expect(r.code, describeChild(r)).toBe(0);
      const lines = jsonLines<{ status: string; version: number; attempts: number }>(r.stdout);
      expect(lines.map((l) => l.status), describeChild(r)).toEqual(range(APPENDS).map(() => 'committed'));
      for (const l of lines) committed.push({ writer: r.id, version: l.version, attempts: l.attempts });
    }
    const total = WRITERS * APPENDS;
    // Every writer's commit got its own version, and together they fill 1..30 without holes.
    expect(committed.map((c) => c.version).sort((a, b) => a - b)).toEqual(range(total).map((v) => v + 1));
    expect(await commitVersions(root)).toEqual(range(total + 1));
    for (const v of range(total).map((n) => n + 1)) {
      const actions = await commitActions(root, v);
      expect(actions.filter((a) => a.kind === 'add')).toHaveLength(1);
      expect(actions.filter((a) => a.kind === 'remove' || a.kind === 'metaData' || a.kind === 'protocol')).toHaveLength(0);
    }
    // The writer that committed a multiple of 4 wrote its checkpoint, concurrently with the others.
    expect(await checkpointVersions(root)).toEqual(range(total + 1).filter((v) => v > 0 && v % 4 === 0));

    // Every version is readable and holds the seed plus ROWS rows per commit so far.
    for (const v of range(total + 1)) {
      const rows = await readRows(env.lake, root, v);
      expect(rows, `version ${v}`).toHaveLength(1 + ROWS * v);
    }
    const final = await readRows(env.lake, root);
    const keys = final.map((r) => `${String(r['writer'])}/${String(r['seq'])}/${String(r['i'])}`);
    expect(new Set(keys).size).toBe(keys.length);
    const expected = ['seed/0/0', ...range(WRITERS).flatMap((w) => range(APPENDS).flatMap((s) => range(ROWS).map((i) => `w${w}/${s}/${i}`)))];
    expect(keys.sort()).toEqual(expected.sort());

    // Every read saw a whole version: the seed plus whole commits, no row twice, versions never going back.
    expect(readerResult.code, describeChild(readerResult)).toBe(0);
    const reads = jsonLines<{ version: number; row: { n: number; d: number } }>(readerResult.stdout);
    expect(reads.length).toBeGreaterThan(0);
    for (const [k, read] of reads.entries()) {
      expect(read.row, `read ${k} of version ${read.version}`).toEqual({ n: 1 + ROWS * read.version, d: 1 + ROWS * read.version });
      if (k > 0) expect(read.version).toBeGreaterThanOrEqual(reads[k - 1]!.version);
    }

    // The CLI reads the same table through `lake sql`.
    const sql = await env.cli(
      'sql',
      `SELECT count(*) AS n, count(DISTINCT writer || '/' || seq || '/' || i) AS d FROM delta_scan(${sqlValue(root)})`,
      '--format',
      'json',
    );
    expect(sql.code, describeChild(sql)).toBe(0);
    expect(jsonLines(sql.stdout)).toEqual([{ n: 1 + total * ROWS, d: 1 + total * ROWS }]);
  }, 120_000);

  it('two processes replacing the same partition at once: one wins, the other fails with DELTA_COMMIT_CONFLICT (exit 4), never a mix', async () => {
    const base = await env.make('replace-same');
    const root = path.join(base, 'table');
    await writeTable(env.lake, {
      table: { name: root, tableRoot: root },
      source: valuesSource(REPLACE_COLUMNS, [...replaceRows('shared', 'init', 0, 1), ...replaceRows('other', 'init', 0, 2)]),
      mode: 'append',
      partitionBy: ['p'],
    });
    const SIZE: Record<string, number> = { init: 1, A: 2, B: 3 };
    const ROUNDS = 8;
    let version = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      // Odd rounds: both children held at their commit link, a guaranteed race for one version.
      const gated = round % 2 === 1;
      const gate = gated ? commitGateEnv(await subdir(base, `gate-${round}`), 2) : {};
      const specs = ['A', 'B'].map((writer) => ({
        id: writer,
        args: ['write', root, '--from', valuesSource(REPLACE_COLUMNS, replaceRows('shared', writer, round, SIZE[writer]!)), '--mode', 'replace', '--json'],
        env: gate,
      }));
      const results = await runTogether(CLI_CHILD, specs, await subdir(base, `barrier-${round}`));
      const winners = results.filter((r) => r.code === 0);
      const losers = results.filter((r) => r.code !== 0);
      for (const r of losers) {
        expect(r.code, describeChild(r)).toBe(4);
        expect(cliError(r), describeChild(r)).toMatchObject({ code: 'DELTA_COMMIT_CONFLICT', exitCode: 4 });
      }
      expect(winners.length, results.map(describeChild).join('\n')).toBeGreaterThanOrEqual(1);
      if (gated) {
        expect(winners, results.map(describeChild).join('\n')).toHaveLength(1);
        expect(cliError(losers[0]!).message, describeChild(losers[0]!)).toContain('changed partition ["shared"]');
      }
      const outcomes = winners.map((r) => ({ writer: r.id, ...cliResult(r) })).sort((a, b) => a.version - b.version);
      expect(outcomes.map((o) => o.version)).toEqual(range(outcomes.length).map((i) => version + 1 + i));
      // A second success is only allowed for a writer that read the first one's commit: it must
      // have committed on its first attempt, never by retrying over a same-partition conflict.
      if (outcomes.length === 2) expect(outcomes[1]!.attempts).toBe(1);
      version += outcomes.length;

      const last = outcomes.at(-1)!;
      expect(await partitionGroups(env.lake, root, undefined)).toEqual({
        shared: [{ writer: last.writer, round, n: SIZE[last.writer] }],
        other: [{ writer: 'init', round: 0, n: 2 }],
      });
    }

    // Every version is readable, and in each one the partition holds exactly one writer's rows.
    expect(await commitVersions(root)).toEqual(range(version + 1));
    for (const v of range(version + 1)) {
      const groups = await partitionGroups(env.lake, root, v);
      expect(groups['shared'], `version ${v}`).toHaveLength(1);
      const [only] = groups['shared']!;
      expect(only!.n, `version ${v}`).toBe(SIZE[only!.writer as string]);
      expect(groups['other']).toEqual([{ writer: 'init', round: 0, n: 2 }]);
    }
    // A writer that lost removed the data files it had written: every file on disk is in the log.
    expect(await dataFilesOnDisk(root)).toEqual(await dataFilesInLog(root, version));
  }, 150_000);

  it('two processes creating the same table at once: one creates it, the other fails with DELTA_COMMIT_CONFLICT and leaves no files', async () => {
    const base = await env.make('create');
    const root = path.join(base, 'table');
    const gate = commitGateEnv(await subdir(base, 'gate'), 2);
    const specs = ['A', 'B'].map((writer) => ({
      id: writer,
      args: ['write', root, '--from', valuesSource(REPLACE_COLUMNS, [...replaceRows('x', writer, 0, 2), ...replaceRows('y', writer, 0, 1)]), '--partition-by', 'p', '--json'],
      env: gate,
    }));
    const results = await runTogether(CLI_CHILD, specs, await subdir(base, 'barrier'));
    const winners = results.filter((r) => r.code === 0);
    const [loser] = results.filter((r) => r.code !== 0);
    expect(winners, results.map(describeChild).join('\n')).toHaveLength(1);
    expect(loser!.code, describeChild(loser!)).toBe(4);
    expect(cliError(loser!), describeChild(loser!)).toMatchObject({ code: 'DELTA_COMMIT_CONFLICT', exitCode: 4 });
    expect(cliResult(winners[0]!)).toMatchObject({ status: 'committed', version: 0 });
    expect(await commitVersions(root)).toEqual([0]);
    expect(await partitionGroups(env.lake, root, 0)).toEqual({ x: [{ writer: winners[0]!.id, round: 0, n: 2 }], y: [{ writer: winners[0]!.id, round: 0, n: 1 }] });
    expect(await dataFilesOnDisk(root)).toEqual(await dataFilesInLog(root, 0));
  }, 60_000);

  it('processes replacing different partitions at once all succeed, retrying only the commit', async () => {
    const base = await env.make('replace-different');
    const root = path.join(base, 'table');
    const writers = ['x', 'y', 'z'];
    await writeTable(env.lake, {
      table: { name: root, tableRoot: root },
      source: valuesSource(REPLACE_COLUMNS, [...writers.flatMap((p) => replaceRows(p, 'init', 0, 1)), ...replaceRows('other', 'init', 0, 2)]),
      mode: 'append',
      partitionBy: ['p'],
    });
    const ROUNDS = 3;
    let version = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const gated = round % 2 === 1;
      const gate = gated ? commitGateEnv(await subdir(base, `gate-${round}`), writers.length) : {};
      const specs = writers.map((p, w) => ({
        id: p,
        args: ['write', root, '--from', valuesSource(REPLACE_COLUMNS, replaceRows(p, p, round, w + 1)), '--mode', 'replace', '--json'],
        env: gate,
      }));
      const results = await runTogether(CLI_CHILD, specs, await subdir(base, `barrier-${round}`));
      for (const r of results) expect(r.code, describeChild(r)).toBe(0);
      const outcomes = results.map(cliResult);
      expect(outcomes.map((o) => o.version).sort((a, b) => a - b)).toEqual(writers.map((_, i) => version + 1 + i));
      // Held at the gate, all three prepared against the same version: one commit went through
      // first time, the other two lost the race, re-checked the winners and went on top.
      if (gated) {
        const attempts = outcomes.map((o) => o.attempts).sort();
        expect(attempts[0]).toBe(1);
        expect(attempts.slice(1).every((a) => a >= 2), `attempts ${attempts.join(', ')}`).toBe(true);
      }
      version += writers.length;

      const groups = await partitionGroups(env.lake, root, undefined);
      expect(groups).toEqual({
        ...Object.fromEntries(writers.map((p, w) => [p, [{ writer: p, round, n: w + 1 }]])),
        other: [{ writer: 'init', round: 0, n: 2 }],
      });
      // Each commit removed exactly the one file its partition had before.
      for (const v of range(writers.length).map((i) => version - i)) {
        const actions = await commitActions(root, v);
        expect(actions.filter((a) => a.kind === 'remove')).toHaveLength(1);
        expect(actions.filter((a) => a.kind === 'add')).toHaveLength(1);
      }
    }
    expect(await commitVersions(root)).toEqual(range(version + 1));
    for (const v of range(version + 1)) await expect(readRows(env.lake, root, v)).resolves.toBeDefined();
  }, 120_000);
});

/** Per partition: which (writer, round) rows it holds and how many, sorted. */
async function partitionGroups(lake: Lake, root: string, version: number | undefined): Promise<Record<string, Record<string, unknown>[]>> {
  const at = version === undefined ? '' : `, version => ${version}`;
  const result = await runQuery(lake, `SELECT p, writer, round, count(*) AS n FROM delta_scan(${sqlValue(root)}${at}) GROUP BY ALL ORDER BY ALL`);
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const { p, ...rest } of rowObjects(result.columns, result.rows)) (out[p as string] ??= []).push(rest);
  return out;
}

/** Data files under the table root (relative paths), sorted. */
async function dataFilesOnDisk(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true });
  return entries.filter((n) => n.endsWith('.parquet') && !n.startsWith(LOG_DIR)).sort();
}

/** Every data file any commit up to `latest` added (relative paths), sorted. */
async function dataFilesInLog(root: string, latest: number): Promise<string[]> {
  const paths = new Set<string>();
  for (const v of range(latest + 1)) {
    for (const a of await commitActions(root, v)) if (a.kind === 'add') paths.add(decodeAddPath(a.add.path));
  }
  return [...paths].sort();
}
