import { cp, mkdir, readFile, readdir, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLakeError } from '../../src/core/index.js';
import {
  DEFAULT_PROTOCOL,
  checkpointFileName,
  commitWithRetry,
  encodeAddPath,
  fileKey,
  hiveEscape,
  listLog,
  loadSnapshot,
  logRootOf,
  readCommit,
  replay,
  serializeSchema,
  type Action,
  type AddAction,
  type CheckpointReader,
  type MetadataAction,
  type ProtocolAction,
  type RemoveAction,
  type Snapshot,
  type StructType,
} from '../../src/delta/index.js';
import { duckdbCheckpointReader, openEngine, writeCheckpoint, writeDataFiles, type Engine } from '../../src/engine/index.js';
import { captureLogs } from '../helpers/capture-logs.js';
import { tempDirs } from '../helpers/temp-dir.js';

const dirs = tempDirs('checkpoint');
let engine: Engine;
let reader: CheckpointReader;

beforeAll(async () => {
  engine = await openEngine();
  reader = duckdbCheckpointReader(engine);
});
afterAll(async () => {
  engine.close();
  await dirs.cleanup();
});

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/delta-conformance/tables');

const SCHEMA: StructType = {
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', nullable: true, metadata: {} },
    { name: 'p', type: 'string', nullable: true, metadata: {} },
    { name: 'season', type: 'integer', nullable: true, metadata: {} },
  ],
};

function metadata(configuration: Record<string, string> = {}): MetadataAction {
  return {
    id: '5b4c1f7e-0d52-4d7e-9a43-6f6b1f0c2a11',
    name: null,
    description: null,
    format: { provider: 'parquet', options: {} },
    schemaString: serializeSchema(SCHEMA),
    partitionColumns: ['p', 'season'],
    configuration,
    createdTime: 1_700_000_000_000,
  };
}

async function commit(tableRoot: string, readVersion: number, actions: Action[]): Promise<number> {
  const outcome = await commitWithRetry({
    tableRoot,
    table: tableRoot,
    readVersion,
    actions,
    commitInfo: { operation: 'WRITE' },
    isolation: readVersion < 0 ? { kind: 'create' } : { kind: 'append' },
  });
  if (outcome.status !== 'committed') throw new Error(`unexpected conflict: ${outcome.reason}`);
  return outcome.version;
}

async function createTable(name: string, options: { protocol?: ProtocolAction; configuration?: Record<string, string> } = {}): Promise<string> {
  const tableRoot = await dirs.make(name);
  await commit(tableRoot, -1, [
    { kind: 'protocol', protocol: options.protocol ?? DEFAULT_PROTOCOL },
    { kind: 'metaData', metaData: metadata(options.configuration) },
  ]);
  return tableRoot;
}

function addFile(id: number, p: string | null, season: number | null, extra: Partial<AddAction> = {}): AddAction {
  const relative = `p=${hiveEscape(p)}/season=${hiveEscape(season === null ? null : String(season))}/part-${id}.parquet`;
  return {
    path: encodeAddPath(relative),
    partitionValues: { p, season: season === null ? null : String(season) },
    size: 1000 + id,
    modificationTime: 1_700_000_000_000 + id,
    dataChange: true,
    stats: JSON.stringify({ numRecords: id, minValues: { id: 0 }, maxValues: { id }, nullCount: { id: 0 } }),
    ...extra,
  };
}

function removeOf(add: AddAction, deletionTimestamp: number): RemoveAction {
  return { path: add.path, deletionTimestamp, dataChange: true, extendedFileMetadata: true, partitionValues: add.partitionValues, size: add.size };
}

/** Fields that survive a checkpoint, with absent and null treated alike. */
function compact<T extends object>(value: T | null | undefined): Record<string, unknown> | null {
  if (value === null || value === undefined) return null;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined));
}

function fileView(add: AddAction): Record<string, unknown> {
  return {
    key: fileKey(add),
    path: add.path,
    partitionValues: add.partitionValues,
    size: add.size,
    modificationTime: add.modificationTime,
    dataChange: add.dataChange,
    stats: add.stats ?? null,
    tags: add.tags ?? null,
    deletionVector: compact(add.deletionVector),
  };
}

