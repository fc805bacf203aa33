import { randomUUID } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOG_DIR } from '../../../src/delta/index.js';
import { writeCheckpoint } from '../../../src/engine/index.js';
import { openLake, runQuery, tableSnapshot, writeTable, type Lake, type TableRef, type WriteOptions } from '../../../src/table/index.js';
import { StartBarrier, WRITER_CHILD, describeChild, jsonLines, runTogether, startNode, type ChildResult } from '../../helpers/child.js';
import { cliLake } from '../../helpers/temp-lake.js';
import { checkpointVersions, commitActions, commitVersions, range, readRows, sqlValue, valuesSource } from '../../helpers/lake.js';
import { canonicalRows, rowObjects } from '../../helpers/rows.js';
import { subdir } from '../../helpers/temp-dir.js';

/**
 * Crash safety (docs/design.md decision 2): a writer killed with SIGKILL at any point leaves the table
 * at its old version or its new one, never in between; every version stays readable; the next
 * write succeeds. Deterministic crash points come from test/fixtures/children (hooks.mjs kills the
 * child around the put-if-absent link of a commit or checkpoint; writer.mjs around data files).
 */

const COLUMNS = [
  { name: 'p', type: 'VARCHAR' },
  { name: 'writer', type: 'VARCHAR' },
  { name: 'n', type: 'INTEGER' },
];

interface Row {
  p: string;
  writer: string;
  n: number;
}

function rows(p: string, writer: string, count: number): Row[] {
  return range(count).map((n) => ({ p, writer, n }));
}

type WriteSpec = Pick<WriteOptions, 'mode' | 'source' | 'partitionBy' | 'configuration'>;

function writerArgs(base: string, root: string, ops: WriteSpec[], crash?: string): string[] {
  return [JSON.stringify({ lakeRoot: base, tableRoot: root, ops, crash })];
}

async function logNames(root: string): Promise<string[]> {
  return (await readdir(path.join(root, LOG_DIR))).sort();
}

/** Every version readable, and equal to the expected rows of that version. */
async function expectVersions(lake: Lake, root: string, models: readonly Row[][]): Promise<void> {
  expect(await commitVersions(root)).toEqual(range(models.length));
  for (const [v, model] of models.entries()) {
    expect(canonicalRows(await readRows(lake, root, v)), `version ${v}`).toEqual(canonicalRows(model));
  }
}

