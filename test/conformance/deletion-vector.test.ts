import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeRoaringBitmapArray,
  deletionVectorPath,
  loadDeletionVector,
  loadSnapshot,
  rowRanges,
  z85Decode,
  z85Uuid,
  type DeletionVectorDescriptor,
} from '../../src/delta/index.js';
import { scanSql } from '../../src/engine/index.js';
import { openLake, runQuery, type Lake } from '../../src/table/index.js';
import { TABLES, loadGolden, sortRows, type Row } from './golden.js';

/**
 * Deletion vectors (PROTOCOL.md "Deletion Vectors", "Deletion Vector Format"). The encoder below
 * exists only to build inputs: RoaringFormatSpec 32-bit bitmaps (array, bitset and run
 * containers) inside Delta's portable 64-bit layout, framed as a DV file.
 */
const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

function z85Encode(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    let value = ((bytes[i]! << 24) >>> 0) + (bytes[i + 1]! << 16) + (bytes[i + 2]! << 8) + bytes[i + 3]!;
    let group = '';
    for (let j = 0; j < 5; j++) {
      group = Z85[value % 85]! + group;
      value = Math.floor(value / 85);
    }
    out += group;
  }
  return out;
}

function uuidBytes(uuid: string): Uint8Array {
  return Uint8Array.from(Buffer.from(uuid.replace(/-/g, ''), 'hex'));
}

/** `plain`: array containers up to 4,096 values, bitset containers above (as the spec requires); `run`: run containers. */
type ContainerKind = 'plain' | 'run';

/** One 32-bit RoaringBitmap; `kind` picks the container encoding for every container. */
function roaring32(values: number[], kind: ContainerKind): Buffer {
  const containers = new Map<number, number[]>();
  for (const v of values) {
    const list = containers.get(Math.floor(v / 65536)) ?? [];
    list.push(v % 65536);
    containers.set(Math.floor(v / 65536), list);
  }
  const keys = [...containers.keys()].sort((a, b) => a - b);
  const bodies = keys.map((key) => {
    const lows = containers.get(key)!;
    if (kind === 'run') {
      const runs: Array<[number, number]> = [];
      for (const v of lows) {
        const last = runs[runs.length - 1];
        if (last && v === last[0] + last[1] + 1) last[1] += 1;
        else runs.push([v, 0]);
      }
      const b = Buffer.alloc(2 + runs.length * 4);
      b.writeUInt16LE(runs.length, 0);
      runs.forEach(([start, length], i) => {
        b.writeUInt16LE(start, 2 + i * 4);
        b.writeUInt16LE(length, 4 + i * 4);
      });
      return b;
    }
    if (lows.length > 4096) {
      const b = Buffer.alloc(8192);
      for (const v of lows) b[v >> 3]! |= 1 << (v & 7);
      return b;
    }
    const b = Buffer.alloc(lows.length * 2);
    lows.forEach((v, i) => b.writeUInt16LE(v, i * 2));
    return b;
  });
  const size = keys.length;
  const header: Buffer[] = [];
  if (kind === 'run') {
    const cookie = Buffer.alloc(4);
    cookie.writeUInt32LE((12347 | ((size - 1) << 16)) >>> 0, 0);
    header.push(cookie, Buffer.alloc(Math.ceil(size / 8), 0xff));
  } else {
    const cookie = Buffer.alloc(8);
    cookie.writeUInt32LE(12346, 0);
    cookie.writeUInt32LE(size, 4);
    header.push(cookie);
  }
  const descriptive = Buffer.alloc(size * 4);
  keys.forEach((key, i) => {
    descriptive.writeUInt16LE(key, i * 4);
    descriptive.writeUInt16LE(containers.get(key)!.length - 1, i * 4 + 2);
  });
  header.push(descriptive);
  if (kind !== 'run' || size >= 4) {
    const offsets = Buffer.alloc(size * 4);
    let offset = Buffer.concat(header).length + size * 4;
    bodies.forEach((body, i) => {
      offsets.writeUInt32LE(offset, i * 4);
      offset += body.length;
    });
    header.push(offsets);
  }
  return Buffer.concat([...header, ...bodies]);
}

