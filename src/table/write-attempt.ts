import { randomUUID } from 'node:crypto';
import { readdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { asDiskFull, errnoCode } from '../core/index.js';
import { LOG_DIR, type AddAction } from '../delta/index.js';
import { writeDataFiles, type WriteFilesOptions } from '../engine/index.js';
import type { Lake, TableRef } from './lake.js';
import { listFolders } from './ownership.js';

/**
 * One write attempt's data files. Files are named with a prefix unique to the attempt, and the
 * folders that existed before are remembered, so `discard` removes exactly what this attempt
 * wrote — its files (also the partial ones a failed COPY left), the partition folders it
 * created, and the table folder itself when the attempt created it — and nothing else.
 */
export interface WriteAttempt {
  adds: AddAction[];
  discard(): Promise<void>;
}

export type AttemptFilesOptions = Omit<WriteFilesOptions, 'engine' | 'tableRoot' | 'filePrefix'>;

export async function writeAttemptFiles(lake: Lake, table: TableRef, options: AttemptFilesOptions): Promise<WriteAttempt> {
  const prefix = `part-${randomUUID().slice(0, 8)}-`;
  const rootExisted = await readdir(table.tableRoot).then(() => true, () => false);
  const folders = await listFolders(table.tableRoot);
  const discard = (): Promise<void> => discardAttempt(table.tableRoot, prefix, folders, rootExisted);
  try {
    const adds = await writeDataFiles({ ...options, engine: lake.engine, tableRoot: table.tableRoot, filePrefix: prefix });
    return { adds, discard };
  } catch (error) {
    await discard();
    throw asDiskFull(error, tableDescription(table));
  }
}

/** How a DISK_FULL error names the table whose files were being written. */
export function tableDescription(table: TableRef): string {
  return `${table.name} (${table.tableRoot})`;
}

async function discardAttempt(tableRoot: string, prefix: string, before: ReadonlySet<string>, rootExisted: boolean): Promise<void> {
  const created: string[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await readdir(path.join(tableRoot, rel), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (rel === '' && entry.name === LOG_DIR) continue;
      if (entry.isDirectory()) {
        await walk(childRel);
        if (!before.has(childRel)) created.push(childRel);
      } else if (entry.isFile() && entry.name.startsWith(prefix)) {
        await rm(path.join(tableRoot, childRel), { force: true });
      }
    }
  }
  await walk('');
  // Deepest first; rmdir only removes empty folders, so anything someone else put there stays.
  for (const rel of created.sort((a, b) => b.length - a.length)) await rmdir(path.join(tableRoot, rel)).catch(() => undefined);
  if (!rootExisted) {
    await rmdir(path.join(tableRoot, LOG_DIR)).catch(() => undefined);
    await rmdir(tableRoot).catch((error: unknown) => {
      if (errnoCode(error) !== 'ENOENT' && errnoCode(error) !== 'ENOTEMPTY') throw error;
    });
  }
}
