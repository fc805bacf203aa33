import { readdirSync, readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitFileName, LOG_DIR } from '../../src/delta/index.js';
import { installDeltaExtension, literal } from '../../src/engine/index.js';
import { openLake, prepareQuery, resolveTable, tableHistory, tableSnapshot, writeTable, type Lake } from '../../src/table/index.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { canonical, duckdbAnswer, type Answer } from './normalize.js';
import { venvDeltaExtension } from './oracle.js';
import { demoLakeOnS3, downloadFolder, listKeys, s3a, sparkUseS3, useServerEnv } from './s3.js';
import { ourProfile, profileMismatches, sparkProfile, sparkRead, sparkSkipReason, sparkTable, startSpark, type SparkServer } from './spark.js';
import { COLUMNS, TableModel, buildDemoLake, commitVersions, deltaTables, lowCardinalitySql, ourAnswer, rowsSql } from './tables.js';

/**
 * Spark (pyspark + delta-spark 4.0, one session for this whole file, local[2], session time zone
 * America/New_York) judges our tables both ways:
 * - it reads every version of a demo lake (`lake demo`: 26 tables) with the same row count and
 *   per-column counts and sums as our reader, and every version of our writer's stress tables row
 *   for row (every type, odd partition strings, timestamp partitions in the UTC ISO form);
 * - it writes tables (column mapping name/id with renames of data and partition columns,
 *   deletion vectors, checkpoints, v2 checkpoints, timestamp and timestamp_ntz partitions,
 *   in-commit timestamps) that our reader reads row for row at every version, as does
 *   `--reader extension` (served natively where DuckDB's delta extension would read it wrong);
 * - on the S3 test server (moto, test/helpers/s3-server.ts; s3a:// through hadoop-aws, set per
 *   bucket in the same JVM), it reads every version of the demo pipeline run straight on S3 with
 *   the profiles our reader reads there, and writes a column-mapped, deletion-vector table with
 *   renames and a checkpoint that we read row for row from S3 and from a boto3 download.
 * Under CI=true a missing Spark fails the suite instead of skipping it.
 */
const skipReason = sparkSkipReason();
if (skipReason) {
  if (process.env['CI']) throw new Error(`the Spark interop suite cannot run under CI: ${skipReason}`);
  process.stderr.write(`[interop] skipping the Spark suite: ${skipReason}\n`);
}

let spark: SparkServer;
let lake: Lake;
let root: string;
let demo: Promise<string> | undefined;
/** The `lake demo` tables folder, built once for the file. */
function demoTables(): Promise<string> {
  demo ??= buildDemoLake(path.join(root, 'demo'));
  return demo;
}
const suiteStart = Date.now();
/** Reading every version through Spark takes minutes on a busy 2-core machine. */
const LONG = 900_000;

beforeAll(async () => {
  if (skipReason) return;
  root = mkdtempSync(path.join(tmpdir(), 'lake-interop-spark-'));
  lake = await openLake({ root: path.join(root, 'lake') });
  const binary = venvDeltaExtension();
  if (!binary) throw new Error('the duckdb-extension-delta binary is not in .venv: run bash scripts/setup-oracles.sh');
  await installDeltaExtension({ from: binary });
  spark = await startSpark();
}, 900_000);

afterAll(async () => {
  if (skipReason) return;
  await spark?.close();
  lake?.close();
  if (!process.env['KEEP_TEST_DIRS']) rmSync(root, { recursive: true, force: true });
  const spent = [...(spark?.spent ?? [])].map(([op, s]) => `${op} ${s.requests}× ${(s.ms / 1000).toFixed(1)} s`).join(', ');
  process.stderr.write(
    `[interop] Spark suite: Spark ${spark?.spark} + delta-spark ${spark?.delta}, session start ${((spark?.startMs ?? 0) / 1000).toFixed(1)} s, in Spark: ${spent}; whole file ${((Date.now() - suiteStart) / 1000).toFixed(1)} s\n`,
  );
});

