import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { PIPELINE_VERSION, errnoCode } from '../../core/index.js';
import { LOG_DIR } from '../../delta/index.js';
import { isRemote, joinLocation } from '../../storage/index.js';
import { LAYERS, listLakeTables, tableSnapshot, type Lake, extensionStatus, readerMode, type ReaderMode } from '../../table/index.js';

export interface DoctorReport {
  pipelineVersion: string;
  duckdbVersion: string;
  readerMode: ReaderMode;
  readerInUse: 'extension' | 'native';
  extension: { installed: boolean; loaded: boolean; version?: string; path?: string; error?: string };
  lakeRoot: string;
  tables: { table: string; ok: boolean; version?: number; files?: number; error?: string; code?: string }[];
}

async function catalogTables(root: string): Promise<string[]> {
  const names: string[] = [];
  for (const layer of LAYERS) {
    let entries;
    try {
      entries = await readdir(path.join(root, layer), { withFileTypes: true });
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') continue;
      throw error;
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const logEntries = await readdir(path.join(root, layer, entry.name, LOG_DIR)).catch(() => undefined);
      if (logEntries) names.push(`${layer}.${entry.name}`);
    }
  }
  return names.sort();
}

/** Everything a user needs to know when something does not read: versions, reader, extension, tables. */
export async function doctor(lake: Lake): Promise<DoctorReport> {
  const mode = readerMode();
  const [row] = await lake.engine.rows<{ v: string }>('SELECT version() AS v');
  const status = mode === 'native' ? { installed: false, loaded: false, error: 'not checked (LAKE_READER=native)' } : await extensionStatus(lake);
  const tables: DoctorReport['tables'] = [];
  for (const name of isRemote(lake.root) ? (await listLakeTables(lake)).map((t) => t.name) : await catalogTables(lake.root)) {
    const [layer, dataset] = name.split('.') as [string, string];
    try {
      const snapshot = await tableSnapshot(lake, { name, tableRoot: joinLocation(lake.root, layer, dataset) });
      tables.push({ table: name, ok: true, version: snapshot.version, files: snapshot.files.length });
    } catch (error) {
      const e = error as { message?: string; code?: string };
      tables.push({ table: name, ok: false, error: e.message ?? String(error), code: e.code });
    }
  }
  return {
    pipelineVersion: PIPELINE_VERSION,
    duckdbVersion: row?.v ?? 'unknown',
    readerMode: mode,
    // auto reads natively unless the extension is already loaded (a CLI process has not loaded it).
    readerInUse: mode === 'extension' && status.loaded ? 'extension' : 'native',
    extension: status,
    lakeRoot: lake.root,
    tables,
  };
}
