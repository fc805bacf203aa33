import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointFileName, LAST_CHECKPOINT, LOG_DIR } from '../../src/delta/index.js';
import { installDeltaExtension, literal } from '../../src/engine/index.js';
import { openLake, prepareQuery, resolveTable, runQuery, writeTable, type Lake } from '../../src/table/index.js';
import { canonical, duckdbAnswer, type Answer } from './normalize.js';
import { announceSkip, oracleQuery, oracleRead, oracleReadAll, venvDeltaExtension, type OracleAnswer } from './oracle.js';
import { COLUMNS, INT_PARTITIONS, STRING_PARTITIONS, TableModel, checkpointOnlyCopy, lowCardinalitySql, ourAnswer, rowsSql } from './tables.js';

/**
 * Tables OUR writer makes are read by delta-rs and by DuckDB's delta extension (Python, and the
 * same binary loaded into our own DuckDB) at EVERY version, and each answer equals our own
 * reader's and the model of what was written, row for row. Tables use
 * delta.checkpointInterval=2, so versions 2, 4, 6 … are checkpoints that readers start from.
 */
const skip = announceSkip('tables we write, read by delta-rs and the DuckDB delta extension');

type Step = { mode: 'append' | 'overwrite' | 'replace'; sql: string };

interface Scenario {
  name: string;
  partitionBy: string[];
  steps: Step[];
}

const SCENARIOS: Scenario[] = [
  {
    name: 'unpartitioned',
    partitionBy: [],
    steps: [
      { mode: 'append', sql: rowsSql(0, 40) },
      { mode: 'append', sql: rowsSql(100, 25) },
      { mode: 'append', sql: rowsSql(200, 10) },
      { mode: 'overwrite', sql: rowsSql(300, 30) },
      { mode: 'append', sql: rowsSql(400, 7) },
      { mode: 'append', sql: rowsSql(500, 1) },
    ],
  },
  {
    name: 'partitioned by a string column',
    partitionBy: ['p'],
    steps: [
      { mode: 'append', sql: rowsSql(0, 48) },
      { mode: 'append', sql: rowsSql(100, 30) },
      { mode: 'replace', sql: rowsSql(200, 6, ['=', '%']) },
      // '' is stored as NULL: replacing the '' partition replaces the NULL partition.
      { mode: 'replace', sql: rowsSql(250, 3, ['']) },
      { mode: 'append', sql: rowsSql(300, 24) },
      { mode: 'overwrite', sql: rowsSql(400, 36) },
      { mode: 'replace', sql: rowsSql(500, 8, ['São Paulo', '🏈', '/', null]) },
      { mode: 'append', sql: rowsSql(600, 12, ['+', ' ', "it's"]) },
    ],
  },
  {
    name: 'partitioned by an int column',
    partitionBy: ['n'],
    steps: [
      { mode: 'append', sql: rowsSql(0, 30) },
      { mode: 'append', sql: rowsSql(100, 12) },
      { mode: 'replace', sql: rowsSql(200, 4, STRING_PARTITIONS, [7, null]) },
      { mode: 'overwrite', sql: rowsSql(300, 18) },
      { mode: 'replace', sql: rowsSql(400, 5, STRING_PARTITIONS, [0, 2147483647]) },
      { mode: 'append', sql: rowsSql(500, 6, STRING_PARTITIONS, [-1]) },
    ],
  },
  {
    name: 'partitioned by date, boolean, timestamp, decimal and tinyint columns',
    partitionBy: ['day', 'flag', 'ts', 'amount', 'i8'],
    steps: [
      { mode: 'append', sql: lowCardinalitySql(0, 40) },
      { mode: 'replace', sql: lowCardinalitySql(100, 6) },
      { mode: 'append', sql: lowCardinalitySql(200, 20) },
      { mode: 'overwrite', sql: lowCardinalitySql(300, 30) },
      { mode: 'append', sql: lowCardinalitySql(400, 5) },
    ],
  },
];

const CHECKPOINT_INTERVAL = 2;

interface Built {
  scenario: Scenario;
  tableRoot: string;
  model: TableModel;
  latest: number;
}