/** Our reader's rows of a version through `reader`, canonical. */
async function ours(tableRoot: string, version: number, reader: 'native' | 'extension' = 'native', on: Lake = lake): Promise<{ answer: Answer; served: string }> {
  const prepared = await prepareQuery(on, `SELECT * FROM delta_scan(${literal(tableRoot)}, version => ${version})`, { reader });
  return { answer: canonical(await duckdbAnswer(on.engine.connection, prepared.sql)), served: prepared.views.map((v) => v.reader).join() };
}

describe.skipIf(skipReason !== undefined)('Spark reads our tables', () => {
  it('reads every version of every table of a demo lake with our row counts and per-column counts and sums', async () => {
    const tablesDir = await demoTables();
    const tables = deltaTables(tablesDir);
    expect(tables.length).toBeGreaterThanOrEqual(20);
    const mismatches: string[] = [];
    let versionsRead = 0;
    let oursMs = 0;
    for (const tableRoot of tables) {
      for (const version of commitVersions(tableRoot)) {
        const began = Date.now();
        const { profile: mine, fields } = await ourProfile(lake, tableRoot, version);
        oursMs += Date.now() - began;
        const theirs = await sparkProfile(spark, tableRoot, version, fields);
        const name = `${path.relative(tablesDir, tableRoot)}@v${version}`;
        mismatches.push(...profileMismatches(mine, theirs, fields).map((m) => `${name} ${m}`));
        versionsRead++;
      }
    }
    process.stderr.write(`[interop] Spark read ${versionsRead} versions of ${tables.length} demo tables; our reader's profiles took ${(oursMs / 1000).toFixed(1)} s\n`);
    expect(mismatches).toEqual([]);
    expect(versionsRead).toBeGreaterThan(tables.length);
  }, LONG);

  const scenarios = [
    {
      name: 'partitioned by a string column with odd values',
      partitionBy: ['p'],
      steps: [
        { mode: 'append' as const, sql: rowsSql(0, 48) },
        { mode: 'replace' as const, sql: rowsSql(200, 6, ['=', '%', 'São Paulo', '🏈', '/', null]) },
        { mode: 'overwrite' as const, sql: rowsSql(400, 36) },
      ],
    },
    {
      name: 'partitioned by date, boolean, timestamp, decimal and tinyint columns',
      partitionBy: ['day', 'flag', 'ts', 'amount', 'i8'],
      steps: [
        { mode: 'append' as const, sql: lowCardinalitySql(0, 40) },
        { mode: 'replace' as const, sql: lowCardinalitySql(100, 6) },
        { mode: 'append' as const, sql: lowCardinalitySql(200, 20) },
      ],
    },
  ];

  it.each(scenarios)('reads every version of a table of ours $name row for row, in New York time', async ({ name, partitionBy, steps }) => {
    const tableRoot = path.join(root, 'ours', name.replace(/\W+/g, '-'));
    const model = new TableModel(COLUMNS, partitionBy);
    for (const step of steps) {
      await writeTable(lake, { table: resolveTable(lake, tableRoot), source: step.sql, mode: step.mode, partitionBy, configuration: { 'delta.checkpointInterval': '2' } });
      model.apply(step.mode, await duckdbAnswer(lake.engine.connection, step.sql));
    }
    for (const [version, expected] of model.versions.entries()) {
      expect(canonical(await ourAnswer(lake, tableRoot, version)), `ours v${version}`).toEqual(expected);
      expect(canonical(await sparkRead(spark, tableRoot, version)), `Spark v${version}`).toEqual(expected);
    }
  }, LONG);

  it('reads a timestamp partition in the UTC ISO form right, and the zone-less form five hours off in New York (why we write the zone)', async () => {
    const tableRoot = path.join(root, 'ours', 'ts-forms');
    const table = resolveTable(lake, tableRoot);
    await writeTable(lake, { table, source: `SELECT 1 AS id, TIMESTAMPTZ '2021-01-14 14:59:59.123456+00' AS ts`, mode: 'append', partitionBy: ['ts'] });
    const iso = await sparkRead(spark, tableRoot, 0);
    expect(iso.rows).toEqual([['1', '2021-01-14T14:59:59.123456Z']]);
    const commit = path.join(tableRoot, LOG_DIR, commitFileName(0));
    writeFileSync(commit, readFileSync(commit, 'utf8').replace('"ts":"2021-01-14T14:59:59.123456Z"', '"ts":"2021-01-14 14:59:59.123456"'));
    expect((await ours(tableRoot, 0)).answer.rows).toEqual([['1', '2021-01-14T14:59:59.123456Z']]);
    expect((await sparkRead(spark, tableRoot, 0)).rows).toEqual([['1', '2021-01-14T19:59:59.123456Z']]);
  });
});

