import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerIngestCommands } from '../../../src/cli/ingest-commands.js';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';

/** Progress of `lake update` (src/cli/progress.ts) with stderr a terminal or not, against the local upstream. */
let server: UpstreamServer;
let dir: string;
const ESC = '\x1b';

beforeAll(async () => {
  server = await startUpstreamServer();
  dir = mkdtempSync(path.join(tmpdir(), 'bronze-progress-'));
  Object.assign(process.env, { LAKE_LOGS_DIR: path.join(dir, 'logs'), ...server.env() });
  delete process.env['LAKE_PROGRESS'];
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(isTTY: boolean, root: string): Promise<{ out: string; err: string }> {
  Object.assign(process.env, { LAKE_ROOT: path.join(dir, root, 'tables'), LAKE_RAW_DIR: path.join(dir, root, 'raw') });
  let out = '';
  let err = '';
  const program = new Command('lake').exitOverride();
  registerIngestCommands(program, { out: (t) => (out += t), err: (t) => (err += t), isTTY });
  await program.parseAsync(['node', 'lake', 'update', '--datasets', 'teams,nextgen_stats', '--season', '2020']);
  return { out, err };
}

describe('ingest progress', () => {
  it('on a terminal: a live display redrawn in place on stderr, erased at the end; stdout keeps the summary alone', async () => {
    const { out, err } = await run(true, 'tty');
    expect(err.startsWith(`\r${ESC}[2K${ESC}[1mlake update · 0/2 datasets · 0/4 files · `)).toBe(true);
    expect(err).toMatch(new RegExp(`${ESC}\\[\\d+A\\r${ESC}\\[J$`)); // the last write erases the frame
    expect(err).toMatch(/ {2}(teams|nextgen_stats) \[\d\/\d files?\] /);
    expect(out).not.toContain(ESC);
    expect(out).toMatch(/bronze\.nextgen_stats\s+committed v0, v1, v2: \+2,697 rows from 3 files/);
    expect(out).toMatch(/4 commits, 0 failures · log /);
  });

  it('piped: a line per file and per dataset with rows, bytes, time and rate, the run around them, no escape codes', async () => {
    const { out, err } = await run(false, 'piped');
    expect(err).not.toContain(ESC);
    const lines = err.trimEnd().split('\n');
    expect(lines[0]).toBe('lake update: 2 datasets, 4 files');
    expect(lines.at(-1)).toMatch(/^lake update: ok · 4\/4 files · 2,733 rows · [\d.]+ KB · [\d.]+ s · [\d.,]+k? rows\/s · [\d.]+ [KM]B\/s$/);
    expect(lines).toContainEqual(expect.stringMatching(/^lake update: teams nflverse\/teams\/teams_colors_logos\.parquet: committed · 36 rows · [\d.]+ KB · [\d.]+ s · [\d.,]+k? rows\/s · [\d.]+ [KM]B\/s · 1\/1 file$/));
    expect(lines).toContainEqual(expect.stringMatching(/^lake update: teams: ok · 1\/1 file · 36 rows · [\d.]+ KB · [\d.]+ s · .* · run \d\/4 files/));
    expect(lines).toContainEqual(expect.stringMatching(/^lake update: nextgen_stats: ok · 3\/3 files · 2,697 rows · [\d.]+ KB · /));
    expect(lines.filter((l) => / nflverse\/nextgen_stats\/ngs_\w+\.parquet: committed · [\d,]+ rows · /.test(l))).toHaveLength(3);
    expect(lines).toHaveLength(1 + 4 + 2 + 1);
    expect(out.split('\n')[0]).toMatch(/^run \d{8}T\d{6}Z-[0-9a-f]{6} \(lake update\)$/);
  });
});