/** Magic + portable 64-bit bitmap: one bucket per distinct high 32 bits. */
function bitmapArray(rows: number[], kind: ContainerKind): Buffer {
  const buckets = new Map<number, number[]>();
  for (const r of rows) {
    const high = Math.floor(r / 2 ** 32);
    const list = buckets.get(high) ?? [];
    list.push(r % 2 ** 32);
    buckets.set(high, list);
  }
  const head = Buffer.alloc(12);
  head.writeUInt32LE(1681511377, 0);
  head.writeBigUInt64LE(BigInt(buckets.size), 4);
  const parts: Buffer[] = [head];
  for (const [high, lows] of [...buckets.entries()].sort(([a], [b]) => a - b)) {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(high, 0);
    parts.push(key, roaring32(lows, kind));
  }
  return Buffer.concat(parts);
}

/** A DV file holding `bitmaps` one after another; returns the file bytes and each DV's offset. */
function dvFile(bitmaps: Buffer[]): { bytes: Buffer; offsets: number[] } {
  const parts: Buffer[] = [Buffer.from([1])];
  const offsets: number[] = [];
  let at = 1;
  for (const data of bitmaps) {
    const size = Buffer.alloc(4);
    size.writeUInt32BE(data.length, 0);
    const checksum = Buffer.alloc(4);
    checksum.writeUInt32BE(crc32(data) >>> 0, 0);
    offsets.push(at);
    parts.push(size, data, checksum);
    at += 8 + data.length;
  }
  return { bytes: Buffer.concat(parts), offsets };
}

let root: string;
let lake: Lake;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'lake-dv-'));
  lake = await openLake({ root });
});
afterAll(() => {
  lake.close();
  rmSync(root, { recursive: true, force: true });
});

describe('Z85 and descriptors', () => {
  it('decodes the ZeroMQ RFC 32 test vector', () => {
    expect(Buffer.from(z85Decode('HelloWorld')).toString('hex')).toBe('864fd26fb559f75b');
  });

  it('derives the DV file of PROTOCOL.md JSON example 1 (random prefix + Z85 UUID)', () => {
    const dv: DeletionVectorDescriptor = { storageType: 'u', pathOrInlineDv: 'ab^-aqEH.-t@S}K{vb[*k^', offset: 4, sizeInBytes: 40, cardinality: 6 };
    expect(deletionVectorPath('/t', dv)).toBe(path.join('/t', 'ab', 'deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin'));
    expect(z85Uuid(z85Encode(uuidBytes('61d16c75-6994-46b7-a15b-8b538852e50e')))).toBe('61d16c75-6994-46b7-a15b-8b538852e50e');
  });

  it('takes a "p" descriptor as an absolute path or file: URI and refuses remote ones', () => {
    expect(deletionVectorPath('/t', { storageType: 'p', pathOrInlineDv: 'file:///data/x%20y/dv.bin', sizeInBytes: 1, cardinality: 1 })).toBe('/data/x y/dv.bin');
    expect(() => deletionVectorPath('/t', { storageType: 'p', pathOrInlineDv: 's3://bucket/dv.bin', sizeInBytes: 1, cardinality: 1 })).toThrow(
      expect.objectContaining({ code: 'DELTA_PROTOCOL_UNSUPPORTED' }),
    );
    expect(() => deletionVectorPath('/t', { storageType: 'x', pathOrInlineDv: 'abc', sizeInBytes: 1, cardinality: 1 })).toThrow(
      expect.objectContaining({ code: 'DELTA_PROTOCOL_UNSUPPORTED' }),
    );
  });

  // PROTOCOL.md JSON example 3 is not usable as a vector: its bytes are big-endian with a magic of
  // 1681511376, unlike the format the same document specifies (and the tables Delta writes).
  it('decodes an inline DV that Delta (Scala) padded with zero bytes to a multiple of 4', async () => {
    const bitmap = bitmapArray([3, 4, 7, 11, 18], 'plain');
    const padded = Buffer.concat([bitmap, Buffer.alloc((4 - (bitmap.length % 4)) % 4)]);
    expect(bitmap.length % 4).not.toBe(0);
    const dv: DeletionVectorDescriptor = { storageType: 'i', pathOrInlineDv: z85Encode(padded), sizeInBytes: bitmap.length, cardinality: 5 };
    expect(await loadDeletionVector('/nowhere', dv)).toEqual([3, 4, 7, 11, 18]);
  });

  it("decodes an inline DV whose last Z85 group is the Rust z85 crate's '#'-padded tail (cdf-table-with-dv v5)", async () => {
    const dv: DeletionVectorDescriptor = { storageType: 'i', pathOrInlineDv: '^Bg9^0rr910000000000iXQKl0rr91000005c8Xg##093', sizeInBytes: 34, cardinality: 1 };
    expect(await loadDeletionVector('/nowhere', dv)).toEqual([3]);
  });

  it('turns sorted rows into ranges', () => {
    expect(rowRanges([0, 1, 2, 5, 7, 8])).toEqual([[0, 2], [5, 5], [7, 8]]);
    expect(rowRanges([])).toEqual([]);
  });
});