function tombstoneView(remove: RemoveAction): Record<string, unknown> {
  return { key: fileKey(remove), deletionTimestamp: remove.deletionTimestamp ?? null, partitionValues: remove.partitionValues ?? null, size: remove.size ?? null };
}

function byKey(a: Record<string, unknown>, b: Record<string, unknown>): number {
  return String(a['key']) < String(b['key']) ? -1 : String(a['key']) > String(b['key']) ? 1 : 0;
}

interface StateView {
  version: number;
  protocol: Record<string, unknown> | null;
  metadata: Record<string, unknown> | null;
  files: Record<string, unknown>[];
  tombstones: Record<string, unknown>[];
  txns: [string, number][];
}

function snapshotView(s: Pick<Snapshot, 'version' | 'protocol' | 'metadata' | 'files' | 'tombstones' | 'txns'>): StateView {
  return {
    version: s.version,
    protocol: compact(s.protocol),
    metadata: compact(s.metadata),
    files: s.files.map(fileView).sort(byKey),
    tombstones: s.tombstones.map(tombstoneView).sort(byKey),
    txns: [...s.txns.entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
  };
}

/** The reference: pure replay of every JSON commit from version 0, no checkpoint involved. */
async function fullReplay(tableRoot: string, version?: number): Promise<StateView> {
  const listing = await listLog(tableRoot);
  const last = version ?? listing.maxCommit!;
  const versions = [];
  for (let v = 0; v <= last; v++) versions.push({ version: v, actions: await readCommit(tableRoot, v) });
  const state = replay(versions);
  return snapshotView({ version: last, protocol: state.protocol!, metadata: state.metadata!, files: [...state.files.values()], tombstones: [...state.tombstones.values()], txns: state.txns });
}

async function loaded(tableRoot: string, version?: number): Promise<StateView> {
  return snapshotView(await loadSnapshot(tableRoot, reader, { version, skipReadCheck: true }));
}

async function checkpointAt(tableRoot: string, version?: number, parts?: number, now?: number) {
  const snapshot = await loadSnapshot(tableRoot, reader, { version, skipReadCheck: true });
  return writeCheckpoint(engine, snapshot, { parts, now });
}

async function lastCheckpoint(tableRoot: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path.join(logRootOf(tableRoot), '_last_checkpoint'), 'utf8')) as Record<string, unknown>;
}

/** Deletes the JSON commits up to `version`, so only a checkpoint can rebuild the table. */
async function dropCommitsThrough(tableRoot: string, version: number): Promise<void> {
  for (let v = 0; v <= version; v++) await rm(path.join(logRootOf(tableRoot), `${String(v).padStart(20, '0')}.json`));
}

/** A table with partition values that stress maps and path encoding, a txn, a remove and a metadata change. */
async function sampleTable(name: string): Promise<string> {
  const tableRoot = await createTable(name, { configuration: { 'delta.appendOnly': 'false', 'custom key=%/': 'ü 🏈 ""' } });
  const values: (string | null)[] = [null, '', ' ', 'a b', '=', '%', '/', '+', 'São Paulo', '🏈', 'x=1/y%2F', 'line\nbreak', 'ctl\u0001'];
  const adds = values.map((p, i) => addFile(i, p, i % 3 === 0 ? null : 2020 + i, i % 2 === 0 ? { tags: { 'nfl_lakehouse.schemaWidth': '3', odd: 'k=v' } } : {}));
  let version = await commit(tableRoot, 0, adds.map((add) => ({ kind: 'add', add })));
  version = await commit(tableRoot, version, [{ kind: 'txn', txn: { appId: 'ingest:pbp', version: 7, lastUpdated: Date.now() } }, { kind: 'remove', remove: removeOf(adds[1]!, Date.now()) }]);
  await commit(tableRoot, version, [{ kind: 'add', add: addFile(100, 'late', 2024, { stats: null }) }]);
  return tableRoot;
}

