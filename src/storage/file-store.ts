import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../core/index.js';

export type PutResult = { status: 'written' } | { status: 'exists' };

export interface FileEntry {
  name: string;
  size: number;
  mtimeMs: number;
}

/**
 * Local-disk file store with put-if-absent semantics (DESIGN.md decision 2): the bytes go to a
 * unique temp file in the same directory, which is then hard-linked to the final name. `link()`
 * fails with EEXIST when the name exists, so exactly one writer wins; a crash leaves at most an
 * orphan `.tmp` file that readers ignore. Nothing here renames onto or overwrites a file.
 */
export async function putIfAbsent(target: string, data: string | Uint8Array): Promise<PutResult> {
  const dir = path.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  const temp = path.join(dir, `.${path.basename(target)}.${randomUUID()}.tmp`);
  await fs.writeFile(temp, data, { flag: 'wx' });
  try {
    const handle = await fs.open(temp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.link(temp, target);
    return { status: 'written' };
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return { status: 'exists' };
    throw error;
  } finally {
    await fs.rm(temp, { force: true });
  }
}

/** Reads a whole file as UTF-8; `undefined` when it does not exist. */
export async function readTextIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** Lists the regular files directly inside `dir` (no recursion); empty when `dir` is missing. */
export async function listFiles(dir: string): Promise<FileEntry[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw error;
  }
  const entries = await Promise.all(
    names.map(async (name): Promise<FileEntry | undefined> => {
      try {
        const stat = await fs.stat(path.join(dir, name));
        return stat.isFile() ? { name, size: stat.size, mtimeMs: stat.mtimeMs } : undefined;
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') return undefined;
        throw error;
      }
    }),
  );
  return entries.filter((e): e is FileEntry => e !== undefined).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Names of the entries directly inside `dir`, sorted; empty when `dir` is missing. No stat calls. */
export async function listNames(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).sort();
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