describe('RoaringBitmapArray decoding', () => {
  const sparse = [0, 1, 2, 9, 65535, 65536, 65538, 70000, 2 ** 32 + 5, 2 ** 32 + 6];
  const dense = [...Array.from({ length: 5000 }, (_, i) => i * 2), 65536 + 7, ...Array.from({ length: 4097 }, (_, i) => 2 ** 32 + 3 * i)];
  it.each([
    ['array', sparse, 'plain'],
    ['bitset', dense, 'plain'],
    ['run', sparse, 'run'],
    ['run', dense, 'run'],
  ] as const)('decodes %s containers across 16-bit and 32-bit keys', (_name, rows, kind) => {
    expect(decodeRoaringBitmapArray(bitmapArray([...rows], kind))).toEqual(rows);
  });

  it('decodes four or more run containers (with the offset header)', () => {
    const many = [1, 2, 3, 65536 + 4, 2 * 65536, 3 * 65536 + 9, 4 * 65536];
    expect(decodeRoaringBitmapArray(bitmapArray(many, 'run'))).toEqual(many);
  });

  it('refuses a wrong magic number and a truncated bitmap as DELTA_LOG_CORRUPT', () => {
    const good = bitmapArray([1, 2, 3], 'plain');
    const bad = Buffer.from(good);
    bad.writeUInt32LE(1, 0);
    expect(() => decodeRoaringBitmapArray(bad)).toThrow(expect.objectContaining({ code: 'DELTA_LOG_CORRUPT' }));
    expect(() => decodeRoaringBitmapArray(good.subarray(0, good.length - 1))).toThrow(expect.objectContaining({ code: 'DELTA_LOG_CORRUPT' }));
  });
});