interface SparkHistoryEntry {
  version: number;
  timestamp: number;
  operation: string;
  operationMetrics: Record<string, string>;
}

/** Spark SQL writing a column-mapped, deletion-vector table with renames of a data and a partition column. */
function columnMappedSteps(t: string, mode: 'name' | 'id'): string[][] {
  const rows = (from: number, to: number): string =>
    `SELECT id, concat('n', id), CAST(id AS DOUBLE) / 3, CAST(id * 1.25 AS DECIMAL(10,2)), timestamp_seconds(1704067200 + id * 3601), ` +
    `CASE id % 3 WHEN 0 THEN 'north' WHEN 1 THEN 'south' ELSE NULL END FROM range(${from}, ${to})`;
  return [
    [
      `CREATE TABLE ${t} (id BIGINT, name STRING, score DOUBLE, amount DECIMAL(10,2), ts TIMESTAMP, region STRING) USING delta PARTITIONED BY (region) ` +
        `TBLPROPERTIES ('delta.columnMapping.mode' = '${mode}', 'delta.enableDeletionVectors' = 'true', 'delta.checkpointInterval' = '3', 'delta.enableInCommitTimestamps' = 'true')`,
    ],
    [`INSERT INTO ${t} ${rows(0, 1500)}`],
    [`DELETE FROM ${t} WHERE id % 7 = 0`],
    [`ALTER TABLE ${t} RENAME COLUMN name TO full_name`],
    [`ALTER TABLE ${t} RENAME COLUMN region TO area`],
    [`INSERT INTO ${t} ${rows(1500, 1600)}`],
    [`UPDATE ${t} SET score = -1 WHERE id % 11 = 0`],
    [`ALTER TABLE ${t} ADD COLUMNS (note STRING)`],
    [`INSERT INTO ${t} SELECT id, 'late', 0, 1, timestamp_seconds(0), 'west', 'added after the rename' FROM range(2000, 2010)`],
    [`DELETE FROM ${t} WHERE area = 'north'`],
    [`OPTIMIZE ${t}`],
  ];
}

