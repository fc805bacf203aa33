// Setup for the snapshot benchmark (not timed): a Delta log of <commits> commits with <adds>
// adds each (partitioned by season, with per-file stats, as our writer commits them) and a
// classic checkpoint every <interval> commits. Data files are not created: loading a snapshot
// never opens them.
//
// The checkpoints a reader uses in the benchmark (the newest one, and the one at or below each
// version in <exact>) are written by our `writeCheckpoint` from the replayed state. The others,
// which only have to exist in the listing, are written faster straight from DuckDB with the same
// schema (CHECKPOINT_COLUMNS) and the same rows: `writeCheckpoint` for all of them would take
// minutes (one JSON render of up to 100,000 adds per checkpoint).
//   node log-gen.js <tableRoot> <commits> <adds> <interval> [exact,versions]
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LOG_DIR, checkpointFileName, commitFileName, encodeAddPath, serializeCommit, serializeSchema } from '../../../dist/delta/index.js';
import { CHECKPOINT_COLUMNS, openEngine, writeCheckpoint } from '../../../dist/engine/index.js';
import { args, emit } from './emit.js';

const [tableRoot, commitsArg, addsArg, intervalArg, exactArg = ''] = args(4, 'log-gen.js <tableRoot> <commits> <adds> <interval> [exact,versions]');
const commits = Number(commitsArg);
const addsPerCommit = Number(addsArg);
const interval = Number(intervalArg);
const logRoot = path.join(tableRoot, LOG_DIR);
mkdirSync(logRoot, { recursive: true });

const field = (name, type) => ({ name, type, nullable: true, metadata: {} });
const schema = {
  type: 'struct',
  fields: [
    field('game_id', 'string'), field('play_id', 'double'), field('posteam', 'string'), field('defteam', 'string'),
    field('down', 'double'), field('yards_gained', 'double'), field('epa', 'double'), field('wp', 'double'),
    field('desc', 'string'), field('season', 'integer'),
  ],
};
const protocol = { minReaderVersion: 1, minWriterVersion: 2 };
const baseTime = Date.UTC(2025, 0, 1);
const metadata = {
  id: randomUUID(),
  format: { provider: 'parquet', options: {} },
  schemaString: serializeSchema(schema),
  partitionColumns: ['season'],
  configuration: { 'delta.checkpointInterval': String(interval) },
  createdTime: baseTime,
};

function uuidOf(n) {
  const hex = n.toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20)}`;
}

function addFor(version, i) {
  const n = version * addsPerCommit + i;
  const season = 1999 + (n % 27);
  const rows = 4000 + (n % 1000);
  const stats = {
    numRecords: rows,
    minValues: { game_id: `${season}_01_ARI_ATL`, play_id: 1, posteam: 'ARI', defteam: 'ARI', down: 1, yards_gained: -20, epa: -12.5, wp: 0, desc: '(1:00) END GAME' },
    maxValues: { game_id: `${season}_22_WAS_TEN`, play_id: 4000 + (n % 977), posteam: 'WAS', defteam: 'WAS', down: 4, yards_gained: 99, epa: 9.75, wp: 1, desc: 'Two-Minute Warning' },
    nullCount: { game_id: 0, play_id: 0, posteam: n % 50, defteam: n % 50, down: n % 700, yards_gained: n % 30, epa: n % 20, wp: n % 20, desc: 0 },
  };
  return {
    path: encodeAddPath(`season=${season}/part-00000-${uuidOf(n)}.c000.zstd.parquet`),
    partitionValues: { season: String(season) },
    size: 200_000 + (n % 50_000),
    modificationTime: baseTime + version * 60_000,
    dataChange: true,
    stats: JSON.stringify(stats),
    tags: { 'nfl_lakehouse.schemaWidth': String(schema.fields.length) },
  };
}

const engine = await openEngine();
const sqlText = (v) => `'${v.replace(/'/g, "''")}'`;
const checkpointVersions = [];
for (let v = interval; v < commits; v += interval) checkpointVersions.push(v);
const lastCheckpoint = checkpointVersions.at(-1);
// Versions read in the benchmark resolve to these checkpoints.
const exact = new Set(
  [lastCheckpoint, ...exactArg.split(',').filter((v) => v !== '').map((v) => Math.floor(Number(v) / interval) * interval)].filter((v) => v !== undefined && v > 0),
);