describe('writeCheckpoint', () => {
  it('writes a classic checkpoint and _last_checkpoint that rebuild the same state as full replay', async () => {
    const tableRoot = await sampleTable('classic');
    const result = await checkpointAt(tableRoot);
    const file = path.join(logRootOf(tableRoot), checkpointFileName(3));
    expect(result).toEqual({ version: 3, parts: 1, numOfAddFiles: 13, actions: 1 + 1 + 1 + 13 + 1, sizeInBytes: (await stat(file)).size, status: 'written' });
    expect(await lastCheckpoint(tableRoot)).toEqual({ version: 3, size: 17, sizeInBytes: result.sizeInBytes, numOfAddFiles: 13 });

    const expected = await fullReplay(tableRoot);
    expect(await loaded(tableRoot)).toEqual(expected);
    // Only the checkpoint is left to rebuild version 3 from.
    await dropCommitsThrough(tableRoot, 3);
    expect(await loaded(tableRoot)).toEqual(expected);
  });

  it('writes a multi-part checkpoint (parts = 3) with rows split evenly, read back identically', async () => {
    const tableRoot = await sampleTable('multipart');
    const expected = await fullReplay(tableRoot);
    const result = await checkpointAt(tableRoot, undefined, 3);
    expect(result).toMatchObject({ version: 3, parts: 3, actions: 17, status: 'written' });
    const names = [1, 2, 3].map((i) => checkpointFileName(3, i, 3));
    expect(names[0]).toBe('00000000000000000003.checkpoint.0000000001.0000000003.parquet');
    const counts = await engine.rows<{ n: number }>(
      `SELECT count(*)::INTEGER AS n FROM read_parquet([${names.map((n) => `'${path.join(logRootOf(tableRoot), n)}'`).join(', ')}], filename = true) GROUP BY filename ORDER BY filename`,
    );
    // Protocol, metaData, txns and adds are split evenly, and so are the tombstones.
    expect(counts.map((c) => c.n)).toEqual([5, 5, 7]);
    expect(await lastCheckpoint(tableRoot)).toMatchObject({ version: 3, size: 17, parts: 3, numOfAddFiles: 13 });
    const listing = await listLog(tableRoot);
    expect(listing.checkpoints.get(3)).toMatchObject({ kind: 'multipart', names });
    await dropCommitsThrough(tableRoot, 3);
    expect(await loaded(tableRoot)).toEqual(expected);
  });

  it('fills in the missing parts of a multi-part checkpoint left by a crashed writer', async () => {
    const tableRoot = await sampleTable('multipart-crash');
    const expected = await fullReplay(tableRoot);
    await checkpointAt(tableRoot, undefined, 3);
    const files = [1, 2, 3].map((i) => path.join(logRootOf(tableRoot), checkpointFileName(3, i, 3)));
    const survivor = await readFile(files[1]!);
    await rm(files[0]!);
    await rm(files[2]!);
    await rm(path.join(logRootOf(tableRoot), '_last_checkpoint'));
    expect((await listLog(tableRoot)).checkpoints.has(3)).toBe(false);

    expect((await checkpointAt(tableRoot, 3, 3)).status).toBe('written');
    expect(await readFile(files[1]!)).toEqual(survivor);
    expect((await lastCheckpoint(tableRoot))['parts']).toBe(3);
    await dropCommitsThrough(tableRoot, 3);
    expect(await loaded(tableRoot)).toEqual(expected);
  });

  it('leaves an existing checkpoint untouched and reports it', async () => {
    const tableRoot = await sampleTable('exists');
    await checkpointAt(tableRoot);
    const file = path.join(logRootOf(tableRoot), checkpointFileName(3));
    const before = await readFile(file);
    const again = await checkpointAt(tableRoot);
    expect(again.status).toBe('exists');
    expect(again.sizeInBytes).toBe(before.byteLength);
    expect(await readFile(file)).toEqual(before);
    const entries = await readdir(logRootOf(tableRoot));
    expect(entries.filter((e) => e.endsWith('.tmp'))).toEqual([]);
  });

  it('never moves _last_checkpoint back to an older version', async () => {
    const tableRoot = await sampleTable('backwards');
    await checkpointAt(tableRoot, 3);
    await checkpointAt(tableRoot, 1);
    expect((await lastCheckpoint(tableRoot))['version']).toBe(3);
    expect((await listLog(tableRoot)).checkpoints.has(1)).toBe(true);
    expect(await loaded(tableRoot, 2)).toEqual(await fullReplay(tableRoot, 2));
  });

  it('keeps tombstones within delta.deletedFileRetentionDuration of now and drops older ones', async () => {
    const day = 86_400_000;
    const now = 1_800_000_000_000;
    const tableRoot = await createTable('retention', { configuration: { 'delta.deletedFileRetentionDuration': 'interval 2 days' } });
    const adds = [0, 1, 2].map((i) => addFile(i, 'x', 2020));
    let version = await commit(tableRoot, 0, adds.map((add) => ({ kind: 'add', add })));
    version = await commit(tableRoot, version, [
      { kind: 'remove', remove: removeOf(adds[0]!, now - 3 * day) },
      { kind: 'remove', remove: removeOf(adds[1]!, now - 1 * day) },
      { kind: 'remove', remove: { path: adds[2]!.path, dataChange: true } },
    ]);
    const result = await checkpointAt(tableRoot, version, 1, now);
    expect(result.actions).toBe(1 + 1 + 1);
    await dropCommitsThrough(tableRoot, version);
    const snapshot = await loadSnapshot(tableRoot, reader);
    expect(snapshot.files).toEqual([]);
    expect(snapshot.tombstones.map((t) => t.path)).toEqual([adds[1]!.path]);
  });

  it('writes null feature lists for legacy protocols and the lists for reader 3 / writer 7', async () => {
    const legacy = await sampleTable('legacy-protocol');
    await checkpointAt(legacy);
    const features = await createTable('features', { protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['timestampNtz'], writerFeatures: ['timestampNtz', 'appendOnly'] } });
    await checkpointAt(features);
    const read = async (tableRoot: string, version: number) =>
      engine.rows<{ r: string | null; w: string | null }>(
        `SELECT to_json(protocol.readerFeatures)::VARCHAR AS r, to_json(protocol.writerFeatures)::VARCHAR AS w FROM read_parquet('${path.join(logRootOf(tableRoot), checkpointFileName(version))}') WHERE protocol IS NOT NULL`,
      );
    expect(await read(legacy, 3)).toEqual([{ r: null, w: null }]);
    expect(await read(features, 0)).toEqual([{ r: '["timestampNtz"]', w: '["timestampNtz","appendOnly"]' }]);
    expect((await loadSnapshot(features, reader)).protocol).toEqual({ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['timestampNtz'], writerFeatures: ['timestampNtz', 'appendOnly'] });
  });

  it('refuses tables with domain metadata, whose actions a checkpoint would lose', async () => {
    const tableRoot = await createTable('domains', { protocol: { minReaderVersion: 1, minWriterVersion: 7, writerFeatures: ['domainMetadata'] } });
    const error = await checkpointAt(tableRoot).catch((e: unknown) => e);
    expect(isLakeError(error, 'DELTA_WRITE_UNSUPPORTED')).toBe(true);
    expect((await listLog(tableRoot)).checkpoints.size).toBe(0);
  });

  it('checkpoints a table whose data files were written by writeDataFiles', async () => {
    const tableRoot = await dirs.make('data');
    const schema: StructType = {
      type: 'struct',
      fields: [
        { name: 'team', type: 'string', nullable: true, metadata: {} },
        { name: 'yards', type: 'double', nullable: true, metadata: {} },
      ],
    };
    await commit(tableRoot, -1, [
      { kind: 'protocol', protocol: DEFAULT_PROTOCOL },
      { kind: 'metaData', metaData: { ...metadata(), schemaString: serializeSchema(schema), partitionColumns: ['team'] } },
    ]);
    let version = 0;
    for (const teams of [["'KC'", "'a b/c=d%'"], ["'🏈'", 'NULL'], ["'KC'", "''"]]) {
      const source = `SELECT * FROM (VALUES (${teams[0]}, 1.5), (${teams[1]}, 2.5), (${teams[0]}, NULL)) AS t(team, yards)`;
      const adds = await writeDataFiles({ engine, tableRoot, source, schema, partitionColumns: ['team'], sourceColumns: new Set(['team', 'yards']) });
      version = await commit(tableRoot, version, adds.map((add) => ({ kind: 'add', add })));
    }
    const expected = await fullReplay(tableRoot);
    await checkpointAt(tableRoot);
    await dropCommitsThrough(tableRoot, version);
    const snapshot = await loadSnapshot(tableRoot, reader);
    expect(snapshotView(snapshot)).toEqual(expected);
    const rows = snapshot.files.reduce((sum, f) => sum + (JSON.parse(f.stats!) as { numRecords: number }).numRecords, 0);
    expect(rows).toBe(9);
  });
});

