import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { LakeError, errnoCode } from '../core/index.js';
import { LOG_DIR } from '../delta/index.js';
import { LAKE_TEMP_NAME } from './lake.js';

/**
 * What under a table root the lake may treat as the table's own. Delta's rule for VACUUM (and
 * Spark's and delta-rs's practice) is that only files that look like data files the table could
 * have written are candidates: never hidden paths (`_…`, `.…`: the log, CDC folders, checksums,
 * temp files), never files outside `column=value` partition folders, never symlinks, never
 * names no Delta writer produces. Our writer names its files `part-<id>.zstd.parquet`; Spark and
 * delta-rs write `part-00000-<uuid>-c000.<codec>.parquet`; deletion vectors are
 * `deletion_vector_<uuid>.bin`.
 */
export const DATA_FILE_NAME = /^part-[A-Za-z0-9._-]+\.parquet$/;
export const DELETION_VECTOR_NAME = /^deletion_vector_[A-Za-z0-9-]+\.bin$/;

export type Ownership = { owned: true } | { owned: false; reason: string };

/**
 * Whether the file at `rel` (relative to the table root, `/`-separated, decoded) looks like one of
 * the table's data files. `columns`: the table's columns, whose names may head a partition folder
 * (undefined: any `name=value` folder, for a folder that is not a table yet).
 */
export function ownershipOf(rel: string, columns?: ReadonlySet<string>): Ownership {
  const parts = rel.split('/');
  const name = parts.pop()!;
  for (const dir of parts) {
    const eq = dir.indexOf('=');
    const column = eq > 0 ? dir.slice(0, eq) : undefined;
    if (column === undefined) return { owned: false, reason: `inside ${dir}/, which is not a partition folder (column=value)` };
    if (columns && !columns.has(column)) return { owned: false, reason: `inside ${dir}/, and ${column} is not a column of the table` };
    if (dir.startsWith('.') || (dir.startsWith('_') && !columns?.has(column))) return { owned: false, reason: `inside the hidden folder ${dir}/` };
  }
  if (name.startsWith('.') || name.startsWith('_')) return { owned: false, reason: 'a hidden file' };
  if (!DATA_FILE_NAME.test(name) && !DELETION_VECTOR_NAME.test(name)) return { owned: false, reason: 'not named like a Delta data file (part-….parquet)' };
  return { owned: true };
}

/**
 * Refuses to create a table in a folder that holds anything the lake did not write: creation is
 * allowed in a missing or empty folder, or one holding only an empty `_delta_log` and data files
 * a failed first write of ours (or another Delta writer) left. Stops at the first foreign entry.
 */
export async function assertCreatable(table: string, tableRoot: string): Promise<void> {
  const foreign = await firstForeignEntry(tableRoot, '');
  if (foreign === undefined) return;
  throw new LakeError('NOT_A_TABLE', `${table}: ${tableRoot} is a folder that is not a Delta table and holds files the lake did not write (${foreign.rel}: ${foreign.reason}); nothing was written`, {
    hint: 'Write to a new or empty folder, or to a lake table (layer.dataset); the lake never adopts a folder it did not create.',
    details: { tableRoot, file: foreign.rel },
  });
}

async function firstForeignEntry(root: string, rel: string): Promise<{ rel: string; reason: string } | undefined> {
  let entries;
  try {
    entries = await readdir(path.join(root, rel), { withFileTypes: true });
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    if (errnoCode(error) === 'ENOTDIR') return { rel: path.basename(root), reason: 'a file, not a folder' };
    throw error;
  }
  for (const entry of entries) {
    const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (rel === '' && entry.name === LOG_DIR && entry.isDirectory()) continue;
    // A table written at a lake's root (`openLake({ root })` on the table's own folder) finds the
    // lake's temp folder there: the lake's own, not a foreign entry.
    if (rel === '' && entry.name === LAKE_TEMP_NAME && entry.isDirectory()) continue;
    if (entry.isSymbolicLink()) return { rel: childRel, reason: 'a symbolic link' };
    if (entry.isDirectory()) {
      if (!entry.name.includes('=') || entry.name.startsWith('.')) return { rel: `${childRel}/`, reason: 'a folder that is not a partition folder (column=value)' };
      const inner = await firstForeignEntry(root, childRel);
      if (inner) return inner;
      continue;
    }
    const ownership = ownershipOf(childRel);
    if (!ownership.owned) return { rel: childRel, reason: ownership.reason };
  }
  return undefined;
}

/** The folders under `root` (relative, `/`-separated), except `_delta_log`; empty when `root` is missing. */
export async function listFolders(root: string): Promise<Set<string>> {
  const out = new Set<string>();
  async function walk(rel: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(path.join(root, rel), { withFileTypes: true });
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      if (!entry.isDirectory() || (rel === '' && entry.name === LOG_DIR)) continue;
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      out.add(childRel);
      await walk(childRel);
    }
  }
  await walk('');
  return out;
}
