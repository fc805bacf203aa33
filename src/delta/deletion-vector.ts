/**
 * Deletion vectors (PROTOCOL.md "Deletion Vectors", appendix "Deletion Vector Format"): the set of
 * row positions (0-based, in Parquet file order) that a logical file no longer contains.
 *
 * - `storageType 'i'`: `pathOrInlineDv` is the Z85-encoded serialized bitmap.
 * - `storageType 'u'`: `pathOrInlineDv` is `<random prefix><20-char Z85 UUID>`; the DV lives in
 *   `<tableRoot>/<prefix>/deletion_vector_<uuid>.bin` at `offset`.
 * - `storageType 'p'`: `pathOrInlineDv` is an absolute URI of the DV file.
 *
 * A DV file is a version byte (1), then per DV: dataSize (u32 big-endian), the serialized bitmap,
 * and a CRC-32 of the bitmap (u32 big-endian); `offset` points at dataSize.
 * The serialized bitmap is the magic number 1681511377 (u32 little-endian) followed by a 64-bit
 * RoaringBitmap in the portable format: bucket count (u64 LE), then per bucket the high 32 bits
 * (u32 LE) and a standard 32-bit RoaringBitmap (RoaringFormatSpec), all little-endian.
 */
import { crc32 } from 'node:zlib';
import { LakeError } from '../core/index.js';
import { joinLocation, readFileIfExists } from '../storage/index.js';
import type { DeletionVectorDescriptor } from './actions.js';
import { decodeAddPath, isAbsoluteUri } from './partition.js';
import { dvUniqueId } from './replay.js';

const Z85_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const Z85_VALUES = new Map([...Z85_ALPHABET].map((c, i) => [c, i]));
const DV_MAGIC = 1681511377;
const SERIAL_COOKIE_NO_RUN = 12346;
const SERIAL_COOKIE = 12347;
const NO_OFFSET_THRESHOLD = 4;
const UUID_CHARS = 20;

function corrupt(where: string, message: string): LakeError {
  return new LakeError('DELTA_LOG_CORRUPT', `deletion vector ${where}: ${message}`, {
    hint: 'The deletion vector does not match the Delta protocol; the table cannot be read correctly. Check which tool wrote it.',
  });
}

/**
 * Z85 (ZeroMQ RFC 32) decoding; the input length must be a multiple of 5. Two ways of encoding a
 * final partial group occur in Delta logs: Delta (Scala/Java) pads the bytes with zeros (the
 * padding is cut off by `sizeInBytes`), while the Rust `z85` crate (delta-rs, kernel) writes the
 * tail's n bytes as a number and marks the 4 - n missing bytes with leading '#' characters. A
 * standard group never starts with '#' (84 * 85^4 > 2^32), so the two cannot be confused.
 */
export function z85Decode(text: string): Uint8Array {
  if (text.length % 5 !== 0) throw corrupt(`'${text.slice(0, 40)}'`, `Z85 text length ${text.length} is not a multiple of 5`);
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i += 5) {
    const last = i + 5 === text.length;
    let missing = 0;
    while (last && missing < 3 && text[i + missing] === '#') missing++;
    let value = 0;
    for (let j = missing; j < 5; j++) {
      const digit = Z85_VALUES.get(text[i + j]!);
      if (digit === undefined) throw corrupt(`'${text.slice(0, 40)}'`, `'${text[i + j]}' is not a Z85 character`);
      value = value * 85 + digit;
    }
    const width = 4 - missing;
    if (value >= 2 ** (8 * width)) throw corrupt(`'${text.slice(0, 40)}'`, `Z85 group ${text.slice(i, i + 5)} is out of range`);
    for (let b = width - 1; b >= 0; b--) bytes.push(Math.floor(value / 2 ** (8 * b)) % 256);
  }
  return Uint8Array.from(bytes);
}

