import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  commitFileName,
  commitLines,
  commitStats,
  fileKey,
  loadSnapshot,
  parseCommitLines,
  parseCommitText,
  readCommit,
  serializeCommit,
  type Action,
  type CheckpointReader,
  type Snapshot,
} from '../../src/delta/index.js';
import { tempDirs } from '../helpers/temp-dir.js';

const dirs = tempDirs('lake-lean-commits-');
afterAll(() => dirs.cleanup());
const noCheckpoints: CheckpointReader = {
  readCheckpoint: () => Promise.reject(new Error('this log has no checkpoints')),
};

const SCHEMA = JSON.stringify({ type: 'struct', fields: [{ name: 'x', type: 'long', nullable: true, metadata: {} }] });
const stats = (n: number): string => JSON.stringify({ numRecords: n, minValues: { x: n }, maxValues: { x: n * 10 }, nullCount: { x: 0 } });
const add = (p: string, n: number | undefined, extra: Record<string, unknown> = {}): Action => ({
  kind: 'add',
  add: { path: p, partitionValues: {}, size: 10, modificationTime: 1, dataChange: true, ...(n === undefined ? {} : { stats: stats(n) }), ...extra },
});

/** A JSON-only log: v0 adds a and b, v1 removes a and adds c (a non-ASCII, %-encoded path), v2 re-adds b without stats and d with stats. */
async function writeLog(): Promise<string> {
  const root = await dirs.make('table');
  const log = path.join(root, '_delta_log');
  mkdirSync(log, { recursive: true });
  const commits: Action[][] = [
    [
      { kind: 'commitInfo', commitInfo: { timestamp: 1, operation: 'WRITE' } },
      { kind: 'protocol', protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
      { kind: 'metaData', metaData: { id: 't', format: { provider: 'parquet', options: {} }, schemaString: SCHEMA, partitionColumns: [], configuration: {} } },
      add('a.parquet', 1, { tags: { stats: 'a tag named stats' } }),
      add('b.parquet', 2),
    ],
    [
      { kind: 'commitInfo', commitInfo: { timestamp: 2, operation: 'WRITE' } },
      { kind: 'remove', remove: { path: 'a.parquet', deletionTimestamp: 2, dataChange: true, stats: stats(1) } },
      add('%C3%A9t%C3%A9%20%22q%22.parquet', 3),
    ],
    [{ kind: 'commitInfo', commitInfo: { timestamp: 3, operation: 'WRITE' } }, add('b.parquet', undefined), add('d.parquet', 4)],
  ];
  commits.forEach((actions, v) => writeFileSync(path.join(log, commitFileName(v)), serializeCommit(actions)));
  return root;
}

describe('commits read without their file stats (reads: SnapshotOptions.stats false)', () => {
  it('parse like the whole text, minus the stats of adds and removes only', () => {
    const text = serializeCommit([add('x.parquet', 5, { tags: { stats: 'kept' } }), { kind: 'remove', remove: { path: 'y.parquet', dataChange: true, stats: stats(6) } }, { kind: 'txn', txn: { appId: 'stats', version: 1 } }]);
    const bytes = new TextEncoder().encode(text);
    const full = parseCommitText(text, 'test');
    expect(parseCommitLines(commitLines(bytes), 'test')).toEqual(full);
    const lean = parseCommitLines(commitLines(bytes), 'test', { stats: false });
    expect(lean).toHaveLength(3);
    expect(lean[0]).toEqual({ kind: 'add', add: { path: 'x.parquet', partitionValues: {}, size: 10, modificationTime: 1, dataChange: true, tags: { stats: 'kept' } } });
    expect(lean[1]).toEqual({ kind: 'remove', remove: { path: 'y.parquet', dataChange: true } });
    expect(lean[2]).toEqual(full[2]);
  });

  it('find the stats value in the bytes without decoding it, and parse whole any line where its end is not certain', () => {
    const statsText = JSON.stringify({ numRecords: 2, minValues: { s: 'a"}\\', t: 'é' }, maxValues: { s: '}",{"x":"y"}' }, nullCount: { s: 0 } });
    const lines: Array<[string, boolean]> = [
      // Our writer's layout: the fast path.
      [JSON.stringify({ add: { path: 'été.parquet', partitionValues: { p: '}' }, size: 1, modificationTime: 1, dataChange: true, stats: statsText, tags: { k: 'v}' } } }), true],
      [JSON.stringify({ remove: { path: 'r.parquet', dataChange: true, stats: statsText } }), true],
      // A nested key named stats comes first: its value is cut, the action shows it, the line is parsed whole.
      [JSON.stringify({ add: { path: 'n.parquet', partitionValues: {}, size: 1, modificationTime: 1, dataChange: true, tags: { stats: '{not the stats}' }, stats: statsText } }), true],
      // Stats that end in a space: their first `}"` is a later value's, after a raw quote.
      [JSON.stringify({ add: { path: 'w.parquet', partitionValues: {}, size: 1, modificationTime: 1, dataChange: true, stats: '{"numRecords":1} ', deletionVector: { storageType: 'i', pathOrInlineDv: 'ab}', sizeInBytes: 1, cardinality: 1 } } }), false],
      ['{"add": {"path": "s.parquet", "partitionValues": {}, "size": 1, "modificationTime": 1, "dataChange": true, "stats": "{\\"numRecords\\": 1} ", "tags": {"a": "b}"}}}', false],
      // Not an object, or no stats: nothing to cut.
      [JSON.stringify({ add: { path: 'e.parquet', partitionValues: {}, size: 1, modificationTime: 1, dataChange: true, stats: '' } }), false],
      [JSON.stringify({ commitInfo: { operation: 'WRITE', operationParameters: { stats: '{"x":1}' } } }), true],
    ];
    const text = lines.map(([line]) => line).join('\n');
    const offered = [...commitLines(Buffer.from(text, 'utf8'), { stats: false })].map((l) => l.lean !== undefined);
    expect(offered).toEqual(lines.map(([, lean]) => lean));
    const expected = parseCommitText(text, 'test').map((a) => {
      if (a.kind === 'add') delete a.add.stats;
      if (a.kind === 'remove') delete a.remove.stats;
      return a;
    });
    expect(parseCommitLines(commitLines(Buffer.from(text, 'utf8'), { stats: false }), 'test', { stats: false })).toEqual(expected);
    expect(expected[2]).toMatchObject({ add: { tags: { stats: '{not the stats}' } } });
    expect(expected[3]).toMatchObject({ add: { deletionVector: { pathOrInlineDv: 'ab}' } } });
    expect(expected[6]).toMatchObject({ commitInfo: { operationParameters: { stats: '{"x":1}' } } });
  });

  it('read pretty-printed actions and multi-byte UTF-8 split into lines at the newline byte', () => {
    const text = '{\n  "add": {"path": "été.parquet", "partitionValues": {"p": "ü"}, "size": 1, "modificationTime": 1, "dataChange": true, "stats": "{\\"numRecords\\":1}"}\n}\r\n\n{"txn":{"appId":"a","version":1}}';
    const lean = parseCommitLines(commitLines(Buffer.from(text, 'utf8'), { stats: false }), 'test', { stats: false });
    expect(lean).toEqual([
      { kind: 'add', add: { path: 'été.parquet', partitionValues: { p: 'ü' }, size: 1, modificationTime: 1, dataChange: true } },
      { kind: 'txn', txn: { appId: 'a', version: 1 } },
    ]);
  });

  it('leave the snapshot without stats, and commitStats reads them back as replay would have kept them', async () => {
    const root = await writeLog();
    const full = await loadSnapshot(root, noCheckpoints);
    const lean = await loadSnapshot(root, noCheckpoints, { stats: false });
    expect(full.statsLoaded).toBe(true);
    expect(lean.statsLoaded).toBe(false);
    expect(lean.statsCommits).toEqual([0, 1, 2]);
    const strip = (files: typeof full.files): unknown[] => files.map(({ stats: _s, ...f }) => f).sort((a, b) => (a.path < b.path ? -1 : 1));
    expect(strip(lean.files)).toEqual(strip(full.files));
    expect(lean.files.every((f) => f.stats === undefined)).toBe(true);
    expect(lean.tombstones.every((f) => f.stats === undefined)).toBe(true);

    const back = await commitStats(lean);
    // b was re-added without stats in v2: the last add wins, as in replay.
    for (const f of full.files) expect(back.get(fileKey(f))).toBe(f.stats ?? undefined);
    expect(back.has('b.parquet')).toBe(false);
    expect(back.get('été "q".parquet')).toBe(stats(3));
    // A copy of the snapshot (query pruning makes them) shares the one read.
    const copy: Snapshot = { ...lean, files: [] };
    expect(await commitStats(copy)).toBe(back);
    // Time travel: only the commits of the version read.
    const v1 = await loadSnapshot(root, noCheckpoints, { stats: false, version: 1 });
    expect(v1.statsCommits).toEqual([0, 1]);
    expect((await commitStats(v1)).get('b.parquet')).toBe(stats(2));
  });

  it('report a missing commit as before, with or without stats', async () => {
    const root = await writeLog();
    for (const options of [{}, { stats: false }]) {
      const error = await readCommit(root, 7, options).catch((e: unknown) => e);
      expect(String(error)).toContain('commit 7');
    }
  });

  it('give no stats back (every file kept) when the commits are gone', async () => {
    const snapshot = { tableRoot: path.join(await dirs.make('gone'), 'nothing'), statsCommits: [0] };
    expect((await commitStats(snapshot)).size).toBe(0);
  });
});
