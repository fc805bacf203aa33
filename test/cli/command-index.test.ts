import { describe, expect, it } from 'vitest';
import { COMMAND_INDEX } from '../../src/cli/command-index.js';
import { buildProgram, commandIndexOf, subcommandOf, wantsJson } from '../../src/cli/program.js';

/**
 * `lake --help` loads no command module: it draws the commands from src/cli/command-index.ts.
 * These tests fail when that file no longer matches the modules; regenerate it with
 *   npx tsc -p tsconfig.build.json && node scripts/gen-command-index.mjs
 */
const io = { out: () => undefined, err: () => undefined };

describe('the command index behind the fast root help', () => {
  it('matches the commands the modules register (names, usage terms, descriptions, modules)', async () => {
    expect(COMMAND_INDEX).toEqual(await commandIndexOf(io));
  });

  it('gives the same root help as the fully loaded program', async () => {
    const light = await buildProgram(io, ['node', 'lake', '--help']);
    const full = await buildProgram(io);
    expect(light.commands.length).toBe(COMMAND_INDEX.length);
    expect(light.helpInformation()).toBe(full.helpInformation());
  });

  it('loads only the table module for lake sql, and every module for other commands', async () => {
    const sql = await buildProgram(io, ['node', 'lake', 'sql', 'SELECT 1']);
    expect(sql.commands.map((c) => c.name())).toEqual(COMMAND_INDEX.filter((c) => c.module === 'table').map((c) => c.name));
    const ingest = await buildProgram(io, ['node', 'lake', 'update', '--dry-run']);
    const update = ingest.commands.find((c) => c.name() === 'update')!;
    // Decorations by later modules are there: --build-gold (gold) and --optimize (gc).
    expect(update.options.map((o) => o.long)).toEqual(expect.arrayContaining(['--build-gold', '--optimize']));
  });
});

describe('subcommandOf', () => {
  it.each([
    [['--help'], {}],
    [['--log-level', 'debug', 'sql', 'x'], { name: 'sql' }],
    [['-V'], {}],
    [['help', 'history'], { name: 'help', helpFor: 'history' }],
    [['help'], { name: 'help', helpFor: undefined }],
    [['restore', 'silver.pbp', '--version', '3'], { name: 'restore' }],
  ])('%j → %j', (args, expected) => {
    expect(subcommandOf(args)).toEqual(expected);
  });
});

describe('wantsJson', () => {
  it.each([
    [['sql', 'x', '--json'], true],
    [['sql', 'x', '--format', 'json'], true],
    [['sql', 'x', '--format=json'], true],
    [['sql', 'x', '--format', 'csv'], false],
    [['history', 't'], false],
  ])('%j → %s', (args, expected) => {
    expect(wantsJson(args)).toBe(expected);
  });
});
