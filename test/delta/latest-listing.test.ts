import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  LAST_CHECKPOINT,
  LOG_DIR,
  buildSegment,
  earliestVersion,
  latestVersion,
  listLatestLog,
  listLog,
  listLogFrom,
  loadSnapshot,
  readLastCheckpoint,
  versionAtTimestamp,
  type AddAction,
  type Snapshot,
} from '../../src/delta/index.js';
import { duckdbCheckpointReader } from '../../src/engine/index.js';
import { resolveTable, writeTable } from '../../src/table/index.js';
import { readSnapshot } from '../../src/table/read-cache.js';
import { REPO_ROOT } from '../interop/oracle.js';
import { tempLake } from '../helpers/temp-lake.js';

/**
 * Loading the latest version lists `_delta_log` only from the checkpoint `_last_checkpoint` names
 * on (listLatestLog), and falls back to the whole log whenever that cannot be trusted. Whatever the
 * listing, the snapshot must be the one the whole log gives.
 */
const t = tempLake('lake-latest-listing-');
const TABLES = path.join(REPO_ROOT, 'test', 'fixtures', 'delta-conformance', 'tables');
/** Fixture tables with a `_last_checkpoint`. */
const WITH_HINT = readdirSync(TABLES).filter((n) => existsSync(path.join(TABLES, n, LOG_DIR, LAST_CHECKPOINT)));

const byPath = (a: AddAction, b: AddAction): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
function state(snapshot: Snapshot): unknown {
  return {
    version: snapshot.version,
    files: [...snapshot.files].sort(byPath).map((f) => ({ ...f })),
    tombstones: [...snapshot.tombstones].map((r) => r.path).sort(),
    metadata: snapshot.metadata,
    protocol: snapshot.protocol,
    txns: [...snapshot.txns],
  };
}

const reader = (): ReturnType<typeof duckdbCheckpointReader> => duckdbCheckpointReader(t.lake.engine);
/** The latest snapshot as the default load builds it (partial listing when the hint allows). */
const latest = (root: string): Promise<unknown> => loadSnapshot(root, reader(), { skipReadCheck: true }).then(state);
/** The latest snapshot from the whole log, as before. */
const fromWholeLog = async (root: string): Promise<unknown> => state(await loadSnapshot(root, reader(), { skipReadCheck: true, listing: await listLog(root) }));

async function copyFixture(name: string): Promise<string> {
  const dir = path.join(await t.make('copy'), name);
  await cp(path.join(TABLES, name), dir, { recursive: true });
  return dir;
}

const logOf = (root: string): string => path.join(root, LOG_DIR);
/** The active file paths of a `state`: the same whether a snapshot came from a checkpoint or from replay (`dataChange` differs). */
const pathsOf = (s: unknown): string[] => (s as { files: AddAction[] }).files.map((f) => f.path);

