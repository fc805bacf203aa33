import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFilesRecursive, putIfAbsent, readTextIfExists } from '../../src/storage/index.js';
import { CLI_MAIN, cliError, describeChild, jsonLines, requireBuild, runCliProcess, startNode, type ChildResult } from '../helpers/child.js';
import { s3ServerForTests, startHeaderStrippingProxy, type S3TestServer } from '../helpers/s3-server.js';
import { range } from '../helpers/lake.js';
import { tempDirs } from '../helpers/temp-dir.js';

/**
 * The lake on S3 (a real moto server on 127.0.0.1, test/helpers/s3-server.ts), driven through the
 * built CLI in real child processes: commits are conditional PUTs (`If-None-Match: *`), a lost
 * race is an OCC retry or an explicit conflict, a server that ignores the header is refused
 * before anything is written, and a writer killed at a fault point leaves the table at its last
 * good version.
 */
const dirs = tempDirs('s3-lake');
const s3 = s3ServerForTests();
let server: S3TestServer;

beforeAll(() => {
  requireBuild();
  server = s3.server();
});
afterAll(() => dirs.cleanup());

interface Lakeside {
  root: string;
  env: Record<string, string>;
  lake(args: readonly string[], extra?: Record<string, string>): Promise<ChildResult>;
}

let lakes = 0;
/** A fresh lake root on the server, with its own local temp folder. */
async function s3Lake(endpoint?: string): Promise<Lakeside> {
  const root = server.url(`lakes/lake-${++lakes}`);
  const env = { ...server.env, ...(endpoint ? { AWS_ENDPOINT_URL: endpoint } : {}), LAKE_ROOT: root, LAKE_READER: 'native', LAKE_TEMP_DIR: await dirs.make('tmp') };
  return { root, env, lake: (args, extra = {}) => runCliProcess(args, { env: { ...env, ...extra } }) };
}

function ok(r: ChildResult): ChildResult {
  expect(r.code, describeChild(r)).toBe(0);
  return r;
}

async function rows(l: Lakeside, sql: string): Promise<Record<string, unknown>[]> {
  return jsonLines(ok(await l.lake(['sql', sql, '--format', 'json'])).stdout);
}

async function logNames(tableRoot: string): Promise<string[]> {
  return (await listFilesRecursive(`${tableRoot}/_delta_log`)).map((f) => f.name).sort();
}

const commitName = (v: number): string => `${String(v).padStart(20, '0')}.json`;

