import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listLog, readCommitInfo } from '../../../src/delta/index.js';
import type { ManifestEntry } from '../../../src/pipeline/index.js';
import { listLakeTables } from '../../../src/table/index.js';
import { describeChild, requireBuild, runCliProcess, type ChildResult } from '../../helpers/child.js';
import { tempDirs } from '../../helpers/temp-dir.js';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';

/**
 * A bootstrap killed between files (a real child process, SIGKILLed by LAKE_FAULTPOINT right after
 * its n-th Delta commit is linked): the download manifest (written behind, manifest.ts) may lag
 * bronze but never leads it — every entry it marks committed is a commit bronze holds — and the
 * next run commits exactly the files bronze is missing (none twice); the run after commits nothing.
 */
const dirs = tempDirs('ingest-crash-manifest');
let server: UpstreamServer;
const ARGS = ['bootstrap', '--datasets', 'nextgen_stats,schedules,teams,trades', '--years', '2020', '--max-workers', '1', '--json'];

beforeAll(async () => {
  requireBuild();
  server = await startUpstreamServer();
});
afterAll(async () => {
  await server?.close();
  await dirs.cleanup();
});

function env(dir: string, fault?: string): Record<string, string | undefined> {
  return { LAKE_ROOT: path.join(dir, 'tables'), LAKE_RAW_DIR: path.join(dir, 'raw'), LAKE_LOGS_DIR: path.join(dir, 'logs'), LAKE_CATALOG: 'catalog/datasets.yml', LAKE_FAULTPOINT: fault, ...server.env() };
}

async function bootstrap(dir: string, fault?: string): Promise<ChildResult> {
  return runCliProcess(ARGS, { env: env(dir, fault) });
}

function commitsOf(r: ChildResult): number {
  expect(r.code, describeChild(r)).toBe(0);
  return (JSON.parse(r.stdout) as { commits: number }).commits;
}

/** Every upstream file bronze holds, as `<app_id> <sha256>`, one per commit. */
async function bronzeFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const table of await listLakeTables({ root: path.join(dir, 'tables') })) {
    if (table.layer !== 'bronze') continue;
    for (const version of (await listLog(table.tableRoot)).commits.keys()) {
      const file = (await readCommitInfo(table.tableRoot, version))?.['upstream_file'] as { app_id: string; sha256: string } | undefined;
      if (file) files.push(`${file.app_id} ${file.sha256}`);
    }
  }
  return files.sort();
}

function manifestEntries(dir: string): ManifestEntry[] {
  const file = path.join(dir, 'raw', 'manifest.json');
  if (!existsSync(file)) return [];
  return Object.values((JSON.parse(readFileSync(file, 'utf8')) as { assets: Record<string, ManifestEntry> }).assets);
}

describe('a bootstrap killed between files', () => {
  let clean: string[];

  beforeAll(async () => {
    const dir = await dirs.make('clean');
    expect(commitsOf(await bootstrap(dir))).toBeGreaterThanOrEqual(4);
    clean = await bronzeFiles(dir);
    expect(new Set(clean).size).toBe(clean.length);
    expect(manifestEntries(dir).every((e) => e.committed?.sha256 === e.sha256)).toBe(true);
  }, 300_000);

  // commit.linked@n: killed right after the n-th commit (bronze holds n files); write.data-files@n:
  // killed with the n-th file's data written but not committed (bronze holds n - 1).
  it.each([
    ['commit.linked', 1, 1],
    ['commit.linked', 3, 3],
    ['write.data-files', 2, 1],
    ['write.data-files', 4, 3],
  ] as const)('killed at %s@%i: the manifest never claims more than bronze holds; the rerun commits exactly the rest', async (point, hit, committed) => {
    const dir = await dirs.make(`killed-${point}-${hit}`);
    const killed = await bootstrap(dir, `${point}@${hit}=kill`);
    expect(killed.signal, describeChild(killed)).toBe('SIGKILL');
    const n = committed;
    const held = await bronzeFiles(dir);
    expect(held).toHaveLength(n);
    const heldShas = new Set(held.map((f) => f.split(' ')[1]));
    // Never leads: an entry marked committed names bytes bronze holds.
    for (const entry of manifestEntries(dir)) if (entry.committed) expect(heldShas.has(entry.committed.sha256), entry.key).toBe(true);

    expect(commitsOf(await bootstrap(dir))).toBe(clean.length - n);
    expect(await bronzeFiles(dir)).toEqual(clean);
    const entries = manifestEntries(dir);
    expect(entries.length).toBe(clean.length);
    expect(entries.every((e) => e.committed?.sha256 === e.sha256)).toBe(true);
    expect(commitsOf(await bootstrap(dir))).toBe(0);
  }, 300_000);
});