describe('checkpoint Parquet schema', () => {
  it('has the PROTOCOL.md "Checkpoint Schema" column types', async () => {
    const tableRoot = await sampleTable('schema');
    await checkpointAt(tableRoot);
    const file = `'${path.join(logRootOf(tableRoot), checkpointFileName(3))}'`;
    const describe = async (select: string) =>
      Object.fromEntries(
        (await engine.rows<{ column_name: string; column_type: string }>(`DESCRIBE SELECT ${select} FROM read_parquet(${file})`)).map((r) => [r.column_name, r.column_type]),
      );
    expect(Object.keys(await describe('*'))).toEqual(['txn', 'add', 'remove', 'metaData', 'protocol']);
    expect(await describe('txn.*')).toEqual({ appId: 'VARCHAR', version: 'BIGINT', lastUpdated: 'BIGINT' });
    expect(await describe('add.*')).toMatchObject({
      path: 'VARCHAR',
      partitionValues: 'MAP(VARCHAR, VARCHAR)',
      size: 'BIGINT',
      modificationTime: 'BIGINT',
      dataChange: 'BOOLEAN',
      stats: 'VARCHAR',
      tags: 'MAP(VARCHAR, VARCHAR)',
      baseRowId: 'BIGINT',
      defaultRowCommitVersion: 'BIGINT',
    });
    expect(await describe('remove.*')).toMatchObject({ path: 'VARCHAR', deletionTimestamp: 'BIGINT', dataChange: 'BOOLEAN', partitionValues: 'MAP(VARCHAR, VARCHAR)', size: 'BIGINT' });
    expect(await describe('remove.*')).not.toHaveProperty('stats');
    expect(await describe('metaData.*')).toEqual({
      id: 'VARCHAR',
      name: 'VARCHAR',
      description: 'VARCHAR',
      format: 'STRUCT(provider VARCHAR, "options" MAP(VARCHAR, VARCHAR))',
      schemaString: 'VARCHAR',
      partitionColumns: 'VARCHAR[]',
      configuration: 'MAP(VARCHAR, VARCHAR)',
      createdTime: 'BIGINT',
    });
    expect(await describe('protocol.*')).toEqual({ minReaderVersion: 'INTEGER', minWriterVersion: 'INTEGER', readerFeatures: 'VARCHAR[]', writerFeatures: 'VARCHAR[]' });
    // Exactly one action per row.
    const [{ bad }] = await engine.rows<{ bad: number }>(
      `SELECT count(*)::INTEGER AS bad FROM read_parquet(${file}) WHERE (txn IS NOT NULL)::INT + ("add" IS NOT NULL)::INT + ("remove" IS NOT NULL)::INT + (metaData IS NOT NULL)::INT + (protocol IS NOT NULL)::INT <> 1`,
    ) as [{ bad: number }];
    expect(bad).toBe(0);
  });
});