describe('a lake on S3', () => {
  it('refuses a server that ignores If-None-Match (STORAGE_UNSAFE, exit 2) and writes nothing', async () => {
    const proxy = await startHeaderStrippingProxy(server.endpoint);
    try {
      const l = await s3Lake(proxy.endpoint);
      const r = await l.lake(['write', 'bronze.unsafe', '--from', "SELECT 1 AS a, 'x' AS b", '--json']);
      expect(r.code, describeChild(r)).toBe(2);
      const error = cliError(r);
      expect(error.code).toBe('STORAGE_UNSAFE');
      expect(error.message).toContain('If-None-Match');
      expect(error.message).toContain(server.bucket);
      // Nothing under the lake: no log entry, no data file, no probe left behind.
      expect(await listFilesRecursive(l.root)).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it("without DuckDB's httpfs extension, a command on an S3 lake stops with EXTENSION_MISSING (exit 2) naming the install command", async () => {
    const l = await s3Lake();
    // DuckDB looks for extensions under $HOME/.duckdb: an empty home has none.
    const r = await l.lake(['sql', 'SELECT 1', '--json'], { HOME: await dirs.make('home') });
    expect(r.code, describeChild(r)).toBe(2);
    const error = cliError(r);
    expect(error.code).toBe('EXTENSION_MISSING');
    expect(error.hint).toContain('lake extension install httpfs');
  });

  it('a missing bucket is STORAGE_ERROR (exit 5) naming the location and the endpoint', async () => {
    const l = await s3Lake();
    const r = await l.lake(['write', 'bronze.t', '--from', 'SELECT 1 AS a', '--json'], { LAKE_ROOT: 's3://no-such-bucket/lake' });
    expect(r.code, describeChild(r)).toBe(5);
    const error = cliError(r);
    expect(error.code).toBe('STORAGE_ERROR');
    expect(error.message).toContain('s3://no-such-bucket/lake/bronze/t');
    expect(error.message).toContain(server.endpoint);
  });

  it('writes, reads at every version, checkpoints, restores and vacuums', async () => {
    const l = await s3Lake();
    ok(await l.lake(['write', 'bronze.t', '--from', "SELECT * FROM (VALUES (2020, 'KC', 31), (2020, 'BUF', 24), (2021, 'KC', 42)) AS t(season, team, pts)", '--partition-by', 'season']));
    ok(await l.lake(['write', 'bronze.t', '--from', "SELECT 2021 AS season, 'NE' AS team, 10 AS pts"]));
    ok(await l.lake(['write', 'bronze.t', '--mode', 'replace', '--from', "SELECT 2020 AS season, 'KC' AS team, 7 AS pts"]));
    ok(await l.lake(['checkpoint', 'bronze.t']));
    const tableRoot = `${l.root}/bronze/t`;
    expect(await logNames(tableRoot)).toEqual([commitName(0), commitName(1), commitName(2), '00000000000000000002.checkpoint.parquet', '_last_checkpoint'].sort());
    expect(JSON.parse((await readTextIfExists(`${tableRoot}/_delta_log/_last_checkpoint`))!)).toMatchObject({ version: 2 });

    const at = async (v: number): Promise<Record<string, unknown>> => (await rows(l, `SELECT count(*)::INT AS n, sum(pts)::INT AS s FROM bronze.t AT (VERSION => ${v})`))[0]!;
    expect(await at(0)).toEqual({ n: 3, s: 97 });
    expect(await at(1)).toEqual({ n: 4, s: 107 });
    expect(await at(2)).toEqual({ n: 3, s: 59 });

    ok(await l.lake(['restore', 'bronze.t', '--version', '1']));
    expect(await rows(l, 'SELECT count(*)::INT AS n, sum(pts)::INT AS s FROM bronze.t')).toEqual([{ n: 4, s: 107 }]);
    const history = ok(await l.lake(['history', 'bronze.t', '--json'])).stdout;
    expect(history).toContain('"RESTORE"');

    // Every file the versions still reference stays; the replaced file of version 2 is expired at retention 0.
    // Objects the table did not write are never touched, only reported.
    const foreign = ['notes.txt', 'other/part-00000-x.parquet', 'season=2020/readme.md'];
    for (const key of foreign) await putIfAbsent(`${tableRoot}/${key}`, 'not ours');
    const vacuum = ok(await l.lake(['vacuum', 'bronze.t', '--retain-hours', '0', '--force', '--json']));
    const [metrics] = JSON.parse(vacuum.stdout) as { filesDeleted: number; ignored: { path: string }[] }[];
    expect(metrics!.filesDeleted).toBe(1);
    expect(metrics!.ignored.map((i) => i.path)).toEqual(['notes.txt', 'other/', 'season=2020/readme.md']);
    for (const key of foreign) expect(await readTextIfExists(`${tableRoot}/${key}`)).toBe('not ours');
    expect(await rows(l, 'SELECT count(*)::INT AS n, sum(pts)::INT AS s FROM bronze.t')).toEqual([{ n: 4, s: 107 }]);
    const old = await l.lake(['sql', 'SELECT count(*) FROM bronze.t AT (VERSION => 2)', '--json']);
    expect(cliError(old).code).toBe('DATA_FILE_MISSING');
  });

  it('4 writer processes appending 3 times each at once: 12 contiguous commits, no lost or duplicated rows', async () => {
    const WRITERS = 4;
    const APPENDS = 3;
    const l = await s3Lake();
    ok(await l.lake(['write', 'bronze.race', '--from', "SELECT 'seed' AS writer, 0 AS seq"]));
    const results = await Promise.all(range(WRITERS).map((w) => runWriter(l, `w${w}`, range(APPENDS).map((s) => ['write', 'bronze.race', '--json', '--from', `SELECT 'w${w}' AS writer, ${s + 1} AS seq`]))));
    const versions: number[] = [];
    for (const r of results) {
      expect(r.code, describeChild(r)).toBe(0);
      const outs = jsonLines<{ status: string; version: number; attempts: number }>(r.stdout);
      expect(outs.map((o) => o.status), describeChild(r)).toEqual(range(APPENDS).map(() => 'committed'));
      versions.push(...outs.map((o) => o.version));
    }
    // Every commit got its own version, and together they fill 1..12 without holes.
    expect(versions.sort((a, b) => a - b)).toEqual(range(WRITERS * APPENDS).map((v) => v + 1));
    expect((await logNames(`${l.root}/bronze/race`)).filter((n) => /^\d{20}\.json$/.test(n))).toEqual(range(WRITERS * APPENDS + 1).map(commitName));
    const all = await rows(l, "SELECT writer || '/' || seq AS k FROM bronze.race ORDER BY k");
    expect(all.map((r) => r['k'])).toEqual(['seed/0', ...range(WRITERS).flatMap((w) => range(APPENDS).map((s) => `w${w}/${s + 1}`))].sort());
  }, 180_000);

  it('a lost race (412) is retried for an append and an explicit DELTA_COMMIT_CONFLICT (exit 4) for a replace of the same partition', async () => {
    const l = await s3Lake();
    ok(await l.lake(['write', 'bronze.occ', '--partition-by', 'p', '--from', "SELECT 'a' AS p, 'seed' AS who"]));
    const tableRoot = `${l.root}/bronze/occ`;
    // The slow writer holds its commit (its data files are written) until the fast one has committed.
    const dataFiles = async (): Promise<number> => (await listFilesRecursive(tableRoot)).filter((f) => f.name.endsWith('.parquet') && !f.name.startsWith('_delta_log')).length;
    const race = async (mode: string, slowSql: string, fastSql: string): Promise<[ChildResult, ChildResult]> => {
      const before = await dataFiles();
      const slow = startNode(CLI_MAIN, ['write', 'bronze.occ', '--mode', mode, '--json', '--from', slowSql], { id: 'slow', env: { ...l.env, LAKE_FAULTPOINT: 'commit.temp-written=sleep(10000)' } });
      while ((await dataFiles()) === before && !slow.exited) await new Promise((r) => setTimeout(r, 20));
      const fast = await l.lake(['write', 'bronze.occ', '--mode', mode, '--json', '--from', fastSql]);
      return [await slow.done, fast];
    };

    // Both read version 0; the one that puts version 1 second gets 412, re-reads the log and commits version 2.
    // (Normally the fast one wins: the slow one is held 10 s; either order proves the same.)
    const appends = (await race('append', "SELECT 'b' AS p, 'slow' AS who", "SELECT 'b' AS p, 'fast' AS who")).map((r) => JSON.parse(ok(r).stdout) as { status: string; version: number; attempts: number });
    expect(appends.map((a) => [a.version, a.attempts]).sort()).toEqual([
      [1, 1],
      [2, 2],
    ]);

    // Replacing the same partition: one wins, the other is an explicit conflict, never a mix.
    const replaces = await race('replace', "SELECT 'a' AS p, 'slow' AS who", "SELECT 'a' AS p, 'fast' AS who");
    const winner = replaces.findIndex((r) => r.code === 0);
    const loser = replaces[1 - winner]!;
    expect(winner, replaces.map(describeChild).join('\n')).toBeGreaterThanOrEqual(0);
    expect(loser.code, describeChild(loser)).toBe(4);
    expect(cliError(loser).code).toBe('DELTA_COMMIT_CONFLICT');
    expect(await rows(l, "SELECT who FROM bronze.occ WHERE p = 'a'")).toEqual([{ who: winner === 0 ? 'slow' : 'fast' }]);
    expect((await logNames(tableRoot)).filter((n) => /^\d{20}\.json$/.test(n))).toEqual(range(4).map(commitName));
  }, 120_000);

  it.each([
    ['write.data-files', 1],
    ['commit.temp-written', 1],
    ['commit.linked', 2],
  ])('a writer killed at %s leaves a readable table (at version %i after it)', async (point, versions) => {
    const l = await s3Lake();
    ok(await l.lake(['write', 'bronze.crash', '--from', "SELECT 1 AS i"]));
    const killed = await l.lake(['write', 'bronze.crash', '--from', 'SELECT 2 AS i'], { LAKE_FAULTPOINT: point });
    expect(killed.signal, describeChild(killed)).toBe('SIGKILL');
    const tableRoot = `${l.root}/bronze/crash`;
    expect((await logNames(tableRoot)).filter((n) => /^\d{20}\.json$/.test(n))).toEqual(range(versions).map(commitName));
    expect(await rows(l, 'SELECT sum(i)::INT AS s FROM bronze.crash')).toEqual([{ s: versions === 1 ? 1 : 3 }]);
    // The next writer commits the next version.
    const next = JSON.parse(ok(await l.lake(['write', 'bronze.crash', '--json', '--from', 'SELECT 4 AS i'])).stdout) as { version: number };
    expect(next.version).toBe(versions);
  }, 120_000);
});

/** One writer process: runs the `lake` commands in sequence (each its own CLI process), printing their JSON results; stops at the first failure. */
async function runWriter(l: Lakeside, id: string, commands: string[][]): Promise<ChildResult> {
  const dir = await dirs.make(id);
  const file = path.join(dir, 'writer.mjs');
  await writeFile(
    file,
    `import { spawnSync } from 'node:child_process';
for (const args of ${JSON.stringify(commands)}) {
  const r = spawnSync(process.execPath, [${JSON.stringify(CLI_MAIN)}, ...args], { encoding: 'utf8' });
  process.stdout.write(JSON.stringify(JSON.parse(r.stdout || 'null')) + '\\n');
  if (r.status !== 0) { process.stderr.write(r.stderr); process.exit(r.status ?? 1); }
}
`,
  );
  return startNode(file, [], { id, env: l.env }).done;
}
