import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliError, describeChild, requireBuild, runCliProcess, type ChildResult } from '../helpers/child.js';
import { tempDirs } from '../helpers/temp-dir.js';

/**
 * One error path for every failure (src/cli/program.ts runCli): a stable code, a message in the
 * user's words (their table and column names, never the rewrite's `__lake_0`, `__empty` or
 * `read_parquet(...)`), a hint, and JSON on stderr with --json (and `lake sql --format json`).
 */
const dirs = tempDirs('lake-errors');
let root: string;
let empty: string;

function lake(args: string[], lakeRoot = root): Promise<ChildResult> {
  return runCliProcess(args, { env: { LAKE_ROOT: lakeRoot, LAKE_READER: 'native' } });
}

const REWRITE = /__lake_|__empty|read_parquet|__delta_scan/;

beforeAll(async () => {
  requireBuild();
  root = await dirs.make('lake');
  empty = path.join(await dirs.make('empty'), 'tables');
  mkdirSync(empty);
  const r = await lake(['write', 'silver.plays', '--from', "SELECT range::INT AS play_id, (range % 2)::INT AS season, 'KC' AS posteam FROM range(4)", '--partition-by', 'season']);
  expect(r.code, describeChild(r)).toBe(0);
}, 60_000);
afterAll(() => dirs.cleanup());