describe('latest loads list the log from the last checkpoint on', () => {
  it('give the same snapshot as the whole log for every fixture table with a _last_checkpoint, from a partial listing', async () => {
    expect(WITH_HINT.length).toBeGreaterThanOrEqual(5);
    for (const name of WITH_HINT) {
      const root = path.join(TABLES, name);
      const hint = await readLastCheckpoint(root);
      const listing = await listLatestLog(root);
      // Every fixture's hint names a complete checkpoint after version 0: the listing is partial.
      expect(listing.partial, name).toBe(true);
      expect(listing.from, name).toBe(hint?.version);
      expect(listing.minCommit ?? Infinity, name).toBeGreaterThanOrEqual(listing.from);
      const whole = await listLog(root);
      expect(latestVersion(listing), name).toBe(latestVersion(whole));
      expect(buildSegment(listing, name), name).toEqual(buildSegment(whole, name));
      expect(await latest(root), name).toEqual(await fromWholeLog(root));
    }
  });

  it('a partial listing is marked and refused where the whole log is needed', async () => {
    const root = path.join(TABLES, 'basic-with-inserts-deletes-checkpoint');
    const partial = await listLogFrom(root, 10);
    expect(partial).toMatchObject({ partial: true, from: 10, minCommit: 10, maxCommit: 13 });
    expect([...partial.checkpoints.keys()]).toEqual([10]);
    expect(() => earliestVersion(partial)).toThrow(/needs the whole log/);
    await expect(versionAtTimestamp(root, partial, Date.now(), 'tbl')).rejects.toThrow(/needs the whole log/);
    // A version before the listing cannot be built from it (VERSION_NOT_FOUND naming the partial start).
    expect(() => buildSegment(partial, 'tbl', 5)).toThrow(/from the log after version 10/);
    // …but loadSnapshot, handed such a listing, lists the whole log and builds it.
    const v5 = await loadSnapshot(root, reader(), { version: 5, listing: partial, skipReadCheck: true });
    expect(v5.version).toBe(5);
    expect(state(v5)).toEqual(state(await loadSnapshot(root, reader(), { version: 5, skipReadCheck: true })));
    const whole = await listLog(root);
    expect(whole).toMatchObject({ partial: false, from: 0, minCommit: 0, maxCommit: 13 });
    expect(earliestVersion(whole)).toBe(0);
  });

  it('falls back to the whole log when _last_checkpoint is missing, garbage, stale or names a checkpoint that is gone', async () => {
    const name = 'basic-with-inserts-deletes-checkpoint';
    const want = await fromWholeLog(path.join(TABLES, name));
    const cases: [string, (root: string) => Promise<void>][] = [
      ['missing', (root) => rm(path.join(logOf(root), LAST_CHECKPOINT))],
      ['garbage', (root) => writeFile(path.join(logOf(root), LAST_CHECKPOINT), '{not json')],
      ['unreadable (a folder: the store fails to read it)', async (root) => {
        await rm(path.join(logOf(root), LAST_CHECKPOINT));
        await mkdir(path.join(logOf(root), LAST_CHECKPOINT));
      }],
      ['no version', (root) => writeFile(path.join(logOf(root), LAST_CHECKPOINT), '{"size": 3}')],
      ['negative version', (root) => writeFile(path.join(logOf(root), LAST_CHECKPOINT), '{"version": -4, "size": 3}')],
      ['a version with no checkpoint', (root) => writeFile(path.join(logOf(root), LAST_CHECKPOINT), '{"version": 12, "size": 3}')],
      ['a version past the end', (root) => writeFile(path.join(logOf(root), LAST_CHECKPOINT), '{"version": 99, "size": 3}')],
      ['the checkpoint file deleted', (root) => rm(path.join(logOf(root), '00000000000000000010.checkpoint.parquet'))],
    ];
    for (const [label, damage] of cases) {
      const root = await copyFixture(name);
      await damage(root);
      const listing = await listLatestLog(root);
      expect(listing.partial, label).toBe(false);
      expect(listing.minCommit, label).toBe(0);
      const got = await latest(root);
      expect(got, label).toEqual(await fromWholeLog(root));
      expect(pathsOf(got), label).toEqual(pathsOf(want));
    }
  });

  it('falls back when a multi-part checkpoint is incomplete', async () => {
    const name = 'multi-part-checkpoint';
    const want = await fromWholeLog(path.join(TABLES, name));
    const root = await copyFixture(name);
    const part = (await readdir(logOf(root))).find((n) => /^\d{20}\.checkpoint\.0000000002\.0000000002\.parquet$/.test(n));
    expect(part).toBeDefined();
    await rm(path.join(logOf(root), part!));
    expect((await listLatestLog(root)).partial).toBe(false);
    const got = await latest(root);
    expect(got).toEqual(await fromWholeLog(root));
    expect(pathsOf(got)).toEqual(pathsOf(want));
  });

  it('an unreadable checkpoint in the partial listing: the load lists the whole log and replays the commits instead', async () => {
    const name = 'basic-with-inserts-deletes-checkpoint';
    const want = await fromWholeLog(path.join(TABLES, name));
    const root = await copyFixture(name);
    await writeFile(path.join(logOf(root), '00000000000000000010.checkpoint.parquet'), 'not parquet');
    // The damaged file still counts as a checkpoint by name, so the listing is partial…
    expect((await listLatestLog(root)).partial).toBe(true);
    // …and the load falls back to the commits before it, which only the whole log lists.
    const got = await latest(root);
    expect(got).toEqual(await fromWholeLog(root));
    expect(pathsOf(got)).toEqual(pathsOf(want));
    expect((got as { version: number }).version).toBe(13);
    const read = await readSnapshot(t.lake, { name, tableRoot: root }, undefined, false);
    expect(read.snapshot.version).toBe(13);
    expect(read.snapshot.files.map((f) => f.path).sort()).toEqual(pathsOf(want));
  });

  it('a stale hint naming an older checkpoint still builds from the newest one; writes, commits and reads agree', async () => {
    const table = resolveTable(t.lake, 'silver.latest_listing');
    for (let i = 0; i < 8; i++) {
      await writeTable(t.lake, { table, source: `SELECT ${i} AS id`, mode: 'append', configuration: { 'delta.checkpointInterval': '3' } });
    }
    const whole = await listLog(table.tableRoot);
    const checkpoints = [...whole.checkpoints.keys()].sort((a, b) => a - b);
    expect(checkpoints.length).toBeGreaterThanOrEqual(2);
    const newest = checkpoints.at(-1)!;
    expect((await readLastCheckpoint(table.tableRoot))?.version).toBe(newest);
    expect((await listLatestLog(table.tableRoot)).from).toBe(newest);
    const want = await fromWholeLog(table.tableRoot);
    // Point the hint back at the oldest checkpoint: the listing starts there and still holds the newest.
    await writeFile(path.join(logOf(table.tableRoot), LAST_CHECKPOINT), JSON.stringify({ version: checkpoints[0], size: 1 }));
    const listing = await listLatestLog(table.tableRoot);
    expect(listing).toMatchObject({ partial: true, from: checkpoints[0] });
    expect(buildSegment(listing, table.name).checkpoint?.version).toBe(newest);
    expect(await latest(table.tableRoot)).toEqual(want);
    // The read path (read cache) and the next commit work from the same listing.
    expect((await readSnapshot(t.lake, table, undefined)).snapshot.version).toBe(7);
    await writeTable(t.lake, { table, source: 'SELECT 8 AS id', mode: 'append' });
    expect((await readSnapshot(t.lake, table, undefined)).snapshot.version).toBe(8);
    expect((await loadSnapshot(table.tableRoot, reader())).files).toHaveLength(9);
  });
});
