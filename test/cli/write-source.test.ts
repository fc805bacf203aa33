import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, describeChild, requireBuild, runCliProcess, type ChildResult } from '../helpers/child.js';
import { tempDirs } from '../helpers/temp-dir.js';

/**
 * The user's files given to commands (`lake write --from <file>`, `lake sql --file`,
 * `build-gold --dictionary <file>`, `demo --root`): every problem is a clear error naming the file
 * as the user wrote it, with the contract exit code, never DuckDB's echo of the SQL we built and
 * never a stack trace; nothing is committed.
 */
const dirs = tempDirs('write-source');
let work: string;

beforeAll(async () => {
  requireBuild();
  work = await dirs.make();
  writeFileSync(path.join(work, 'notes.txt'), 'team,wins\nKC,14\n');
  writeFileSync(path.join(work, 'fake.parquet'), 'team,wins\nKC,14\n');
  const real = readFileSync(path.join(REPO_ROOT, 'data/sample/pbp/play_by_play_2020_week01.parquet'));
  writeFileSync(path.join(work, 'truncated.parquet'), real.subarray(0, Math.floor(real.length / 2)));
  writeFileSync(path.join(work, 'broken.json'), '{"team": "KC", "wins": 14}\n{"team": "BUF"');
  // Past DuckDB's CSV sniffing sample (20480 rows), so only the full read meets the bad row.
  writeFileSync(path.join(work, 'late-bad-row.csv'), `team,wins\n${Array.from({ length: 30_000 }, (_, i) => `t${i},${i}`).join('\n')}\nKC,fourteen\n`);
  mkdirSync(path.join(work, 'folder.parquet'));
});
afterAll(() => dirs.cleanup());

function lake(...args: string[]): Promise<ChildResult> {
  return runCliProcess(args, { cwd: work, env: { LAKE_ROOT: path.join(work, 'tables'), LAKE_READER: 'native' } });
}

describe('lake write --from <file>: a file the lake cannot take is SOURCE_UNREADABLE (exit 3) naming it', () => {
  it.each([
    ['an unsupported extension', 'notes.txt', /--from notes\.txt: unsupported file type '\.txt'; lake write reads Parquet \(\.parquet\), CSV \(\.csv, \.csv\.gz\), JSON/],
    ['a missing file', 'missing.parquet', /--from missing\.parquet: no such file/],
    ['a missing file in a folder', './data/missing.csv', /--from \.\/data\/missing\.csv: no such file/],
    ['text under a .parquet name', 'fake.parquet', /--from fake\.parquet: cannot be read as Parquet: No magic bytes found at end of file 'fake\.parquet'/],
    ['a truncated Parquet file', 'truncated.parquet', /--from truncated\.parquet: cannot be read as Parquet/],
    ['malformed JSON', 'broken.json', /--from broken\.json: cannot be read as JSON: Malformed JSON in file "broken\.json"/],
    ['a bad CSV row after the sniffed sample', 'late-bad-row.csv', /--from late-bad-row\.csv: cannot be read as CSV: CSV Error on Line: 30002 .*"fourteen"/],
    ['a folder', 'folder.parquet', /--from folder\.parquet: is a folder, not a data file/],
  ])('%s (%s): exit 3, the file in the user\'s words, a hint, no SQL, no table', async (_name, from, message) => {
    const table = `silver.t_${from.replace(/\W/g, '_')}`;
    const r = await lake('write', table, '--from', from);
    expect(r.code, describeChild(r)).toBe(3);
    expect(r.stderr).toMatch(/^error \[SOURCE_UNREADABLE\]: /);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/\nhint: \S/);
    const [error] = r.stderr.split('\nhint:');
    expect(error).not.toMatch(/LINE 1|SELECT|read_(parquet|csv|json)\(|unexpected error|\n\s+at /);
    if (!/missing/.test(from)) expect(error).not.toContain(work);
    expect(existsSync(path.join(work, 'tables/silver', table.slice('silver.'.length), '_delta_log'))).toBe(false);
  });

  it('reports the code, exit code and file in --json', async () => {
    const r = await lake('write', 'silver.j', '--from', 'notes.txt', '--json');
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stderr)).toMatchObject({ error: { code: 'SOURCE_UNREADABLE', exitCode: 3, details: { file: 'notes.txt', formats: ['Parquet', 'CSV', 'JSON'] } } });
  });

  it('text that is neither a file nor a query stays a usage error (exit 2)', async () => {
    const r = await lake('write', 'silver.u', '--from', 'teams');
    expect(r.code, describeChild(r)).toBe(2);
    expect(r.stderr).toMatch(/error \[USAGE\]: --from teams: neither an existing file nor a query/);
  });

  it('a good file still writes', async () => {
    writeFileSync(path.join(work, 'good.csv'), 'team,wins\nKC,14\nBUF,13\n');
    const r = await lake('write', 'silver.good', '--from', 'good.csv');
    expect(r.code, describeChild(r)).toBe(0);
    expect(r.stdout).toMatch(/committed version 0 .* 2 rows/);
  });
});

describe('other commands that take a path: a clear usage error naming it, no stack trace', () => {
  it.each([
    ['lake sql --file <missing>', ['sql', '--file', 'nope.sql'], /error \[USAGE\]: --file nope\.sql: no such file/],
    ['lake sql --file <folder>', ['sql', '--file', 'folder.parquet'], /error \[USAGE\]: --file folder\.parquet: is a folder, not a file/],
    ['lake build-gold --dictionary <file in a missing folder>', ['build-gold', '--catalog', path.join(REPO_ROOT, 'catalog/datasets.yml'), '--dictionary', 'no-such-folder/dictionary.md'], /error \[USAGE\]: --dictionary no-such-folder\/dictionary\.md: cannot write the file \(ENOENT\)/],
    ['lake demo --root <below a file>', ['demo', '--root', 'notes.txt/demo'], /error \[USAGE\]: --root notes\.txt\/demo: cannot create the demo folder there \(ENOTDIR\)/],
  ])('%s: exit 2', async (_name, args, message) => {
    const r = await lake(...args);
    expect(r.code, describeChild(r)).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
  });
});