const files = [];
const started = performance.now();
for (let version = 0; version < commits; version++) {
  const adds = Array.from({ length: addsPerCommit }, (_, i) => addFor(version, i));
  const actions = [
    { kind: 'commitInfo', commitInfo: { timestamp: baseTime + version * 60_000, operation: version === 0 ? 'CREATE TABLE' : 'WRITE', operationParameters: { mode: 'Append', partitionBy: '["season"]' }, isBlindAppend: version > 0, engineInfo: 'nfl-lakehouse bench' } },
    ...(version === 0 ? [{ kind: 'protocol', protocol }, { kind: 'metaData', metaData: metadata }] : []),
    ...adds.map((add) => ({ kind: 'add', add })),
  ];
  writeFileSync(path.join(logRoot, commitFileName(version)), serializeCommit(actions), { flag: 'wx' });
  files.push(...adds);
}
const commitsMs = performance.now() - started;

// Fast checkpoints: every add (in commit order, numbered) loaded into DuckDB once.
let t = performance.now();
const work = mkdtempSync(path.join(os.tmpdir(), 'bench-log-gen-'));
const addsJson = path.join(work, 'adds.ndjson');
const headerJson = path.join(work, 'header.ndjson');
const addStruct = CHECKPOINT_COLUMNS.find(([name]) => name === 'add')[1];
writeFileSync(
  addsJson,
  files.map((a, n) => JSON.stringify({ n, add: { ...a, deletionVector: null, baseRowId: null, defaultRowCommitVersion: null, clusteringProvider: null } })).join('\n') + '\n',
);
writeFileSync(
  headerJson,
  [
    { protocol: { ...protocol, readerFeatures: null, writerFeatures: null } },
    { metaData: { ...metadata, name: null, description: null } },
  ].map((l) => JSON.stringify(l)).join('\n') + '\n',
);
const columns = CHECKPOINT_COLUMNS.map(([name, type]) => `${name}: ${sqlText(type)}`).join(', ');
await engine.run(`CREATE TABLE adds AS SELECT * FROM read_json(${sqlText(addsJson)}, format = 'newline_delimited', columns = {n: 'BIGINT', add: ${sqlText(addStruct)}})`);
await engine.run(`CREATE TABLE header AS SELECT * FROM read_json(${sqlText(headerJson)}, format = 'newline_delimited', columns = {${columns}})`);
const select = CHECKPOINT_COLUMNS.map(([name]) => `"${name}"`).join(', ');
let fastCheckpoints = 0;
for (const version of checkpointVersions) {
  if (exact.has(version)) continue;
  const target = path.join(logRoot, checkpointFileName(version));
  await engine.run(
    `COPY (SELECT ${select} FROM header UNION ALL SELECT ${CHECKPOINT_COLUMNS.map(([name]) => (name === 'add' ? '"add"' : `NULL AS "${name}"`)).join(', ')} FROM (SELECT "add" FROM adds WHERE n < ${(version + 1) * addsPerCommit})) ` +
      `TO ${sqlText(target)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 16384)`,
  );
  fastCheckpoints++;
}
rmSync(work, { recursive: true, force: true });
const fastMs = performance.now() - t;

// Exact checkpoints through our writer, oldest first so `_last_checkpoint` ends on the newest.
t = performance.now();
for (const version of [...exact].sort((a, b) => a - b)) {
  const snapshotFiles = files.slice(0, (version + 1) * addsPerCommit);
  await writeCheckpoint(engine, { tableRoot, table: tableRoot, version, protocol, metadata, schema, partitionColumns: ['season'], files: snapshotFiles, tombstones: [], txns: new Map() }, { now: baseTime + version * 60_000 });
}
const exactMs = performance.now() - t;
engine.close();
emit({ ms: performance.now() - started, commitsMs, fastMs, exactMs, checkpoints: checkpointVersions.length, exactCheckpoints: [...exact].sort((a, b) => a - b), fastCheckpoints, commits, files: files.length });