describe('reading checkpoints back', () => {
  it('tolerates a missing, stale, dangling or garbage _last_checkpoint', async () => {
    const tableRoot = await sampleTable('hint');
    await checkpointAt(tableRoot, 1);
    await checkpointAt(tableRoot, 3);
    const expected = await fullReplay(tableRoot);
    const hint = path.join(logRootOf(tableRoot), '_last_checkpoint');
    for (const content of [undefined, '{"version":1,"size":3}', '{"version":99,"size":1}', '{not json', '']) {
      if (content === undefined) await rm(hint, { force: true });
      else await writeFile(hint, content);
      expect(await loaded(tableRoot)).toEqual(expected);
    }
    await dropCommitsThrough(tableRoot, 3);
    await rm(hint, { force: true });
    expect(await loaded(tableRoot)).toEqual(expected);
  });

  it('falls back to full replay when the checkpoint is truncated', async () => {
    const tableRoot = await sampleTable('truncated');
    const expected = await fullReplay(tableRoot);
    const result = await checkpointAt(tableRoot);
    await truncate(path.join(logRootOf(tableRoot), checkpointFileName(3)), Math.floor(result.sizeInBytes / 2));
    const { result: snapshot, records } = await captureLogs(() => loaded(tableRoot));
    expect(snapshot).toEqual(expected);
    expect(records).toEqual([expect.objectContaining({ level: 40, msg: 'checkpoint unreadable, falling back', checkpoint: 3, table: tableRoot })]);
  });

  it('falls back to an older checkpoint when the newest is corrupt', async () => {
    const tableRoot = await sampleTable('older');
    await checkpointAt(tableRoot, 1);
    await checkpointAt(tableRoot, 3);
    const expected = await fullReplay(tableRoot);
    await writeFile(path.join(logRootOf(tableRoot), checkpointFileName(3)), 'PAR1 not really');
    await dropCommitsThrough(tableRoot, 1);
    const { result: snapshot, records } = await captureLogs(() => loaded(tableRoot));
    expect(snapshot).toEqual(expected);
    expect(records).toEqual([expect.objectContaining({ level: 40, msg: 'checkpoint unreadable, falling back', checkpoint: 3, table: tableRoot })]);
  });

  it('reads an add whose path contains the field separator through the slow path', async () => {
    const tableRoot = await createTable('separator');
    const weird = { ...addFile(1, 'x', 1), path: 'raw\u0001name.parquet' };
    await commit(tableRoot, 0, [{ kind: 'add', add: weird }, { kind: 'add', add: addFile(2, 'y', 2) }]);
    const expected = await fullReplay(tableRoot);
    await checkpointAt(tableRoot);
    await dropCommitsThrough(tableRoot, 1);
    expect(await loaded(tableRoot)).toEqual(expected);
  });

  // The adds of a checkpoint cross from DuckDB grouped by partition values and tags, in runs of
  // 2048 rows, each field aggregated on its own (src/engine/checkpoint-reader.ts): every field must
  // still land on its own file, with or without stats, and with about one file per partition
  // (read again per row) as well.
  for (const [name, partitionOf] of [
    ['few partitions', (i: number): [string | null, number | null] => [i % 7 === 0 ? null : `p${i % 5}`, i % 4 === 0 ? null : 2020 + (i % 3)]],
    ['one partition per file', (i: number): [string | null, number | null] => [`file ${i}`, 2024]],
  ] as const) {
    it(`reads a checkpoint of thousands of adds (${name}) back to the state of full replay, with and without stats`, async () => {
      const tableRoot = await createTable(`many-adds-${name.replaceAll(' ', '-')}`, { protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['deletionVectors'], writerFeatures: ['deletionVectors'] } });
      const count = name === 'few partitions' ? 5000 : 1500;
      const adds = Array.from({ length: count }, (_v, i) => {
        const [p, season] = partitionOf(i);
        return addFile(i, p, season, {
          ...(i % 3 === 0 ? { tags: { 'nfl_lakehouse.schemaWidth': String(i % 2), ...(i % 9 === 0 ? { odd: `t${i}` } : {}) } } : {}),
          ...(i % 11 === 0 ? { stats: null } : {}),
          ...(i % 500 === 7 ? { deletionVector: { storageType: 'u', pathOrInlineDv: `ab^-aqEH.-t@S}K{vb[*k^${String(i).padStart(4, '0')}`, offset: 1, sizeInBytes: 36, cardinality: 2 } } : {}),
          modificationTime: 1_700_000_000_000 + i * 997,
          size: 10_000_000_000 + i,
          dataChange: i % 2 === 0,
        });
      });
      await commit(tableRoot, 0, adds.map((add) => ({ kind: 'add', add })));
      const expected = await fullReplay(tableRoot);
      await checkpointAt(tableRoot);
      await dropCommitsThrough(tableRoot, 1);
      const trace = path.join(await dirs.make(`trace-${name.replaceAll(' ', '-')}`), 'sql.jsonl');
      process.env['LAKE_SQL_TRACE'] = trace;
      try {
        expect(await loaded(tableRoot)).toEqual(expected);
        const withoutStats = snapshotView(await loadSnapshot(tableRoot, reader, { stats: false, skipReadCheck: true }));
        expect(withoutStats).toEqual({ ...expected, files: expected.files.map((f) => ({ ...f, stats: null })) });
      } finally {
        delete process.env['LAKE_SQL_TRACE'];
      }
      // Grouped by partition, and for one file per partition read again with the values per row.
      const addQueries = (await readFile(trace, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { sql: string }).sql).filter((q) => q.includes('string_agg') && q.includes('"add".path IS NOT NULL'));
      const perRow = addQueries.filter((q) => !q.endsWith(', v, t'));
      expect(addQueries.length - perRow.length).toBe(2);
      expect(perRow.length).toBe(name === 'few partitions' ? 0 : 2);
    });
  }

  it('reads a V2 checkpoint written as JSON whose file actions live in a sidecar', async () => {
    const tableRoot = await sampleTable('v2-json');
    const expected = await fullReplay(tableRoot);
    await checkpointAt(tableRoot);
    const logRoot = logRootOf(tableRoot);
    const sidecar = 'c0ffee00-1234-4abc-8def-0123456789ab.parquet';
    await mkdir(path.join(logRoot, '_sidecars'));
    await rename(path.join(logRoot, checkpointFileName(3)), path.join(logRoot, '_sidecars', sidecar));
    const { size } = await stat(path.join(logRoot, '_sidecars', sidecar));
    const top = [
      { checkpointMetadata: { version: 3 } },
      { sidecar: { path: sidecar, sizeInBytes: size, modificationTime: 1 } },
    ];
    await writeFile(path.join(logRoot, '00000000000000000003.checkpoint.5f1d0a4e-8b7c-4d3e-9f2a-1b2c3d4e5f60.json'), top.map((a) => JSON.stringify(a)).join('\n') + '\n');
    await rm(path.join(logRoot, '_last_checkpoint'));
    await dropCommitsThrough(tableRoot, 3);
    expect(await loaded(tableRoot)).toEqual(expected);
  });

  it.each([
    ['multi-part-checkpoint', 1],
    ['v2-checkpoint-parquet', 2],
    ['v1-single-part-struct-stats-only', 5],
    ['basic-with-inserts-deletes-checkpoint', 10],
    ['dv-partitioned-with-checkpoint', 10],
  ])('reads the foreign checkpoint of %s like a replay of its JSON commits', async (name, version) => {
    const tableRoot = await dirs.make(name);
    await cp(path.join(FIXTURES, name), tableRoot, { recursive: true });
    const listing = await listLog(tableRoot);
    expect(listing.checkpoints.has(version)).toBe(true);
    const expected = await fullReplay(tableRoot);
    const actual = await loadSnapshot(tableRoot, reader, { skipReadCheck: true });
    // Spark writes checkpoint adds with dataChange = false and may drop stats fields; compare the
    // file identity, partition values, size, deletion vector and record count.
    const essentials = (files: Record<string, unknown>[]) =>
      files.map((f) => ({ key: f['key'], partitionValues: f['partitionValues'], size: f['size'], deletionVector: f['deletionVector'], numRecords: f['stats'] === null ? null : (JSON.parse(f['stats'] as string) as { numRecords: number }).numRecords }));
    expect(essentials(snapshotView(actual).files)).toEqual(essentials(expected.files));
    expect(compact(actual.protocol)).toEqual(expected.protocol);
    expect(actual.metadata.id).toBe(expected.metadata!['id']);

    // Our own checkpoint of the same state reads back identically (the V2 table gets a classic one).
    const rewritten = await dirs.make(`${name}-rewritten`);
    await cp(tableRoot, rewritten, { recursive: true });
    for (const entry of await readdir(logRootOf(rewritten))) {
      if (entry.includes('.checkpoint.') || entry === '_last_checkpoint') await rm(path.join(logRootOf(rewritten), entry));
    }
    await rm(path.join(logRootOf(rewritten), '_sidecars'), { recursive: true, force: true });
    const snapshot = await loadSnapshot(rewritten, reader, { skipReadCheck: true });
    expect((await writeCheckpoint(engine, snapshot, { now: 0 })).status).toBe('written');
    await dropCommitsThrough(rewritten, snapshot.version);
    const reread = await loadSnapshot(rewritten, reader, { skipReadCheck: true });
    expect(snapshotView(reread).files).toEqual(snapshotView(snapshot).files);
    expect(compact(reread.protocol)).toEqual(compact(snapshot.protocol));
  });
});

