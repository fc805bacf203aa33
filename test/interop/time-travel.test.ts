import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { utimes } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/index.js';
import { LOG_DIR, commitFileName } from '../../src/delta/index.js';
import { literal } from '../../src/engine/index.js';
import { listFilesRecursive } from '../../src/storage/index.js';
import { openLake, prepareQuery, resolveTable, restoreTable, tableHistory, vacuumTable, writeDuckdbViews, writeTable, type HistoryEntry, type Lake, type TableRef } from '../../src/table/index.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { canonical, duckdbAnswer, type Answer } from './normalize.js';
import { PYTHON, REPO_ROOT, announceSkip, oracleRead, oracleReadAll, venvDeltaExtension } from './oracle.js';
import { rowsSql } from './tables.js';
import { rollbackRun } from '../../src/pipeline/index.js';

/**
 * Time travel, restore, rollback and vacuum, checked against the oracles: delta-rs and DuckDB's
 * delta extension (delta_scan, and ATTACH … (TYPE delta) with AT (VERSION => n)) answer every
 * retained version of a table that went through appends, a partition replace, an overwrite, a
 * schema change, restores, a rollback and a vacuum (with log cleanup) exactly as our reader does;
 * delta-rs resolves the history's timestamps to the same versions; and the stock Python DuckDB,
 * with no extension and none of our code, reads the `lake duckdb` views.
 */
const skip = announceSkip('time travel, restore, rollback and vacuum against delta-rs and the DuckDB delta extension');
const run = promisify(execFile);
const HOUR = 3_600_000;
const T0 = Date.parse('2026-09-01T06:00:00Z');

/** Extra oracle modes over the shared normalize.py; prints JSON. */
const SCRIPT = String.raw`
import json, os, sys
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(sys.argv[1], 'test', 'interop', 'oracles'))
from normalize import dumps, table_json
mode, args = sys.argv[2], sys.argv[3:]
out = None
if mode == 'attach':
    import duckdb
    ext, table, versions = args[0], args[1], [int(v) for v in args[2:]]
    con = duckdb.connect(config={'autoinstall_known_extensions': 'false'})
    con.execute(f"LOAD '{ext}'")
    quoted = table.replace("'", "''")
    con.execute(f"ATTACH '{quoted}' AS t (TYPE delta)")
    out = {'latest': table_json(con.execute('SELECT * FROM t').to_arrow_table()),
           'versions': [table_json(con.execute(f'SELECT * FROM t AT (VERSION => {v})').to_arrow_table()) for v in versions]}
elif mode == 'views':
    import duckdb
    db, names = args[0], args[1:]
    con = duckdb.connect(db, read_only=True, config={'autoinstall_known_extensions': 'false', 'autoload_known_extensions': 'false'})
    out = {'loaded': [r[0] for r in con.execute("SELECT extension_name FROM duckdb_extensions() WHERE loaded AND extension_name = 'delta'").fetchall()],
           'views': {n: table_json(con.execute(f'SELECT * FROM {n}').to_arrow_table()) for n in names}}
elif mode == 'timestamps':
    from deltalake import DeltaTable
    table, stamps = args[0], args[1:]
    found = []
    for s in stamps:
        dt = DeltaTable(table)
        dt.load_as_version(s)
        found.append(dt.version())
    out = {'versions': found, 'history': [{'version': h['version'], 'operation': h.get('operation'), 'timestamp': h.get('timestamp')} for h in DeltaTable(table).history()]}
print(dumps(out))
sys.stdout.flush()
os._exit(0)
`;

const dirs = tempDirs('interop-time-travel');
let lake: Lake;
let scriptFile: string;

/** Oracle answers name their columns with types: keep the names, as oracle.ts does. */
function answer(value: { columns: { name: string }[]; rows: Answer['rows'] }): Answer {
  return { columns: value.columns.map((c) => c.name), rows: value.rows };
}