/** The canonical UUID text of the 20-character Z85 tail of a `'u'` descriptor. */
export function z85Uuid(encoded: string): string {
  const hex = Buffer.from(z85Decode(encoded)).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Absolute local path of the file holding a `'u'` or `'p'` deletion vector. */
export function deletionVectorPath(tableRoot: string, dv: DeletionVectorDescriptor): string {
  if (dv.storageType === 'u') {
    const value = dv.pathOrInlineDv;
    if (value.length < UUID_CHARS) throw corrupt(value, `a 'u' descriptor needs at least ${UUID_CHARS} characters`);
    const prefix = value.slice(0, value.length - UUID_CHARS);
    const file = `deletion_vector_${z85Uuid(value.slice(value.length - UUID_CHARS))}.bin`;
    return joinLocation(tableRoot, prefix, file);
  }
  if (dv.storageType === 'p') {
    const value = dv.pathOrInlineDv;
    if (value.startsWith('file:')) return decodeAddPath(new URL(value).pathname);
    if (isAbsoluteUri(value)) {
      throw new LakeError('DELTA_PROTOCOL_UNSUPPORTED', `deletion vector file ${value} is not on the local file system`, { hint: 'Only local tables are supported.' });
    }
    return decodeAddPath(value);
  }
  throw new LakeError('DELTA_PROTOCOL_UNSUPPORTED', `deletion vector storage type '${dv.storageType}' is not supported`, {
    hint: "The Delta protocol defines the storage types 'u', 'i' and 'p'.",
  });
}

/** Decodes a serialized RoaringBitmapArray (magic + portable 64-bit RoaringBitmap) into sorted row positions. */
export function decodeRoaringBitmapArray(bytes: Uint8Array, where = 'bitmap'): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const need = (n: number): void => {
    if (pos + n > bytes.byteLength) throw corrupt(where, `truncated at byte ${pos} (needs ${n} more of ${bytes.byteLength})`);
  };
  need(4);
  const magic = view.getUint32(0, true);
  if (magic !== DV_MAGIC) throw corrupt(where, `magic number ${magic}, expected ${DV_MAGIC}`);
  pos = 4;
  need(8);
  const buckets = view.getBigUint64(pos, true);
  pos += 8;
  const rows: number[] = [];
  for (let b = 0n; b < buckets; b++) {
    need(4);
    const high = view.getUint32(pos, true);
    pos += 4;
    pos = decodeRoaring32(view, pos, high * 2 ** 32, rows, where);
  }
  for (let i = 1; i < rows.length; i++) {
    if (rows[i]! <= rows[i - 1]!) throw corrupt(where, 'row positions are not strictly increasing');
  }
  return rows;
}

/** One standard 32-bit RoaringBitmap at `start`; appends `base + value` to `rows`, returns the end position. */
function decodeRoaring32(view: DataView, start: number, base: number, rows: number[], where: string): number {
  let pos = start;
  const check = (n: number): void => {
    if (pos + n > view.byteLength) throw corrupt(where, `truncated at byte ${pos} (needs ${n} more of ${view.byteLength})`);
  };
  check(4);
  const cookie = view.getUint32(pos, true);
  pos += 4;
  let size: number;
  let runFlags: Uint8Array | undefined;
  if ((cookie & 0xffff) === SERIAL_COOKIE) {
    size = (cookie >>> 16) + 1;
    const flagBytes = Math.ceil(size / 8);
    check(flagBytes);
    runFlags = new Uint8Array(view.buffer, view.byteOffset + pos, flagBytes);
    pos += flagBytes;
  } else if (cookie === SERIAL_COOKIE_NO_RUN) {
    check(4);
    size = view.getUint32(pos, true);
    pos += 4;
  } else {
    throw corrupt(where, `unknown RoaringBitmap cookie ${cookie}`);
  }
  check(size * 4);
  const keys: number[] = [];
  const cardinalities: number[] = [];
  for (let i = 0; i < size; i++) {
    keys.push(view.getUint16(pos, true));
    cardinalities.push(view.getUint16(pos + 2, true) + 1);
    pos += 4;
  }
  if (!runFlags || size >= NO_OFFSET_THRESHOLD) {
    check(size * 4);
    pos += size * 4; // offset header: containers follow in order, so it is not needed
  }
  for (let i = 0; i < size; i++) {
    const containerBase = base + keys[i]! * 65536;
    const isRun = runFlags !== undefined && (runFlags[i >> 3]! & (1 << (i & 7))) !== 0;
    if (isRun) {
      check(2);
      const runs = view.getUint16(pos, true);
      pos += 2;
      check(runs * 4);
      for (let r = 0; r < runs; r++) {
        const value = view.getUint16(pos, true);
        const length = view.getUint16(pos + 2, true);
        pos += 4;
        for (let v = value; v <= value + length; v++) rows.push(containerBase + v);
      }
    } else if (cardinalities[i]! <= 4096) {
      check(cardinalities[i]! * 2);
      for (let c = 0; c < cardinalities[i]!; c++) {
        rows.push(containerBase + view.getUint16(pos, true));
        pos += 2;
      }
    } else {
      check(8192);
      for (let word = 0; word < 2048; word++) {
        let bits = view.getUint32(pos + word * 4, true);
        while (bits !== 0) {
          const bit = 31 - Math.clz32(bits & -bits);
          rows.push(containerBase + word * 32 + bit);
          bits &= bits - 1;
        }
      }
      pos += 8192;
    }
  }
  return pos;
}