let root: string;
let lake: Lake;
const built = new Map<string, Built>();
const oracle = new Map<string, { deltalake: OracleAnswer[]; duckdb: OracleAnswer[] }>();
let extensionReady = false;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'lake-interop-ours-'));
  lake = await openLake({ root });
  const binary = venvDeltaExtension();
  if (!skip && binary) {
    await installDeltaExtension({ from: binary });
    await lake.engine.connection.run('LOAD delta');
    extensionReady = true;
  }
});

/** Writes the scenario's table step by step and has the oracles read every version (once per file). */
async function buildScenario(scenario: Scenario): Promise<void> {
  if (built.has(scenario.name)) return;
  const tableRoot = path.join(root, scenario.name.replace(/\W+/g, '-'));
  const model = new TableModel(COLUMNS, scenario.partitionBy);
  let latest = -1;
  for (const step of scenario.steps) {
    const result = await writeTable(lake, {
      table: resolveTable(lake, tableRoot),
      source: step.sql,
      mode: step.mode,
      partitionBy: scenario.partitionBy,
      configuration: { 'delta.checkpointInterval': String(CHECKPOINT_INTERVAL) },
    });
    expect(result.status).toBe('committed');
    if (result.status === 'committed') {
      expect(result.version).toBe(latest + 1);
      expect(result.checkpointed).toBe(result.version > 0 && result.version % CHECKPOINT_INTERVAL === 0);
      latest = result.version;
    }
    model.apply(step.mode, await duckdbAnswer(lake.engine.connection, step.sql));
  }
  if (!skip) {
    const [deltalake, duckdb] = await Promise.all([oracleReadAll(tableRoot, 'deltalake'), oracleReadAll(tableRoot, 'duckdb')]);
    oracle.set(scenario.name, { deltalake, duckdb });
  }
  built.set(scenario.name, { scenario, tableRoot, model, latest });
}

function scenarioNamed(name: string): Scenario {
  return SCENARIOS.find((s) => s.name === name)!;
}