describe('missing tables name the lake root and what it holds', () => {
  it('says an empty lake is empty and how to fill it', async () => {
    const r = await lake(['sql', 'SELECT * FROM silver.pbp'], empty);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error [TABLE_NOT_FOUND]: no table silver.pbp in the lake at ${empty}\n`);
    expect(r.stderr).toContain(`hint: The lake at ${empty} has no tables yet.`);
    expect(r.stderr).toContain('lake demo --root .');
    expect(r.stderr).toContain('LAKE_ROOT');
    expect(r.stderr).not.toMatch(/schema "silver" does not exist/);
  });

  it('lists the tables of a lake that has some, with the nearest name', async () => {
    const r = await lake(['sql', 'SELECT count(*) FROM silver.play', '--json']);
    expect(r.code).toBe(2);
    const error = cliError(r);
    expect(error).toMatchObject({ code: 'TABLE_NOT_FOUND', message: `no table silver.play in the lake at ${root}; did you mean silver.plays?` });
    expect(error.hint).toBe(`Tables in the lake at ${root}: silver.plays.`);
  });

  it('does the same for the query of lake write --from, and writes nothing', async () => {
    const r = await lake(['write', 'gold.copy', '--from', 'SELECT * FROM silver.plays_v2', '--json']);
    expect(r.code).toBe(2);
    expect(cliError(r)).toMatchObject({ code: 'TABLE_NOT_FOUND', message: `no table silver.plays_v2 in the lake at ${root}; did you mean silver.plays?` });
    expect(existsSync(path.join(root, 'gold', 'copy'))).toBe(false);
  });

  it('does the same for history, and for a table of the wrong layer', async () => {
    const history = await lake(['history', 'gold.plays', '--json']);
    expect(history.code).toBe(2);
    expect(cliError(history)).toMatchObject({ code: 'TABLE_NOT_FOUND', message: `no table gold.plays in the lake at ${root}; did you mean silver.plays?` });
  });
});

describe('SQL errors speak of the user\'s query', () => {
  it('names an unknown column and the table, with the nearest columns', async () => {
    const r = await lake(['sql', 'SELECT posteem FROM silver.plays WHERE season = 1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error [SQL_ERROR]: DuckDB: column posteem not in silver.plays; did you mean posteam?');
    expect(r.stderr).toContain('LINE 1: SELECT posteem FROM silver.plays WHERE season = 1');
    expect(r.stderr).not.toMatch(REWRITE);
  });

  it('places a syntax error in the user\'s text, AT clause included', async () => {
    const r = await lake(['sql', 'SELECT play_id FRM silver.plays AT (VERSION => 0)']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Parser Error: syntax error at or near "silver"');
    expect(r.stderr).toContain('LINE 1: SELECT play_id FRM silver.plays AT (VERSION => 0)');
    expect(r.stderr).not.toMatch(REWRITE);
  });

  it('keeps a column error in a delta_scan query free of the rewrite', async () => {
    const r = await lake(['sql', `SELECT nosuchcol FROM delta_scan('${path.join(root, 'silver', 'plays')}')`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('column nosuchcol not in');
    expect(r.stderr).not.toMatch(/__lake_|__empty|read_parquet/);
  });

  it('reports a runtime error (no rebinding reproduces it) without the rewritten SQL', async () => {
    const r = await lake(['sql', "SELECT posteam::INT FROM silver.plays"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Conversion Error: Could not convert string 'KC' to INT32");
    expect(r.stderr).not.toMatch(REWRITE);
  });

  it('prints SQL errors as JSON with --json and with --format json', async () => {
    for (const flag of [['--json'], ['--format', 'json']]) {
      const r = await lake(['sql', 'SELECT nosuchcol FROM silver.plays', ...flag]);
      expect(r.code).toBe(2);
      expect(cliError(r)).toMatchObject({ code: 'SQL_ERROR', exitCode: 2, message: expect.stringContaining('column nosuchcol not in silver.plays') });
    }
  });

  it('answers rows as JSON lines with --json', async () => {
    const r = await lake(['sql', 'SELECT play_id FROM silver.plays ORDER BY play_id LIMIT 2', '--json']);
    expect(r.code, describeChild(r)).toBe(0);
    expect(r.stdout).toBe('{"play_id":0}\n{"play_id":1}\n');
  });
});

describe('parser errors have the USAGE code, a hint, and honour --json', () => {
  it.each([
    [['nosuchcommand'], 'commander.unknownCommand', "unknown command 'nosuchcommand'", 'lake --help'],
    [['sql', 'SELECT 1', '--jsn'], 'commander.unknownOption', "unknown option '--jsn' (Did you mean --json?)", 'lake sql --help'],
    [['diff', 'silver.plays'], 'commander.missingMandatoryOptionValue', "required option '--from <version|timestamp>' not specified", 'lake diff --help'],
    [['write', 'silver.x', '--from', 'SELECT 1', '--mode', 'sideways'], 'commander.invalidArgument', "argument 'sideways' is invalid. Allowed choices are append, overwrite, replace.", 'lake write --help'],
    [['history'], 'commander.missingArgument', "missing required argument 'table'", 'lake history --help'],
    [['history', 'silver.plays', '--limit', 'abc'], undefined, "--limit must be a non-negative integer, got 'abc'", 'lake history --help'],
  ])('lake %j', async (args, parser, message, help) => {
    const text = await lake(args);
    expect(text.code).toBe(2);
    expect(text.stderr).toMatch(/^error \[USAGE\]: /);
    expect(text.stderr).toContain(message);
    expect(text.stderr).toContain(`hint: Run \`${help}\``);
    expect(text.stderr).not.toContain('Usage: lake');
    const json = await lake([...args, '--json']);
    expect(json.code).toBe(2);
    const error = cliError(json);
    expect(error.code).toBe('USAGE');
    expect(error.message).toContain(message);
    expect(error.hint).toContain(help);
    expect(error.details?.parser).toBe(parser);
  });
});

describe('help and messages say what the commands do', () => {
  it('lake sql --help describes the readers as they are, and --json', async () => {
    const r = await lake(['sql', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--json');
    expect(r.stdout).toContain('native: our own Delta log replay');
    expect(r.stdout).not.toContain('when it loads');
  });

  it('lake vacuum --help says --log-cleanup removes commit files', async () => {
    const r = await lake(['vacuum', '--help']);
    expect(r.stdout).not.toContain('never touches _delta_log');
    expect(r.stdout).toContain('_delta_log only with --log-cleanup');
  });

  it('says "1 hour", not "1 hours"', async () => {
    const r = await lake(['vacuum', 'silver.plays', '--retain-hours', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('a retention of 1 hour is under the 168-hour minimum');
  });
});
