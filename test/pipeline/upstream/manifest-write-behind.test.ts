import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MANIFEST_FILE, ManifestStore, type ManifestEntry } from '../../../src/pipeline/upstream/index.js';
import { tempDirs } from '../../helpers/temp-dir.js';

/**
 * The download manifest is written behind (src/pipeline/upstream/manifest.ts): the first `put`
 * is on disk when it resolves, later ones within the interval are coalesced into one write, and
 * `close` writes what is pending. A failed write is never swallowed.
 */
const dirs = tempDirs('manifest-write-behind');
afterAll(() => dirs.cleanup());

function entry(key: string, sequence = 1): ManifestEntry {
  return { key, dataset: 'd', url: `http://127.0.0.1/${key}`, file: `${key}.abc.csv`, size: 3, sha256: 'abc', fetchedAt: '2026-01-01T00:00:00.000Z', sequence };
}

function onDisk(rawDir: string): Record<string, number> {
  const json = JSON.parse(readFileSync(path.join(rawDir, MANIFEST_FILE), 'utf8')) as { assets: Record<string, ManifestEntry> };
  return Object.fromEntries(Object.entries(json.assets).map(([k, e]) => [k, e.sequence]));
}

describe('ManifestStore write-behind', () => {
  it('writes the first put at once, coalesces the next ones and writes them on close; a reopen reads the last state', async () => {
    const rawDir = await dirs.make('coalesce');
    const store = await ManifestStore.open(rawDir, { intervalMs: 60_000 });
    await store.put(entry('a'));
    expect(onDisk(rawDir)).toEqual({ a: 1 });
    await store.put(entry('b'));
    await store.put(entry('a', 2));
    // Within the interval: still the first state on disk (an older state, never a newer one).
    expect(onDisk(rawDir)).toEqual({ a: 1 });
    expect(store.get('a')?.sequence).toBe(2);
    await store.close();
    expect(onDisk(rawDir)).toEqual({ a: 2, b: 1 });
    const reopened = await ManifestStore.open(rawDir);
    expect(reopened.entries().map((e) => [e.key, e.sequence])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    await reopened.close(); // nothing pending: no write, no error
  });

  it('writes a coalesced state by itself once the interval has passed', async () => {
    const rawDir = await dirs.make('timer');
    const store = await ManifestStore.open(rawDir, { intervalMs: 50 });
    await store.put(entry('a'));
    await store.put(entry('b'));
    await expect.poll(() => onDisk(rawDir), { timeout: 5000, interval: 20 }).toEqual({ a: 1, b: 1 });
    await store.close();
  });

  it('a write that fails is reported: at once when the put writes, else by the next put or by close', async () => {
    const base = await dirs.make('fail');
    const blocked = path.join(base, 'not-a-dir');
    const store = await ManifestStore.open(blocked, { intervalMs: 0 });
    writeFileSync(blocked, 'x'); // the raw folder cannot be created
    await expect(store.put(entry('a'))).rejects.toThrow();

    const rawDir = path.join(base, 'raw');
    const later = await ManifestStore.open(rawDir, { intervalMs: 60_000 });
    await later.put(entry('a'));
    // The rename onto manifest.json fails once it is a non-empty folder.
    rmSync(path.join(rawDir, MANIFEST_FILE));
    mkdirSync(path.join(rawDir, MANIFEST_FILE, 'x'), { recursive: true });
    await later.put(entry('b'));
    await expect(later.close()).rejects.toThrow();
  });
});