afterAll(() => {
  lake?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

function versionsOf(name: string): number[] {
  const b = built.get(name)!;
  return Array.from({ length: b.latest + 1 }, (_, v) => v);
}

/** Compares one reader's answer with the model, with a message that names the reader and version. */
function expectSame(reader: string, name: string, version: number, got: Answer): void {
  const want = built.get(name)!.model.versions[version]!;
  const actual = canonical(got);
  expect.soft(actual.columns, `${reader} columns, ${name} v${version}`).toEqual(want.columns);
  expect.soft(actual.rows.length, `${reader} row count, ${name} v${version}`).toBe(want.rows.length);
  expect.soft(actual.rows, `${reader} rows, ${name} v${version}`).toEqual(want.rows);
}

describe('timestamp partition values', () => {
  const name = 'partitioned by date, boolean, timestamp, decimal and tinyint columns';
  beforeAll(() => buildScenario(scenarioNamed(name)));

  it('are logged in the UTC ISO form with microseconds, the form every reader above reads', () => {
    const values = readFileSync(path.join(built.get(name)!.tableRoot, LOG_DIR, '00000000000000000000.json'), 'utf8')
      .split('\n')
      .flatMap((line) => (line.startsWith('{"add"') ? [(JSON.parse(line) as { add: { partitionValues: Record<string, string | null> } }).add.partitionValues['ts']] : []));
    expect(new Set(values)).toEqual(new Set(['2024-01-01T10:00:00.123456Z', '2024-01-01T10:00:01.123457Z']));
  });
});

describe.each(SCENARIOS.map((s) => s.name))('a table we write, %s', (name) => {
  beforeAll(() => buildScenario(scenarioNamed(name)));

  it('writes one version per step and a checkpoint every 2 commits', () => {
    const b = built.get(name)!;
    expect(b.latest).toBe(b.scenario.steps.length - 1);
    for (let v = CHECKPOINT_INTERVAL; v <= b.latest; v += CHECKPOINT_INTERVAL) {
      expect(existsSync(path.join(b.tableRoot, LOG_DIR, checkpointFileName(v))), `checkpoint ${v}`).toBe(true);
    }
    const last = JSON.parse(readFileSync(path.join(b.tableRoot, LOG_DIR, LAST_CHECKPOINT), 'utf8')) as { version: number };
    expect(last.version).toBe(b.latest - (b.latest % CHECKPOINT_INTERVAL));
  });

  it('is read by our own reader at every version exactly as written (model: empty partition strings become NULL)', async () => {
    for (const v of versionsOf(name)) expectSame('our reader', name, v, await ourAnswer(lake, built.get(name)!.tableRoot, v));
  });

  it('returns the same rows through runQuery (the CLI path) as through the full-fidelity reader', async () => {
    const b = built.get(name)!;
    const result = await runQuery(lake, `SELECT count(*) AS n, count(DISTINCT id) AS ids FROM delta_scan(${literal(b.tableRoot)})`);
    const want = b.model.versions[b.latest]!.rows.length;
    expect(result.rows[0]?.map(Number)).toEqual([want, want]);
  });

  it.skipIf(skip)('is read by delta-rs at every version with the same rows as our reader', () => {
    const answers = oracle.get(name)!.deltalake;
    expect(answers.map((a) => a.version)).toEqual(versionsOf(name));
    for (const a of answers) expectSame('delta-rs', name, a.version, a);
  });

  it.skipIf(skip)("is read by DuckDB's delta extension (Python) at every version with the same rows", () => {
    const answers = oracle.get(name)!.duckdb;
    expect(answers.map((a) => a.version)).toEqual(versionsOf(name));
    for (const a of answers) expectSame('duckdb delta extension (python)', name, a.version, a);
  });

  it.skipIf(skip)('keeps the schema order of its columns for delta-rs', () => {
    for (const a of oracle.get(name)!.deltalake) expect(a.columns, `v${a.version}`).toEqual(COLUMNS);
  });

  it.skipIf(skip)("is read by the delta extension loaded into our own DuckDB at every version", async () => {
    expect(extensionReady, 'installDeltaExtension from the .venv binary').toBe(true);
    const b = built.get(name)!;
    const count = await duckdbAnswer(lake.engine.connection, `SELECT count(*) FROM delta_scan(${literal(b.tableRoot)})`);
    expect(count.rows).toEqual([[String(b.model.versions[b.latest]!.rows.length)]]);
    for (const v of versionsOf(name)) {
      expectSame('duckdb delta extension (node)', name, v, await duckdbAnswer(lake.engine.connection, `SELECT * FROM delta_scan(${literal(b.tableRoot)}, version => ${v})`));
    }
  });

  it.skipIf(skip)('is read from the last checkpoint alone (earlier JSON commits removed) by every reader', async () => {
    const b = built.get(name)!;
    const checkpoint = b.latest - (b.latest % CHECKPOINT_INTERVAL);
    const copy = path.join(root, `${path.basename(b.tableRoot)}-checkpoint-only`);
    checkpointOnlyCopy(b.tableRoot, copy, checkpoint);
    expectSame('our reader (checkpoint only)', name, b.latest, await ourAnswer(lake, copy, b.latest));
    expectSame('delta-rs (checkpoint only)', name, b.latest, await oracleRead(copy, 'deltalake'));
    expectSame('duckdb delta extension (checkpoint only)', name, b.latest, await oracleRead(copy, 'duckdb'));
  });
});

/**
 * Filters pushed into each reader, so files are skipped on our `stats` (min/max/nullCount) and on
 * partition values: a bound that is too tight makes a reader drop rows. `{tsMin}`/`{tsMax}` are the
 * exact smallest and largest timestamps of the version (microseconds; our stats are milliseconds).
 */
const PREDICATES = [
  'id BETWEEN 10 AND 20',
  'id = 41',
  'big > 9007199254740993',
  'big < -9223372036854775000',
  'i16 < -20000',
  'i8 >= 100',
  'f64 > 100',
  'f64 < -30',
  'f32 < 1',
  'flag = false',
  "day < DATE '1960-01-01'",
  "day >= DATE '2500-01-01'",
  "ts < '1970-01-01T00:00:00Z'",
  "ts >= '{tsMax}'",
  "ts <= '{tsMin}'",
  'amount >= 99999999.99',
  'amount < -10',
  "s = ''",
  "s > 'row 5'",
  's IS NULL',
  "p = 'São Paulo'",
  'p IS NULL',
  "p = '🏈'",
  "p = '%'",
  "p = 'x=1/y%2Fz'",
  "p = ' '",
  'n = 7',
  'n IS NULL',
  'n < 0',
];

async function predicatesAt(tableRoot: string, version: number): Promise<{ truth: string; predicates: string[] }> {
  const truth = `truth_${Math.abs(hash(`${tableRoot}@${version}`))}`;
  const prepared = await prepareQuery(lake, `SELECT * FROM delta_scan(${literal(tableRoot)}, version => ${version})`);
  await lake.engine.connection.run(`CREATE OR REPLACE TEMP TABLE ${truth} AS ${prepared.sql}`);
  const bounds = await duckdbAnswer(
    lake.engine.connection,
    `SELECT strftime(min(ts), '%Y-%m-%dT%H:%M:%S.%fZ'), strftime(max(ts), '%Y-%m-%dT%H:%M:%S.%fZ') FROM ${truth}`,
  );
  const [tsMin, tsMax] = bounds.rows[0] as [string, string];
  return { truth, predicates: PREDICATES.map((p) => p.replace('{tsMin}', tsMin).replace('{tsMax}', tsMax)) };
}

function hash(text: string): number {
  let h = 0;
  for (const c of text) h = (h * 31 + c.codePointAt(0)!) | 0;
  return h;
}

describe.skipIf(skip).each(SCENARIOS.map((s) => s.name))('filtered reads of a table we write, %s', (name) => {
  beforeAll(() => buildScenario(scenarioNamed(name)));

  it.each(['first-commit', 'latest'])('every reader returns the same rows for each pushed-down filter at the %s version', async (which) => {
    const b = built.get(name)!;
    const version = which === 'latest' ? b.latest : 0;
    const { truth, predicates } = await predicatesAt(b.tableRoot, version);
    const [deltalake, duckdb] = await Promise.all([oracleQuery(b.tableRoot, 'deltalake', version, predicates), oracleQuery(b.tableRoot, 'duckdb', version, predicates)]);
    let nonEmpty = 0;
    for (const [i, where] of predicates.entries()) {
      const want = canonical(await duckdbAnswer(lake.engine.connection, `SELECT * FROM ${truth} WHERE ${where}`));
      if (want.rows.length > 0) nonEmpty++;
      const label = `${name} v${version} WHERE ${where}`;
      const ours = await prepareQuery(lake, `SELECT * FROM delta_scan(${literal(b.tableRoot)}, version => ${version}) WHERE ${where}`);
      expect.soft(canonical(await duckdbAnswer(lake.engine.connection, ours.sql)).rows, `our reader (partition pruning), ${label}`).toEqual(want.rows);
      expect.soft(canonical(deltalake[i]!).rows, `delta-rs (DataFusion file skipping), ${label}`).toEqual(want.rows);
      expect.soft(canonical(duckdb[i]!).rows, `duckdb delta extension (python), ${label}`).toEqual(want.rows);
      if (extensionReady) {
        const node = await duckdbAnswer(lake.engine.connection, `SELECT * FROM delta_scan(${literal(b.tableRoot)}, version => ${version}) WHERE ${where}`);
        expect.soft(canonical(node).rows, `duckdb delta extension (node), ${label}`).toEqual(want.rows);
      }
    }
    expect(nonEmpty, 'most filters select some rows').toBeGreaterThan(predicates.length / 2);
  });
});

describe('interop data covers what it claims', () => {
  beforeAll(() => buildScenario(scenarioNamed('partitioned by a string column')));

  it('uses every partition value and type the suite names', async () => {
    const b = built.get('partitioned by a string column')!;
    const partitions = new Set(b.model.versions[1]!.rows.map((r) => r[b.model.versions[1]!.columns.indexOf('p')]));
    expect([...partitions].sort()).toEqual([...new Set(STRING_PARTITIONS.map((p) => (p === '' ? null : p)))].sort());
    expect(INT_PARTITIONS).toContain(null);
  });
});