/** Extracts and checks one DV from the bytes of a DV file (`offset` points at its dataSize field). */
export function parseDeletionVectorFile(file: Uint8Array, offset: number, sizeInBytes: number, where: string): Uint8Array {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (file.byteLength < 1 || file[0] !== 1) throw corrupt(where, `unsupported DV file format version ${file[0] ?? 'none'}`);
  if (offset + 4 > file.byteLength) throw corrupt(where, `offset ${offset} is past the end of the file (${file.byteLength} bytes)`);
  const dataSize = view.getUint32(offset, false);
  if (dataSize !== sizeInBytes) throw corrupt(where, `the file says ${dataSize} bytes at offset ${offset}, the log says ${sizeInBytes}`);
  const start = offset + 4;
  if (start + dataSize + 4 > file.byteLength) throw corrupt(where, `the DV at offset ${offset} runs past the end of the file`);
  const data = file.subarray(start, start + dataSize);
  const expected = view.getUint32(start + dataSize, false);
  const actual = crc32(data) >>> 0;
  if (actual !== expected) throw corrupt(where, `checksum mismatch (CRC-32 ${actual}, stored ${expected})`);
  return data;
}

/** The sorted row positions a descriptor deletes. Reads the DV file for `'u'`/`'p'` descriptors. */
export async function loadDeletionVector(tableRoot: string, dv: DeletionVectorDescriptor): Promise<number[]> {
  let rows: number[];
  if (dv.storageType === 'i') {
    const bytes = z85Decode(dv.pathOrInlineDv);
    if (bytes.byteLength < dv.sizeInBytes) throw corrupt(`inline '${dv.pathOrInlineDv.slice(0, 20)}…'`, `decodes to ${bytes.byteLength} bytes, the log says ${dv.sizeInBytes}`);
    rows = decodeRoaringBitmapArray(bytes.subarray(0, dv.sizeInBytes), 'inline');
  } else {
    const file = deletionVectorPath(tableRoot, dv);
    const content = await readFileIfExists(file);
    if (content === undefined) {
      throw new LakeError('DATA_FILE_MISSING', `deletion vector file ${file} is missing`, {
        hint: 'The table references a deletion vector file that is gone (vacuumed or not copied); read an older or newer version, or restore the file.',
        details: { file },
      });
    }
    rows = decodeRoaringBitmapArray(parseDeletionVectorFile(content, dv.offset ?? 0, dv.sizeInBytes, file), file);
  }
  if (rows.length !== dv.cardinality) {
    throw corrupt(dvUniqueId(dv).slice(0, 40), `holds ${rows.length} rows, the log says cardinality ${dv.cardinality}`);
  }
  return rows;
}

/** Sorted row positions as inclusive ranges `[first, last]`. */
export function rowRanges(rows: readonly number[]): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const row of rows) {
    const last = ranges[ranges.length - 1];
    if (last && row === last[1] + 1) last[1] = row;
    else ranges.push([row, row]);
  }
  return ranges;
}