describe('DV files', () => {
  const first = [0, 5, 6, 7];
  const second = [2, 100, 101];
  let tableRoot: string;
  let offsets: number[];
  const uuid = '0b6ebb0e-5d05-4c5e-9c6c-33a4b6b4c3f1';

  beforeAll(() => {
    tableRoot = path.join(root, 'files');
    mkdirSync(path.join(tableRoot, 'pq'), { recursive: true });
    const file = dvFile([bitmapArray(first, 'plain'), bitmapArray(second, 'run')]);
    offsets = file.offsets;
    writeFileSync(path.join(tableRoot, 'pq', `deletion_vector_${uuid}.bin`), file.bytes);
  });

  const descriptor = (i: number, rows: number[], extra: Partial<DeletionVectorDescriptor> = {}): DeletionVectorDescriptor => ({
    storageType: 'u',
    pathOrInlineDv: `pq${z85Encode(uuidBytes(uuid))}`,
    offset: offsets[i]!,
    sizeInBytes: bitmapArray(rows, i === 0 ? 'plain' : 'run').length,
    cardinality: rows.length,
    ...extra,
  });

  it('reads each DV of a file holding two, at its offset, under a random prefix directory', async () => {
    expect(await loadDeletionVector(tableRoot, descriptor(0, first))).toEqual(first);
    expect(await loadDeletionVector(tableRoot, descriptor(1, second))).toEqual(second);
  });

  it('checks size, checksum and cardinality against the log', async () => {
    await expect(loadDeletionVector(tableRoot, descriptor(0, first, { sizeInBytes: 3 }))).rejects.toMatchObject({ code: 'DELTA_LOG_CORRUPT' });
    await expect(loadDeletionVector(tableRoot, descriptor(0, first, { cardinality: 9 }))).rejects.toMatchObject({ code: 'DELTA_LOG_CORRUPT' });
    const damaged = path.join(root, 'damaged');
    mkdirSync(damaged, { recursive: true });
    const file = dvFile([bitmapArray(first, 'plain')]);
    file.bytes[file.bytes.length - 1]! ^= 0xff; // the stored CRC-32
    writeFileSync(path.join(damaged, `deletion_vector_${uuid}.bin`), file.bytes);
    const dv = { ...descriptor(0, first), pathOrInlineDv: z85Encode(uuidBytes(uuid)) };
    await expect(loadDeletionVector(damaged, dv)).rejects.toThrow(/checksum mismatch/);
  });

  it('reports a missing DV file as DATA_FILE_MISSING naming it', async () => {
    await expect(loadDeletionVector(path.join(root, 'empty'), descriptor(0, first))).rejects.toMatchObject({
      code: 'DATA_FILE_MISSING',
      message: expect.stringContaining(`deletion_vector_${uuid}.bin`),
    });
  });
});

