/**
 * The local-disk storage port: every byte the Delta protocol code reads or writes goes through
 * these functions. Missing files are values (`undefined`, `false`, `[]`), not exceptions. Log
 * entries are created only by `putIfAbsent`, and nothing here renames onto or overwrites a log
 * entry or a data file; `replaceFile` is for hints that may be replaced (`_last_checkpoint`).
 */
import { randomUUID } from 'node:crypto';
import { promises as fs, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { errnoCode, faultPoint, type FaultPointName } from '../core/index.js';

export type PutResult = { status: 'written' } | { status: 'exists' };

export interface FileEntry {
  name: string;
  size: number;
  mtimeMs: number;
}

/**
 * Writes `data` to `target` only if `target` does not exist (README.md "How tables are stored":
 * commits are put-if-absent). The bytes go to a unique temp file in the same directory, which is
 * then hard-linked to the final name. `link()` fails with EEXIST when the name exists, so exactly
 * one writer wins (`exists`); a crash leaves at most an orphan `.tmp` file that readers ignore.
 */
export interface PutFaults {
  /** Passed once the temp file is written and synced, before the link publishes it. */
  written: FaultPointName;
  /** Passed once the link published the file, before the temp file is removed. */
  linked: FaultPointName;
}

export async function putIfAbsent(target: string, data: string | Uint8Array, faults?: PutFaults): Promise<PutResult> {
  const dir = path.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  const temp = path.join(dir, `.${path.basename(target)}.${randomUUID()}.tmp`);
  try {
    // Inside the try: a write that fails half-way (ENOSPC) must not leave its temp file behind.
    await fs.writeFile(temp, data, { flag: 'wx' });
    const handle = await fs.open(temp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (faults) faultPoint(faults.written);
    await fs.link(temp, target);
    if (faults) faultPoint(faults.linked);
    return { status: 'written' };
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return { status: 'exists' };
    throw error;
  } finally {
    await fs.rm(temp, { force: true });
  }
}

/**
 * Reads a whole file as UTF-8; `undefined` when it does not exist. Synchronous, like
 * `statIfExists`: the files read here are log entries and hints (kilobytes to a few megabytes),
 * which a local read returns sooner than libuv's thread pool does its four trips (open, stat,
 * read, close) — a process reads thousands of them.
 */
export async function readTextIfExists(file: string): Promise<string | undefined> {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** Reads a whole file as bytes; `undefined` when it does not exist. Synchronous, as `readTextIfExists`. */
export async function readFileIfExists(file: string): Promise<Uint8Array | undefined> {
  try {
    return readFileSync(file);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Reads at most `length` bytes of `file` starting at byte `offset` (fewer at the end of the file);
 * `undefined` when the file does not exist.
 */
export async function readRangeIfExists(file: string, offset: number, length: number): Promise<Uint8Array | undefined> {
  let handle;
  try {
    handle = await fs.open(file, 'r');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Size and modification time of a file; `undefined` when it does not exist. */
export async function statIfExists(file: string): Promise<{ size: number; mtimeMs: number } | undefined> {
  // Synchronous: one local stat takes microseconds, less than a trip through libuv's thread pool
  // (a version-pinned read from the read cache is one stat of its commit file).
  const stat = statSync(file, { throwIfNoEntry: false });
  return stat ? { size: stat.size, mtimeMs: stat.mtimeMs } : undefined;
}

/**
 * A local folder's stamp: its device, inode, and modification and change times (ms, to a fraction
 * of a microsecond), which the file system moves whenever an entry is added to, removed from or
 * renamed in the folder; and how long ago (by this machine's clock) it was last modified.
 * Undefined when the folder is missing. Synchronous: one stat.
 */
export function folderStamp(dir: string): { stamp: string; ageMs: number } | undefined {
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) return undefined;
  return { stamp: `${stat.dev}:${stat.ino}:${stat.mtimeMs}:${stat.ctimeMs}`, ageMs: Date.now() - stat.mtimeMs };
}

/**
 * Writes `data` to `target`, replacing it if present: written to a unique temp file in the same
 * directory and renamed over `target`, so a reader sees the old or the new content, never a part.
 * For replaceable hints only (`_last_checkpoint`); log entries and data files use `putIfAbsent`.
 */
export async function replaceFile(target: string, data: string | Uint8Array): Promise<void> {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomUUID()}.tmp`);
  try {
    await fs.writeFile(temp, data, { flag: 'wx' });
    await fs.rename(temp, target);
  } finally {
    await fs.rm(temp, { force: true });
  }
}

/**
 * Names of the entries directly inside `dir`, sorted; empty when `dir` is missing. No stat calls.
 * Synchronous, like `statIfExists`: a local readdir (even of a 10,000-commit log) costs less than
 * its trip through libuv's thread pool, which a cold process would first have to start.
 */
export async function listNames(dir: string): Promise<string[]> {
  try {
    return readdirSync(dir).sort();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw error;
  }
}

/** Lists every regular file under `dir`, recursively, as paths relative to `dir` with `/` separators. */
export async function listFilesRecursive(dir: string): Promise<FileEntry[]> {
  const out: FileEntry[] = [];
  async function walk(rel: string): Promise<void> {
    let entries;
    try {
      entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) await walk(childRel);
      else if (entry.isFile()) {
        const stat = await fs.stat(path.join(dir, childRel));
        out.push({ name: childRel, size: stat.size, mtimeMs: stat.mtimeMs });
      }
    }
  }
  await walk('');
  return out;
}

export async function deleteFile(file: string): Promise<boolean> {
  try {
    await fs.unlink(file);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