describe('writers killed with SIGKILL', () => {
  const env = cliLake('lake-crash');

  /** v0: a(2) b(3); v1: +a(1); checkpoint every 2 versions, so a commit of v2 checkpoints. */
  async function baseTable(name: string): Promise<{ base: string; root: string; table: TableRef; models: Row[][] }> {
    const base = await env.make(name);
    const root = path.join(base, 'table');
    const table = { name: root, tableRoot: root };
    const v0 = [...rows('a', 'init', 2), ...rows('b', 'init', 3)];
    await writeTable(env.lake, { table, source: valuesSource(COLUMNS, v0), mode: 'append', partitionBy: ['p'], configuration: { 'delta.checkpointInterval': '2' } });
    const v1 = [...v0, ...rows('a', 'second', 1)];
    await writeTable(env.lake, { table, source: valuesSource(COLUMNS, rows('a', 'second', 1)), mode: 'append' });
    return { base, root, table, models: [v0, v1] };
  }

  // The victim replaces partition b and adds partition c: one commit removing and adding files.
  const victimRows = [...rows('b', 'victim', 4), ...rows('c', 'victim', 1)];
  const victimOp: WriteSpec = { mode: 'replace', source: valuesSource(COLUMNS, victimRows) };
  const afterVictim = (old: Row[]): Row[] => [...old.filter((r) => r.p !== 'b' && r.p !== 'c'), ...victimRows];

  it.each([
    { point: 'before-data', via: 'spec', committed: false, orphanCommitTemp: false, checkpoint: false },
    { point: 'after-data', via: 'spec', committed: false, orphanCommitTemp: false, checkpoint: false },
    { point: 'before-commit-link', via: 'env', committed: false, orphanCommitTemp: true, checkpoint: false },
    { point: 'after-commit-link', via: 'env', committed: true, orphanCommitTemp: true, checkpoint: false },
    { point: 'before-checkpoint-link', via: 'env', committed: true, orphanCommitTemp: false, checkpoint: false },
    { point: 'after-checkpoint-link', via: 'env', committed: true, orphanCommitTemp: false, checkpoint: true },
  ])('killed $point: the table is at the old or the new version, and the write can be re-run', async ({ point, via, committed, orphanCommitTemp, checkpoint }) => {
    const { base, root, table, models } = await baseTable(point);
    const dataFilesBefore = await parquetFiles(root);
    const result = await startNode(WRITER_CHILD, writerArgs(base, root, [victimOp], via === 'spec' ? point : undefined), {
      id: 'victim',
      env: via === 'env' ? { CHILD_CRASH: point } : {},
    }).done;
    expect(result.signal, describeChild(result)).toBe('SIGKILL');
    expect(jsonLines(result.stdout), describeChild(result)).toContainEqual({ crash: point });

    if (committed) models.push(afterVictim(models[1]!));
    await expectVersions(env.lake, root, models);
    expect(canonicalRows(await readRows(env.lake, root))).toEqual(canonicalRows(models.at(-1)!));

    const log = await logNames(root);
    const temps = log.filter((n) => n.endsWith('.tmp'));
    // The crash left the temp file of the put-if-absent behind: readers skipped it above.
    if (orphanCommitTemp) expect(temps.some((n) => n.startsWith('.00000000000000000002.json.'))).toBe(true);
    if (point === 'before-checkpoint-link') expect(temps.some((n) => n.startsWith('.00000000000000000002.checkpoint.parquet.'))).toBe(true);
    expect(await checkpointVersions(root)).toEqual(checkpoint ? [2] : []);
    // Killed between publishing the checkpoint and updating the hint: the listing still finds it.
    if (point === 'after-checkpoint-link') expect(log).not.toContain('_last_checkpoint');
    if (point === 'after-data') {
      // Data files were written, but nothing refers to them.
      expect((await parquetFiles(root)).length).toBeGreaterThan(dataFilesBefore.length);
    }

    // Re-running the write succeeds on top of whatever the crash left.
    const rerun = await writeTable(env.lake, { table, ...victimOp });
    expect(rerun).toMatchObject({ status: 'committed', version: models.length, attempts: 1 });
    models.push(afterVictim(models.at(-1)!));
    await expectVersions(env.lake, root, models);
    // A fresh reader (its own DuckDB) agrees, whichever checkpoint it starts from.
    const fresh = await openLake({ root: base, threads: 1 });
    try {
      for (const [v, model] of models.entries()) expect(canonicalRows(await readRows(fresh, root, v))).toEqual(canonicalRows(model));
    } finally {
      fresh.close();
    }
  }, 60_000);

  it('a writer killed while others append: the others commit, the log stays contiguous, each commit is all or nothing', async () => {
    const base = await env.make('with-others');
    const root = path.join(base, 'table');
    const table = { name: root, tableRoot: root };
    await writeTable(env.lake, { table, source: valuesSource(COLUMNS, rows('seed', 'seed', 1)), mode: 'append', partitionBy: ['p'], configuration: { 'delta.checkpointInterval': '3' } });
    const appenders = ['w0', 'w1', 'w2'];
    const APPENDS = 4;
    const specs = [
      ...appenders.map((w) => ({ id: w, args: writerArgs(base, root, range(APPENDS).map((s) => ({ mode: 'append' as const, source: valuesSource(COLUMNS, rows(`${w}-${s}`, w, 2)) }))) })),
      // Dies holding a prepared commit (data files and temp commit written, never linked).
      { id: 'lost', args: writerArgs(base, root, [{ mode: 'append', source: valuesSource(COLUMNS, rows('lost', 'lost', 5)) }]), env: { CHILD_CRASH: 'before-commit-link' } },
      // Dies right after linking its commit: the commit counts, its cleanup never happens.
      { id: 'kept', args: writerArgs(base, root, [{ mode: 'append', source: valuesSource(COLUMNS, rows('kept', 'kept', 7)) }]), env: { CHILD_CRASH: 'after-commit-link' } },
    ];
    const results = await runTogether(WRITER_CHILD, specs, await subdir(base, 'barrier'));
    const byId = new Map(results.map((r) => [r.id, r]));
    for (const w of appenders) {
      const r = byId.get(w)!;
      expect(r.code, describeChild(r)).toBe(0);
      expect(jsonLines(r.stdout).filter((l) => l['status'] === 'committed'), describeChild(r)).toHaveLength(APPENDS);
    }
    for (const id of ['lost', 'kept']) expect(byId.get(id)!.signal, describeChild(byId.get(id)!)).toBe('SIGKILL');

    const latest = appenders.length * APPENDS + 1;
    expect(await commitVersions(root)).toEqual(range(latest + 1));
    // Each version = the previous one + exactly the rows its commit added: never a partial commit.
    let previous = 0;
    let keptAt: number | undefined;
    for (const v of range(latest + 1)) {
      const groups = await writerCounts(env.lake, root, v);
      const added = (await commitActions(root, v)).flatMap((a) => (a.kind === 'commitInfo' ? [Number(a.commitInfo.operationMetrics?.['numOutputRows'])] : []));
      const total = Object.values(groups).reduce((s, n) => s + n, 0);
      expect(total, `version ${v}`).toBe(previous + added[0]!);
      previous = total;
      expect(groups['lost'], `version ${v}`).toBeUndefined();
      if (groups['kept'] !== undefined) {
        expect(groups['kept'], `version ${v}`).toBe(7);
        keptAt ??= v;
      }
    }
    expect(keptAt).toBeDefined();
    expect(previous).toBe(1 + appenders.length * APPENDS * 2 + 7);

    // The lost write can be re-run.
    const rerun = await writeTable(env.lake, { table, mode: 'append', source: valuesSource(COLUMNS, rows('lost', 'lost', 5)) });
    expect(rerun).toMatchObject({ status: 'committed', version: latest + 1 });
    expect((await writerCounts(env.lake, root, undefined))['lost']).toBe(5);
  }, 90_000);

  it('SIGKILL at random moments of a sequence of writes: every version is one of the model states', async () => {
    const RUNS = 10;
    const base = await env.make('random');
    const root = path.join(base, 'table');
    const table = { name: root, tableRoot: root };
    await writeTable(env.lake, {
      table,
      source: `SELECT (i % 8)::VARCHAR AS p, 'init' AS writer, i::INTEGER AS n FROM range(1000) t(i)`,
      mode: 'append',
      partitionBy: ['p'],
      configuration: { 'delta.checkpointInterval': '4' },
    });
    // Per version: rows per partition. The model of version v is derived from the ops committed.
    const models: Map<string, number>[] = [counts(range(8).map((p) => [String(p), 125]))];

    for (let run = 0; run < RUNS; run++) {
      const ops = randomOps(run);
      const barrierDir = await subdir(base, `barrier-${run}`);
      const barrier = new StartBarrier(barrierDir);
      const child = startNode(WRITER_CHILD, writerArgs(base, root, ops.map((o) => o.spec)), { id: `run${run}`, env: barrier.env() });
      await barrier.allUp([child]);
      await barrier.release();
      const delay = Math.floor(Math.random() * 300);
            const timer = setTimeout(() => child.process.kill('SIGKILL'), delay);
      const result: ChildResult = await child.done;
      clearTimeout(timer);
      expect(result.code === 0 || result.signal === 'SIGKILL', describeChild(result)).toBe(true);

      // The child committed some prefix of its ops; the table is at one of those states.
      const before = models.length - 1;
      const versions = await commitVersions(root);
      const latest = versions.at(-1)!;
      expect(latest).toBeGreaterThanOrEqual(before);
      expect(latest).toBeLessThanOrEqual(before + ops.length);
      const done = latest - before;
      for (const op of ops.slice(0, done)) models.push(op.apply(models.at(-1)!));
      for (const v of range(done + 1).map((i) => before + i)) {
        expect(await partitionCounts(env.lake, root, v), `run ${run} (killed after ${delay} ms), version ${v}`).toEqual(models[v]);
      }
      // Re-running the interrupted write (if any) succeeds.
      const next = ops[done];
      if (next) {
        const rerun = await writeTable(env.lake, { table, ...next.spec });
        expect(rerun).toMatchObject({ status: 'committed', version: latest + 1 });
        models.push(next.apply(models.at(-1)!));
        expect(await partitionCounts(env.lake, root, latest + 1)).toEqual(models.at(-1));
      }
    }
    // Every version of the whole history is still readable and right.
    expect(await commitVersions(root)).toEqual(range(models.length));
    for (const [v, model] of models.entries()) expect(await partitionCounts(env.lake, root, v), `version ${v}`).toEqual(model);
  }, 150_000);

  it('a checkpoint that fails after the commit neither fails the write nor removes the files it committed', async () => {
    const { root, table, models } = await baseTable('checkpoint-fails');
    // A damaged `_last_checkpoint` (a directory): the checkpoint of version 2 fails while updating it.
    await mkdir(path.join(root, LOG_DIR, '_last_checkpoint'));
    const result = await writeTable(env.lake, { table, ...victimOp });
    expect(result).toMatchObject({ status: 'committed', version: 2, checkpointed: false });
    models.push(afterVictim(models[1]!));
    await expectVersions(env.lake, root, models);
  }, 60_000);

  it('orphan temp files in _delta_log are ignored by readers, and the next commit and checkpoint succeed', async () => {
    const { root, table, models } = await baseTable('orphans');
    const logRoot = path.join(root, LOG_DIR);
    const bogusAdd = JSON.stringify({ add: { path: 'p=z/part-bogus.parquet', partitionValues: { p: 'z' }, size: 1, modificationTime: 0, dataChange: true } });
    const orphans = {
      [`.00000000000000000002.json.${randomUUID()}.tmp`]: '{"commitInfo":{"operation":"WRITE"}}\n' + bogusAdd + '\n',
      [`.00000000000000000002.json.${randomUUID()}.tmp`]: '{not json',
      [`.00000000000000000003.json.${randomUUID()}.tmp`]: bogusAdd,
      '00000000000000000002.json.tmp': bogusAdd,
      [`.00000000000000000002.checkpoint.parquet.${randomUUID()}.tmp`]: 'not parquet',
      [`._last_checkpoint.${randomUUID()}.tmp`]: '{"version": 9}',
    };
    for (const [name, body] of Object.entries(orphans)) await writeFile(path.join(logRoot, name), body);

    await expectVersions(env.lake, root, models);
    const next = await writeTable(env.lake, { table, ...victimOp });
    expect(next).toMatchObject({ status: 'committed', version: 2, checkpointed: true });
    models.push(afterVictim(models[1]!));
    await expectVersions(env.lake, root, models);
    expect(await checkpointVersions(root)).toEqual([2]);
    const more = await writeTable(env.lake, { table, mode: 'append', source: valuesSource(COLUMNS, rows('d', 'more', 2)) });
    expect(more).toMatchObject({ status: 'committed', version: 3 });
    models.push([...models[2]!, ...rows('d', 'more', 2)]);
    await writeCheckpoint(env.lake.engine, await tableSnapshot(env.lake, table));
    await expectVersions(env.lake, root, models);
    // The orphans are still there, untouched, and the CLI reads past them too.
    expect(await logNames(root)).toEqual(expect.arrayContaining(Object.keys(orphans)));
    const sql = await env.cli('sql', `SELECT count(*) AS n FROM delta_scan(${sqlValue(root)})`, '--format', 'json');
    expect(sql.code, describeChild(sql)).toBe(0);
    expect(jsonLines(sql.stdout)).toEqual([{ n: models[3]!.length }]);
  }, 60_000);
});