// Partition values that stress MAP encoding, Hive folder names and path encoding.
const P_VALUES = [null, '', ' ', '  lead', 'trail ', '=', '%', '%20', '/', '+', 'a=b/c%d+e', 'São Paulo', 'ü', '🏈', 'emoji 🏈=%/', "it's", '"q"', '\\', 'tab\there', '\u0001', 'a\nb'];

type Op =
  | { kind: 'add'; file: number; p: string | null; season: number | null; tags: boolean; stats: boolean }
  | { kind: 'remove'; file: number }
  | { kind: 'txn'; app: number; version: number }
  | { kind: 'config'; value: string }
  | { kind: 'checkpoint'; parts: number };

const pValue = fc.oneof(fc.constantFrom(...P_VALUES), fc.string({ unit: 'grapheme', maxLength: 5 }));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('add' as const), file: fc.nat(12), p: pValue, season: fc.option(fc.integer({ min: 1999, max: 2025 }), { nil: null }), tags: fc.boolean(), stats: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('remove' as const), file: fc.nat(12) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('txn' as const), app: fc.nat(3), version: fc.nat(1000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('config' as const), value: pValue.map((v) => v ?? 'null') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('checkpoint' as const), parts: fc.constantFrom(1, 1, 2, 3) }) },
);

describe('checkpoint + tail replay equals full replay (property)', () => {
  let run = 0;
  it('holds at every version for random adds, removes, txns, metadata changes and checkpoints', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 14 }), async (ops) => {
        const tableRoot = await createTable(`prop-${run++}`);
        const added = new Map<number, AddAction>();
        let version = 0;
        for (const op of ops) {
          switch (op.kind) {
            case 'add': {
              const add = addFile(op.file, op.p, op.season, { tags: op.tags ? { k: op.p ?? 'null' } : undefined, stats: op.stats ? undefined : null });
              added.set(op.file, add);
              version = await commit(tableRoot, version, [{ kind: 'add', add }]);
              break;
            }
            case 'remove': {
              const add = added.get(op.file) ?? addFile(op.file, 'never-added', null);
              version = await commit(tableRoot, version, [{ kind: 'remove', remove: removeOf(add, Date.now()) }]);
              break;
            }
            case 'txn':
              version = await commit(tableRoot, version, [{ kind: 'txn', txn: { appId: `app-${op.app}`, version: op.version } }]);
              break;
            case 'config':
              version = await commit(tableRoot, version, [{ kind: 'metaData', metaData: metadata({ 'lake.note': op.value, [op.value]: 'key' }) }]);
              break;
            case 'checkpoint':
              await checkpointAt(tableRoot, version, op.parts);
              break;
          }
        }
        for (let v = 0; v <= version; v++) expect(await loaded(tableRoot, v)).toEqual(await fullReplay(tableRoot, v));
        await rm(tableRoot, { recursive: true, force: true });
      }),
      { numRuns: 25 },
    );
  });
});
