import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerIngestCommands } from '../../../src/cli/ingest-commands.js';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';

let server: UpstreamServer;
let dir: string;

beforeAll(async () => {
  server = await startUpstreamServer();
  dir = mkdtempSync(path.join(tmpdir(), 'bronze-progress-'));
  Object.assign(process.env, { LAKE_RAW_DIR: path.join(dir, 'raw'), LAKE_LOGS_DIR: path.join(dir, 'logs'), ...server.env() });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(isTTY: boolean, root: string): Promise<{ out: string; err: string }> {
  process.env['LAKE_ROOT'] = path.join(dir, root);
  let out = '';
  let err = '';
  const program = new Command('lake').exitOverride();
  registerIngestCommands(program, { out: (t) => (out += t), err: (t) => (err += t), isTTY });
  await program.parseAsync(['node', 'lake', 'update', '--datasets', 'teams,nextgen_stats', '--season', '2020']);
  return { out, err };
}

describe('ingest command output', () => {
  it('shows one progress line per file on a terminal', async () => {
    const { out, err } = await run(true, 'tty');
    expect(err.trim().split('\n')).toEqual([
      expect.stringMatching(/^\[\d\/4\] (teams|nextgen_stats): nflverse\/.+ committed \(\+\d+ rows\)$/),
      expect.stringMatching(/^\[\d\/4\] /),
      expect.stringMatching(/^\[\d\/4\] /),
      expect.stringMatching(/^\[4\/4\] /),
    ]);
    expect(out).toMatch(/bronze\.nextgen_stats\s+committed v0, v1, v2: \+2,697 rows from 3 files/);
    expect(out).toMatch(/4 commits, 0 failures · log /);
  });

  it('prints only the summary when piped', async () => {
    const { out, err } = await run(false, 'piped');
    expect(err).toBe('');
    expect(out.split('\n')[0]).toMatch(/^run \d{8}T\d{6}Z-[0-9a-f]{6} \(lake update\)$/);
  });
});