interface RandomOp {
  spec: WriteSpec;
  apply(model: Map<string, number>): Map<string, number>;
}

function counts(entries: [string, number][]): Map<string, number> {
  return new Map(entries.filter(([, n]) => n > 0).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** `rows` rows over partitions `parts` (i % parts.length), tagged with `writer`. */
function generated(writer: string, rowCount: number, parts: number[]): { source: string; perPartition: Map<string, number> } {
  const source = `SELECT ([${parts.map((p) => `'${p}'`).join(', ')}])[1 + (i % ${parts.length})] AS p, '${writer}' AS writer, i::INTEGER AS n FROM range(${rowCount}) t(i)`;
  const perPartition = new Map<string, number>();
  for (const [k, p] of parts.entries()) perPartition.set(String(p), Math.floor(rowCount / parts.length) + (k < rowCount % parts.length ? 1 : 0));
  return { source, perPartition };
}

/**
 * Six writes of 80k–200k rows (each some tens of milliseconds), so that a kill within 300 ms of
 * the start lands before, inside or between them.
 */
function randomOps(run: number): RandomOp[] {
  const size = (): number => 80_000 + Math.floor(Math.random() * 120_000);
  const append = (tag: string, parts: number[]): RandomOp => {
    const g = generated(`r${run}-${tag}`, size(), parts);
    return { spec: { mode: 'append', source: g.source }, apply: (m) => counts([...merge(m, g.perPartition)]) };
  };
  const replace = (tag: string, parts: number[]): RandomOp => {
    const g = generated(`r${run}-${tag}`, size(), parts);
    return { spec: { mode: 'replace', source: g.source }, apply: (m) => counts([...[...m].filter(([p]) => !g.perPartition.has(p)), ...g.perPartition]) };
  };
  const overwrite = (tag: string, parts: number[]): RandomOp => {
    const g = generated(`r${run}-${tag}`, size(), parts);
    return { spec: { mode: 'overwrite', source: g.source }, apply: () => counts([...g.perPartition]) };
  };
  return [
    append('append', [0, 1, 2, 3, 4, 5, 6, 7]),
    replace('replace', [0, 1, 2, 3]),
    append('append2', [5, 9]),
    overwrite('overwrite', [2, 3, 4, 5, 6, 7, 8]),
    replace('replace2', [8, 10]),
    append('append3', [1, 2, 3]),
  ];
}

function merge(a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  const out = new Map(a);
  for (const [k, n] of b) out.set(k, (out.get(k) ?? 0) + n);
  return out;
}

async function partitionCounts(lake: Lake, root: string, version: number): Promise<Map<string, number>> {
  const result = await runQuery(lake, `SELECT p, count(*) AS n FROM delta_scan(${sqlValue(root)}, version => ${version}) GROUP BY p ORDER BY p`);
  return counts(rowObjects(result.columns, result.rows).map((r) => [r['p'] as string, r['n'] as number]));
}

async function writerCounts(lake: Lake, root: string, version: number | undefined): Promise<Record<string, number>> {
  const at = version === undefined ? '' : `, version => ${version}`;
  const result = await runQuery(lake, `SELECT writer, count(*) AS n FROM delta_scan(${sqlValue(root)}${at}) GROUP BY writer`);
  return Object.fromEntries(rowObjects(result.columns, result.rows).map((r) => [r['writer'] as string, r['n'] as number]));
}

async function parquetFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true });
  return entries.filter((n) => n.endsWith('.parquet') && !n.startsWith(LOG_DIR));
}
