import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_MAIN, REPO_ROOT, requireBuild } from '../helpers/child.js';

/**
 * The README's doctest (docs/design.md "Runnable README blocks"): every fenced block whose info
 * string is `sh runnable` runs, in README order, as one terminal session would run it: bash with
 * `set -eo pipefail`, `lake` on the PATH (the built CLI), the repository as the starting folder,
 * HOME a fresh temp folder, no LAKE_* variable from outside; the variables a block exports and
 * the folder it ends in carry over to the next block. Each block must exit 0. A block followed by
 * a `text output` block must print those lines, in that order (other lines may come between);
 * `…` matches anything and runs of spaces compare equal. The tour's first block builds the demo
 * lake once (`lake demo --root ~/…`); every later block reads that lake.
 */
const README = path.join(REPO_ROOT, 'README.md');

interface DocBlock {
  line: number;
  code: string;
  expected?: string;
}

/** The runnable blocks of a Markdown text, each with the output block right after it, if any. */
function runnableBlocks(markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const fences: { open: number; close: number; info: string[]; body: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(`{3,})\s*(.*)$/.exec(lines[i]!);
    if (!fence) continue;
    let close = lines.findIndex((l, j) => j > i && l.trim().startsWith(fence[1]!) && /^`+$/.test(l.trim()));
    if (close === -1) close = lines.length;
    fences.push({ open: i, close, info: fence[2]!.trim().split(/\s+/), body: lines.slice(i + 1, close).join('\n') });
    i = close;
  }
  const blocks: DocBlock[] = [];
  fences.forEach((fence, k) => {
    if (fence.info[0] !== 'sh' || !fence.info.includes('runnable')) return;
    const next = fences[k + 1];
    const adjacent = next !== undefined && next.info.includes('output') && lines.slice(fence.close + 1, next.open).every((l) => l.trim() === '');
    blocks.push({ line: fence.open + 1, code: fence.body, expected: adjacent ? next.body : undefined });
  });
  return blocks;
}

const squash = (line: string): string => line.replace(/\s+/g, ' ').trim();

/** The first expected line (squashed) not found, in order, in the actual output; undefined when all are. */
function missingLine(actual: string, expected: string): string | undefined {
  const lines = actual.split('\n').map(squash);
  let at = 0;
  for (const want of expected.split('\n').map(squash).filter(Boolean)) {
    const pattern = new RegExp(`^${want.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    const found = lines.findIndex((l, i) => i >= at && pattern.test(l));
    if (found === -1) return want;
    at = found + 1;
  }
  return undefined;
}

interface Session {
  env: Record<string, string>;
  cwd: string;
}

function runBlock(session: Session, code: string, dir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const envFile = path.join(dir, 'session.env');
  const cwdFile = path.join(dir, 'session.cwd');
  const script = `set -eo pipefail\n${code}\nenv -0 > '${envFile}'\npwd > '${cwdFile}'\n`;
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd: session.cwd, env: session.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (exit) => {
      if (exit === 0) {
        session.env = Object.fromEntries(
          readFileSync(envFile, 'utf8')
            .split('\0')
            .filter((e) => e.includes('='))
            .map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
        );
        session.cwd = readFileSync(cwdFile, 'utf8').trim();
      }
      resolve({ code: exit, stdout, stderr });
    });
  });
}

const blocks = runnableBlocks(readFileSync(README, 'utf8'));
let dir: string;
let session: Session;

beforeAll(() => {
  requireBuild();
  dir = mkdtempSync(path.join(tmpdir(), 'readme-doctest-'));
  const bin = path.join(dir, 'bin');
  const home = path.join(dir, 'home');
  mkdirSync(bin);
  mkdirSync(home);
  writeFileSync(path.join(bin, 'lake'), `#!/bin/sh\nexec '${process.execPath}' '${CLI_MAIN}' "$@"\n`);
  chmodSync(path.join(bin, 'lake'), 0o755);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(LAKE_|NFLVERSE_|NFLDATA_|DYNASTYPROCESS_|MRCASEB_)/.test(k)) env[k] = v;
  session = { env: { ...env, HOME: home, PATH: `${bin}${path.delimiter}${env['PATH'] ?? ''}`, NO_COLOR: '1' }, cwd: REPO_ROOT };
});
afterAll(() => {
  if (!process.env['KEEP_TEST_DIRS']) rmSync(dir, { recursive: true, force: true });
});

describe('README runnable blocks (the doctest)', () => {
  it('marks the tour runnable: the demo, a query, time travel, the correction diff and a rollback', () => {
    const all = blocks.map((b) => b.code).join('\n');
    for (const piece of ['lake demo --root', 'lake sql', 'AT (VERSION =>', 'lake diff', 'lake rollback']) expect(all, piece).toContain(piece);
    expect(blocks.some((b) => b.expected !== undefined)).toBe(true);
  });

  it.each(blocks.map((b) => [b.line, b] as const))('README.md line %i runs and prints what it shows', async (_line, block) => {
    const result = await runBlock(session, block.code, dir);
    const report = `block at README.md line ${block.line}:\n${block.code}\nexit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
    expect(result.code, report).toBe(0);
    if (block.expected !== undefined) expect(missingLine(result.stdout, block.expected), report).toBeUndefined();
  }, 300_000);
});

describe('doctest parsing and matching', () => {
  it('finds sh runnable blocks and the output block right after them, and nothing else', () => {
    const md = ['```sh runnable', 'lake a', '```', '', '```text output', 'x … y', '```', '```sh', 'not me', '```', '```sh runnable', 'lake b', '```', 'prose', '```text output', 'not adjacent', '```'].join('\n');
    expect(runnableBlocks(md)).toEqual([
      { line: 1, code: 'lake a', expected: 'x … y' },
      { line: 11, code: 'lake b', expected: undefined },
    ]);
  });

  it('matches expected lines in order, with … as a wildcard and spaces squashed', () => {
    const actual = 'head\nKC   │ 0.2462  │ 0.3042\nrun 20261203T000031Z-6028ee done\ntail';
    expect(missingLine(actual, 'KC │ 0.2462 │ 0.3042\nrun … done')).toBeUndefined();
    expect(missingLine(actual, 'run … done\nKC │ 0.2462 │ 0.3042')).toBe('KC │ 0.2462 │ 0.3042');
    expect(missingLine(actual, 'KC │ 0.2462 │ 0.9999')).toBe('KC │ 0.2462 │ 0.9999');
  });
});
