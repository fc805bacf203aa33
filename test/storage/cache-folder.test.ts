import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { touchCacheEntry, writeCacheEntry, writeCacheEntrySync } from '../../src/storage/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lake-cache-folder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cache folders keep the most recently used entries', () => {
  it('touching an entry (synchronously) marks it used, so a trim keeps it over newer-written ones; other files are left alone', async () => {
    const old = Date.now() / 1000 - 3600;
    const names = ['a', 'b', 'c', 'd'].map((n) => path.join(dir, `${n}.entry`));
    names.forEach((file, i) => {
      writeFileSync(file, file);
      utimesSync(file, old + i, old + i);
    });
    writeFileSync(path.join(dir, 'notes.txt'), 'not an entry');
    // `a` is the oldest written; reading it marks it used now, before touchCacheEntry returns.
    touchCacheEntry(names[0]!);
    expect(statSync(names[0]!).mtimeMs).toBeGreaterThan((old + 3600 - 60) * 1000);
    // A missing entry (trimmed by another process) is no error.
    expect(() => touchCacheEntry(path.join(dir, 'gone.entry'))).not.toThrow();
    await writeCacheEntry(path.join(dir, 'e.entry'), 'e', { suffixes: ['.entry'], keep: 2 });
    expect(readdirSync(dir).sort()).toEqual(['a.entry', 'e.entry', 'notes.txt']);
  });

  it('writes an entry synchronously with the same trim, and a write that fails leaves no temp file', () => {
    const sync = path.join(dir, 'sync');
    mkdirSync(sync);
    const old = Date.now() / 1000 - 3600;
    ['p', 'q', 'r'].forEach((n, i) => {
      writeFileSync(path.join(sync, `${n}.entry`), n);
      utimesSync(path.join(sync, `${n}.entry`), old + i, old + i);
    });
    writeCacheEntrySync(path.join(sync, 's.entry'), 's', { suffixes: ['.entry'], keep: 2 });
    expect(readdirSync(sync).sort()).toEqual(['r.entry', 's.entry']);
    // The entry's name is taken by a folder: the rename fails, and the temp file is removed.
    mkdirSync(path.join(sync, 't.entry', 'inside'), { recursive: true });
    expect(() => writeCacheEntrySync(path.join(sync, 't.entry'), 't', { suffixes: ['.entry'], keep: 2 })).toThrow();
    expect(readdirSync(sync).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('an asynchronous write that fails leaves no temp file either', async () => {
    const folder = path.join(dir, 'async');
    mkdirSync(path.join(folder, 'u.entry', 'inside'), { recursive: true });
    await expect(writeCacheEntry(path.join(folder, 'u.entry'), 'u', { suffixes: ['.entry'], keep: 2 })).rejects.toThrow();
    expect(readdirSync(folder)).toEqual(['u.entry']);
  });
});