async function python<T>(mode: string, args: string[]): Promise<T> {
  try {
    const { stdout } = await run(PYTHON, [scriptFile, REPO_ROOT, mode, ...args], { maxBuffer: 256 * 1024 * 1024 });
    return JSON.parse(stdout, (key, value: unknown) => (value !== null && typeof value === 'object' && 'columns' in value && 'rows' in value ? answer(value as never) : value)) as T;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`python ${mode} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** Our native reader's answer (time travel through the SQL rewrite), in canonical form. */
async function ours(sql: string): Promise<Answer> {
  const prepared = await prepareQuery(lake, sql, { reader: 'native' });
  return canonical(await duckdbAnswer(lake.engine.connection, prepared.sql));
}

interface Built {
  table: TableRef;
  history: HistoryEntry[];
}

/** Appends, a replace, an overwrite, a merged column, restores and a rollback, one hour apart; checkpoints every 3 commits. */
async function build(): Promise<Built> {
  const table = resolveTable(lake, 'silver.travel');
  let hour = 0;
  const now = (): number => T0 + hour * HOUR;
  const write = async (sql: string, mode: 'append' | 'replace' | 'overwrite', extra: Record<string, unknown> = {}): Promise<void> => {
    hour++;
    await writeTable(lake, { table, source: sql, mode, partitionBy: ['p'], configuration: { 'delta.checkpointInterval': '3' }, now, ...extra });
  };
  await write(rowsSql(0, 40), 'append'); // 0
  await write(rowsSql(100, 25), 'append'); // 1
  await write(rowsSql(200, 6, ['=', '%']), 'replace'); // 2
  await write(rowsSql(300, 30), 'overwrite'); // 3
  await write(`SELECT *, 'x' || id AS extra FROM (${rowsSql(400, 12)})`, 'append', { schemaMode: 'merge', commitMetadata: { run_id: 'bad-run' } }); // 4
  hour++;
  await restoreTable(lake, { table, version: 2, now }); // 5: back to version 2 (schema without extra)
  hour++;
  await restoreTable(lake, { table, version: 4, now }); // 6: forward again (extra is back)
  hour++;
  await rollbackRun(lake, { runId: 'bad-run', tables: [table], force: true, rollbackRunId: 'undo', now }); // 7: = version 3
  await write(rowsSql(500, 8, ['São Paulo', '🏈', null]), 'append'); // 8
  const history = (await tableHistory(lake, table)).reverse();
  // As if written at those times: delta-rs (like Spark) resolves timestamps by the commit files'
  // mtimes, we by commitInfo.timestamp (docs/design.md decision 6); a live writer makes them equal.
  // Data files get the time of the table's first commit, so vacuum can reach them.
  for (const h of history) await utimes(path.join(table.tableRoot, LOG_DIR, commitFileName(h.version)), new Date(h.timestamp), new Date(h.timestamp));
  for (const file of await listFilesRecursive(table.tableRoot)) {
    if (!file.name.startsWith(LOG_DIR)) await utimes(path.join(table.tableRoot, file.name), new Date(T0), new Date(T0));
  }
  return { table, history };
}

let built: Built;
const VERSIONS = [0, 1, 2, 3, 4, 5, 6, 7, 8];

beforeAll(async () => {
  if (skip) return;
  const dir = await dirs.make('lake');
  lake = await openLake({ root: dir, threads: 2 });
  scriptFile = path.join(await dirs.make('py'), 'oracle_extra.py');
  writeFileSync(scriptFile, SCRIPT);
  built = await build();
});
afterAll(async () => {
  lake?.close();
  await dirs.cleanup();
});

describe.skipIf(skip)('time travel, restore, rollback and vacuum against the oracles', () => {
  it('the history is what the operations wrote, and delta-rs reads the same history', async () => {
    expect(built.history.map((h) => [h.version, h.operation])).toEqual([
      [0, 'CREATE TABLE'],
      [1, 'WRITE'],
      [2, 'WRITE'],
      [3, 'WRITE'],
      [4, 'WRITE'],
      [5, 'RESTORE'],
      [6, 'RESTORE'],
      [7, 'RESTORE'],
      [8, 'WRITE'],
    ]);
    const stamps = built.history.map((h) => new Date(h.timestamp).toISOString());
    const between = built.history.map((h) => new Date(h.timestamp + HOUR / 2).toISOString());
    const rs = await python<{ versions: number[]; history: { version: number; operation: string; timestamp: number }[] }>('timestamps', [built.table.tableRoot, ...stamps, ...between]);
    // delta-rs resolves each commit's own timestamp, and any time before the next commit, to that version.
    expect(rs.versions).toEqual([...VERSIONS, ...VERSIONS]);
    expect(rs.history.map((h) => [h.version, h.operation, h.timestamp]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual(built.history.map((h) => [h.version, h.operation, h.timestamp]));
    // Our AT (TIMESTAMP => …) resolves them the same way.
    for (const [i, iso] of [...stamps, ...between].entries()) {
      const prepared = await prepareQuery(lake, `SELECT 1 FROM silver.travel AT (TIMESTAMP => '${iso}')`, { reader: 'native' });
      expect(prepared.views[0]!.version, iso).toBe(VERSIONS[i % VERSIONS.length]);
    }
  });

  it('every version reads the same through us, delta-rs, delta_scan and ATTACH … (TYPE delta) AT (VERSION => n); restores equal their targets', async () => {
    const { table } = built;
    const mine: Answer[] = [];
    for (const v of VERSIONS) mine.push(await ours(`SELECT * FROM silver.travel AT (VERSION => ${v})`));
    // Restores: 5 = 2, 6 = 4, 7 (rollback of bad-run, which made version 4) = 3.
    expect(mine[5]).toEqual(mine[2]);
    expect(mine[6]).toEqual(mine[4]);
    expect(mine[7]).toEqual(mine[3]);
    expect(mine[5]!.columns).not.toContain('extra');
    const ext = venvDeltaExtension();
    expect(ext, 'the duckdb-extension-delta binary in .venv').toBeDefined();
    const attached = await python<{ latest: Answer; versions: Answer[] }>('attach', [ext!, table.tableRoot, ...VERSIONS.map(String)]);
    expect(canonical(attached.latest)).toEqual(mine[8]);
    const [deltaRs, deltaScan] = await Promise.all([oracleReadAll(table.tableRoot, 'deltalake'), oracleReadAll(table.tableRoot, 'duckdb')]);
    for (const v of VERSIONS) {
      expect.soft(canonical(deltaRs[v]!), `delta-rs v${v}`).toEqual(mine[v]);
      expect.soft(canonical(deltaScan[v]!), `delta_scan v${v}`).toEqual(mine[v]);
      expect.soft(canonical(attached.versions[v]!), `ATTACH AT (VERSION => ${v})`).toEqual(mine[v]);
    }
  });

  it('the stock Python DuckDB, without the delta extension, reads the lake duckdb views like our reader', async () => {
    const result = await writeDuckdbViews(lake);
    const py = await python<{ loaded: string[]; views: Record<string, Answer> }>('views', [result.path, 'silver.travel']);
    expect(py.loaded).toEqual([]);
    expect(canonical(py.views['silver.travel']!)).toEqual(await ours('SELECT * FROM silver.travel'));
  });

  it('after vacuum with log cleanup, every retained version still reads the same through delta-rs and the extension', async () => {
    const { table } = built;
    const before: Answer[] = [];
    for (const v of VERSIONS) before.push(await ours(`SELECT * FROM silver.travel AT (VERSION => ${v})`));
    // 40 days after version 8 with a 7-day retention: only version 8's files are kept; the log keeps
    // checkpoint 6 on (the newest checkpoint 30 days back, when version 8 was current).
    const clock: Clock = { now: () => built.history[8]!.timestamp + 40 * 24 * HOUR, sleep: async () => undefined };
    const metrics = await vacuumTable(lake, { table, clock, logCleanup: true, retentionHours: 24 * 7 });
    expect(metrics).toMatchObject({ oldestRetainedVersion: 8, earliestVersion: 6 });
    expect(metrics.logFilesDeleted).toBeGreaterThan(0);
    expect(await ours('SELECT * FROM silver.travel')).toEqual(before[8]);
    expect(canonical(await oracleRead(table.tableRoot, 'deltalake', 8))).toEqual(before[8]);
    expect(canonical(await oracleRead(table.tableRoot, 'duckdb', 8))).toEqual(before[8]);
    // Versions whose data files went fail as clearly in every reader; versions before the checkpoint are gone from the log.
    await expect(ours(`SELECT * FROM delta_scan(${literal(table.tableRoot)}, version => 6)`)).rejects.toMatchObject({ code: 'DATA_FILE_MISSING' });
    await expect(ours(`SELECT * FROM delta_scan(${literal(table.tableRoot)}, version => 5)`)).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND' });
    await expect(oracleRead(table.tableRoot, 'deltalake', 5)).rejects.toThrow();
  });
});