describe.skipIf(skipReason !== undefined)('tables Spark writes, read by us', () => {
  /** Spark writes the table one statement group (one commit) at a time, then every version is read by Spark and by us. */
  async function checkEveryVersion(tableRoot: string, served: (version: number) => string): Promise<number[]> {
    const { versions } = await spark.request<{ versions: number[] }>({ op: 'versions', path: tableRoot });
    for (const version of versions) {
      const expected = canonical(await sparkRead(spark, tableRoot, version));
      const native = await ours(tableRoot, version, 'native');
      expect(native.answer, `native v${version}`).toEqual(expected);
      const extension = await ours(tableRoot, version, 'extension');
      expect(extension.answer, `--reader extension v${version}`).toEqual(expected);
      expect(extension.served, `reader serving v${version}`).toBe(served(version));
    }
    return versions;
  }

  const columnMapped = new Map<string, Promise<string>>();
  /** The column-mapped table Spark writes (once per mode for the file). */
  function columnMappedTable(mode: 'name' | 'id'): Promise<string> {
    let built = columnMapped.get(mode);
    if (!built) {
      const tableRoot = path.join(root, 'spark', `column-mapping-${mode}`);
      built = (async () => {
        for (const statements of columnMappedSteps(sparkTable(tableRoot), mode)) await spark.request({ op: 'sql', statements });
        return tableRoot;
      })();
      columnMapped.set(mode, built);
    }
    return built;
  }

  it.each(['name', 'id'] as const)(
    'column mapping %s with renamed data and partition columns, deletion vectors and checkpoints: every version row for row, the extension reader falling back to ours',
    async (mode) => {
      const tableRoot = await columnMappedTable(mode);
      expect(readdirSync(path.join(tableRoot, LOG_DIR)).some((n) => n.endsWith('.checkpoint.parquet'))).toBe(true);
      // DuckDB's delta extension returns the partition column as NULL here: every version is served natively.
      const versions = await checkEveryVersion(tableRoot, () => 'native');
      expect(versions).toHaveLength(11);
    },
    LONG,
  );

  it('the history of a column-mapped table: a DELETE by deletion vector removes its rows (not whole files twice), commit times are the in-commit timestamps, time travel by them lands on each version', async () => {
    const tableRoot = await columnMappedTable('name');
    const table = resolveTable(lake, tableRoot);
    const { history: theirs } = await spark.request<{ history: SparkHistoryEntry[] }>({ op: 'history', path: tableRoot });
    const mine = (await tableHistory(lake, table)).reverse();
    expect(mine.map((e) => e.version)).toEqual(theirs.map((e) => e.version));
    const del = mine[2]!;
    expect(theirs[2]).toMatchObject({ operation: 'DELETE', operationMetrics: { numDeletedRows: '215' } });
    expect(del).toMatchObject({ operation: 'DELETE', rowsAdded: 0, rowsRemoved: 215 });
    for (const [i, entry] of mine.entries()) {
      const ict = (entry.commitInfo as { inCommitTimestamp?: number } | undefined)?.inCommitTimestamp;
      expect(ict, `v${entry.version} inCommitTimestamp`).toBeTypeOf('number');
      expect(entry.timestamp, `v${entry.version}`).toBe(ict);
      expect(entry.timestamp, `v${entry.version} as Spark says`).toBe(theirs[i]!.timestamp);
      expect((await tableSnapshot(lake, table, { timestamp: entry.timestamp })).version).toBe(entry.version);
    }
  }, LONG);

  it('timestamp and timestamp_ntz partitions (Spark writes the UTC ISO form), v2 checkpoints: every version row for row, through both readers', async () => {
    const tableRoot = path.join(root, 'spark', 'timestamp-partitions');
    const t = sparkTable(tableRoot);
    const steps = [
      [
        `CREATE TABLE ${t} (id INT, ts TIMESTAMP, ntz TIMESTAMP_NTZ, day DATE, v STRING) USING delta PARTITIONED BY (ts, ntz) ` +
          `TBLPROPERTIES ('delta.checkpointPolicy' = 'v2', 'delta.checkpointInterval' = '2', 'delta.enableDeletionVectors' = 'true')`,
      ],
      [
        `INSERT INTO ${t} VALUES (1, TIMESTAMP '2021-03-14 01:59:59.123456', TIMESTAMP_NTZ '2021-03-14 01:59:59.123456', DATE '2021-03-14', 'a'), ` +
          `(2, TIMESTAMP '1969-12-31 23:59:59.999999', TIMESTAMP_NTZ '1969-12-31 23:59:59.999999', DATE '1969-12-31', 'b'), (3, NULL, NULL, NULL, NULL)`,
      ],
      [`INSERT INTO ${t} SELECT id, timestamp_seconds(id * 86399), CAST(timestamp_seconds(id * 86399) AS TIMESTAMP_NTZ), DATE '2024-01-01', CAST(id AS STRING) FROM range(10, 20)`],
      [`DELETE FROM ${t} WHERE id % 3 = 0`],
      [`INSERT INTO ${t} VALUES (100, TIMESTAMP '2024-07-04 12:00:00', TIMESTAMP_NTZ '2024-07-04 12:00:00', DATE '2024-07-04', 'z')`],
    ];
    for (const statements of steps) await spark.request({ op: 'sql', statements });
    const first = readFileSync(path.join(tableRoot, LOG_DIR, commitFileName(1)), 'utf8');
    expect(first).toMatch(/"partitionValues":\{"ts":"2021-03-14T06:59:59\.123456Z","ntz":"2021-03-14 01:59:59\.123456"\}/);
    expect(readdirSync(path.join(tableRoot, LOG_DIR)).some((n) => /^\d{20}\.checkpoint\.[0-9a-f-]{36}\.(json|parquet)$/.test(n))).toBe(true);
    const versions = await checkEveryVersion(tableRoot, () => 'extension');
    expect(versions).toHaveLength(5);
  }, LONG);
});

