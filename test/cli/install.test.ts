import { execFile } from 'node:child_process';
import { readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_MAIN, REPO_ROOT, requireBuild } from '../helpers/child.js';
import { tempDirs } from '../helpers/temp-dir.js';

/**
 * `lake` on the PATH (README "Quick start"): `npm link` / `npm install -g .` put a symlink named
 * `lake` to package.json's bin, dist/cli/main.js, into npm's bin folder. It must run from any
 * folder through that symlink.
 */
const run = promisify(execFile);
const dirs = tempDirs('lake-install');
const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
afterAll(() => dirs.cleanup());

describe('lake as an installed command', () => {
  it('has a node shebang on the bin entry, which the build makes executable', () => {
    expect(pkg.bin['lake']).toBe('dist/cli/main.js');
    expect(readFileSync(path.join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(pkg.scripts['build']).toContain("chmodSync('dist/cli/main.js',0o755)");
  });

  it('runs through a symlink from another folder, with the lake of LAKE_ROOT', async () => {
    requireBuild();
    const elsewhere = await dirs.make('cwd');
    const link = path.join(elsewhere, 'lake');
    symlinkSync(CLI_MAIN, link);
    const env = { ...process.env, LAKE_ROOT: path.join(elsewhere, 'tables') };
    const version = await run(process.execPath, [link, '--version'], { cwd: elsewhere, env });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    await run(process.execPath, [link, 'write', 'bronze.t', '--from', 'SELECT 1 AS id'], { cwd: elsewhere, env });
    const query = await run(process.execPath, [link, 'sql', 'SELECT count(*) AS n FROM bronze.t', '--json'], { cwd: elsewhere, env });
    expect(JSON.parse(query.stdout)).toEqual({ n: 1 });
  });
});