describe('reading tables with deletion vectors', () => {
  it.each([
    ['table-with-dv-small', 1],
    ['with-short-dv', 0],
    ['cdf-table-with-dv', 4],
    ['dv-partitioned-with-checkpoint', 15],
    ['compacted-log-files-table', 25],
  ])('reads %s v%i the same when its DVs are joined from a temp table instead of inlined', async (table, version) => {
    const snapshot = await loadSnapshot(path.join(TABLES, table), lake.checkpoints, { version });
    const sql = await scanSql(lake.engine, snapshot, { dvInlineRanges: 0 });
    expect(sql).toContain('__lake_dv_');
    const rows = await lake.engine.rows<Row>(`SELECT COLUMNS(*)::VARCHAR FROM (${sql})`);
    const golden = loadGolden(table, version);
    if ('error' in golden) throw new Error('golden has no rows');
    expect(sortRows(rows)).toEqual(sortRows(golden.rows));
  });

  it('builds one temp table when concurrent scans need the same large deletion vector', async () => {
    const fresh = await openLake({ root });
    try {
      const snapshot = await loadSnapshot(path.join(TABLES, 'dv-partitioned-with-checkpoint'), fresh.checkpoints, { version: 15 });
      const [a, b] = await Promise.all([scanSql(fresh.engine, snapshot, { dvInlineRanges: 0 }), scanSql(fresh.engine, snapshot, { dvInlineRanges: 0 })]);
      expect(a).toBe(b);
      const counts = await Promise.all([a, b].map((sql) => fresh.engine.rows<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM (${sql})`)));
      expect(counts).toEqual([[{ n: 35 }], [{ n: 35 }]]);
    } finally {
      fresh.close();
    }
  });

  it('drops exactly the deleted rows of a 200,000-row file ("u" DV, 40,001 row ranges, via a temp table) and of a "p" DV', async () => {
    const tableRoot = path.join(root, 'big');
    mkdirSync(path.join(tableRoot, '_delta_log'), { recursive: true });
    await lake.engine.run(`COPY (SELECT range::BIGINT AS id FROM range(200000)) TO '${path.join(tableRoot, 'data.parquet')}' (FORMAT parquet, ROW_GROUP_SIZE 50000)`);
    await lake.engine.run(`COPY (SELECT (1000000 + range)::BIGINT AS id FROM range(10)) TO '${path.join(tableRoot, 'small.parquet')}' (FORMAT parquet)`);
    // Every third row of the first 120,000 plus the block 150,000…159,999: 40,001 ranges, over the inline limit.
    const deleted = [...Array.from({ length: 40000 }, (_, i) => i * 3), ...Array.from({ length: 10000 }, (_, i) => 150000 + i)];
    const dvUuid = 'f0e1d2c3-b4a5-4968-8776-655443322110';
    const bitmap = bitmapArray(deleted, 'plain');
    writeFileSync(path.join(tableRoot, `deletion_vector_${dvUuid}.bin`), dvFile([bitmap]).bytes);
    // The "p" DV lives outside the table, named by an absolute file: URI; it deletes rows 0 and 9.
    const elsewhere = path.join(root, 'dv elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    const small = bitmapArray([0, 9], 'plain');
    writeFileSync(path.join(elsewhere, 'dv.bin'), dvFile([small]).bytes);
    const add = (file: string, records: number, deletionVector: DeletionVectorDescriptor) => ({
      add: { path: file, partitionValues: {}, size: 1, modificationTime: 0, dataChange: true, stats: JSON.stringify({ numRecords: records }), deletionVector },
    });
    const log = [
      { protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['deletionVectors'], writerFeatures: ['deletionVectors'] } },
      {
        metaData: {
          id: 'big',
          format: { provider: 'parquet', options: {} },
          schemaString: JSON.stringify({ type: 'struct', fields: [{ name: 'id', type: 'long', nullable: true, metadata: {} }] }),
          partitionColumns: [],
          configuration: {},
        },
      },
      add('data.parquet', 200000, { storageType: 'u', pathOrInlineDv: z85Encode(uuidBytes(dvUuid)), offset: 1, sizeInBytes: bitmap.length, cardinality: deleted.length }),
      add('small.parquet', 10, { storageType: 'p', pathOrInlineDv: `file://${encodeURI(path.join(elsewhere, 'dv.bin'))}`, offset: 1, sizeInBytes: small.length, cardinality: 2 }),
    ];
    writeFileSync(path.join(tableRoot, '_delta_log', '00000000000000000000.json'), log.map((a) => JSON.stringify(a)).join('\n') + '\n');
    const big = await runQuery(
      lake,
      `SELECT count(*)::INTEGER, count(*) FILTER (WHERE id % 3 = 0 AND id < 120000)::INTEGER, count(*) FILTER (WHERE id BETWEEN 150000 AND 159999)::INTEGER, max(id)::INTEGER FROM delta_scan('${tableRoot}') WHERE id < 1000000`,
    );
    expect(big.rows).toEqual([[200000 - 50000, 0, 0, 199999]]);
    // A filter DuckDB pushes into the scan (skipping row groups) keeps row positions right.
    const window = await runQuery(lake, `SELECT count(*)::INTEGER, min(id)::INTEGER, max(id)::INTEGER FROM delta_scan('${tableRoot}') WHERE id BETWEEN 149990 AND 160010`);
    expect(window.rows).toEqual([[10 + 11, 149990, 160010]]);
    const rest = await runQuery(lake, `SELECT list(id ORDER BY id) FROM delta_scan('${tableRoot}') WHERE id >= 1000000`);
    expect(rest.rows).toEqual([[[1000001n, 1000002n, 1000003n, 1000004n, 1000005n, 1000006n, 1000007n, 1000008n]]]);
  });
});