describe.skipIf(skipReason !== undefined)('Spark on the S3 server (s3a://, hadoop-aws)', () => {
  let server: S3TestServer;
  let restoreEnv: () => void;
  let s3Lakes: Lake[] = [];

  beforeAll(async () => {
    server = await startS3Server();
    await sparkUseS3(spark, server);
    restoreEnv = useServerEnv(server, { LAKE_TEMP_DIR: path.join(root, 's3-temp') });
  }, 60_000);

  afterAll(async () => {
    for (const l of s3Lakes) l.close();
    s3Lakes = [];
    restoreEnv?.();
    await server?.stop();
  });

  /** Our lake on the server, for our reader to read s3:// tables directly. */
  async function lakeOnS3(url: string): Promise<Lake> {
    const opened = await openLake({ root: url });
    s3Lakes.push(opened);
    return opened;
  }

  it('reads every version of every table of the demo pipeline run straight on S3 (LAKE_ROOT=s3://…) with the row counts and per-column counts and sums our reader reads there', async () => {
    const url = server.url('lake');
    const tables = await demoLakeOnS3(server, url, path.join(root, 's3-temp'));
    expect(tables.size).toBeGreaterThanOrEqual(20);
    const onS3 = await lakeOnS3(url);
    const mismatches: string[] = [];
    let versionsRead = 0;
    for (const [table, versions] of tables) {
      for (const version of versions) {
        const { profile: mine, fields } = await ourProfile(onS3, `${url}/${table}`, version);
        const theirs = await sparkProfile(spark, s3a(`${url}/${table}`), version, fields);
        mismatches.push(...profileMismatches(mine, theirs, fields, 'Spark on s3a').map((m) => `${table}@v${version} ${m}`));
        versionsRead++;
      }
    }
    process.stderr.write(`[interop] Spark read ${versionsRead} versions of ${tables.size} demo tables on the S3 server\n`);
    expect(mismatches).toEqual([]);
    expect(versionsRead).toBeGreaterThan(tables.size);
  }, LONG);

  it('writes a column-mapped table with deletion vectors, renames and checkpoints on S3 that we read row for row at every version, from S3 and from a boto3 download', async () => {
    const url = server.url('spark/column-mapping-name');
    // The first six commits of the local column-mapped table (CREATE, INSERT, a DV DELETE, both
    // renames, INSERT; checkpoint at v3): the S3 part of the Spark suite stays short.
    for (const statements of columnMappedSteps(sparkTable(s3a(url)), 'name').slice(0, 6)) await spark.request({ op: 'sql', statements });
    const keys = await listKeys(server, url);
    expect(keys.some((k) => /^_delta_log\/\d{20}\.checkpoint\.parquet$/.test(k)), keys.join('\n')).toBe(true);
    expect(keys.some((k) => /deletion_vector_[0-9a-f-]+\.bin$/.test(k)), keys.join('\n')).toBe(true);
    const local = path.join(root, 'from-s3', 'column-mapping-name');
    await downloadFolder(server, url, local);
    const onS3 = await lakeOnS3(server.url('spark'));
    const { versions } = await spark.request<{ versions: number[] }>({ op: 'versions', path: s3a(url) });
    expect(versions).toEqual(commitVersions(local));
    expect(versions).toEqual([0, 1, 2, 3, 4, 5]);
    for (const version of versions) {
      const expected = canonical(await sparkRead(spark, s3a(url), version));
      expect((await ours(local, version, 'native')).answer, `native, downloaded, v${version}`).toEqual(expected);
      expect((await ours(url, version, 'native', onS3)).answer, `native on S3 v${version}`).toEqual(expected);
    }
    // After the renames the data column is `full_name` and the partition column `area`.
    expect((await ours(url, 5, 'native', onS3)).answer.columns).toEqual(['amount', 'area', 'full_name', 'id', 'score', 'ts']);
  }, LONG);
});
