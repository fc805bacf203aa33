/** File names inside `_delta_log/` (PROTOCOL.md "Delta Log Entries", "Checkpoints", "Log Compaction Files"). */

/** A `_delta_log` file name, classified. */
export type LogFile =
  | { type: 'commit'; version: number; name: string }
  | { type: 'checkpoint'; version: number; name: string; part?: number; parts?: number; uuid?: string }
  | { type: 'compaction'; version: number; endVersion: number; name: string }
  | { type: 'crc'; version: number; name: string };

const COMMIT = /^(\d{20})\.json$/;
const CLASSIC_CHECKPOINT = /^(\d{20})\.checkpoint\.parquet$/;
const MULTIPART_CHECKPOINT = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/;
const V2_CHECKPOINT = /^(\d{20})\.checkpoint\.([0-9a-fA-F-]{36})\.(parquet|json)$/;
const COMPACTION = /^(\d{20})\.(\d{20})\.compacted\.json$/;
const CRC = /^(\d{20})\.crc$/;

export const LOG_DIR = '_delta_log';
export const LAST_CHECKPOINT = '_last_checkpoint';

export function padVersion(version: number): string {
  return String(version).padStart(20, '0');
}

export function commitFileName(version: number): string {
  return `${padVersion(version)}.json`;
}

export function checkpointFileName(version: number, part?: number, parts?: number): string {
  if (part === undefined || parts === undefined || parts === 1) return `${padVersion(version)}.checkpoint.parquet`;
  return `${padVersion(version)}.checkpoint.${String(part).padStart(10, '0')}.${String(parts).padStart(10, '0')}.parquet`;
}

/** Classifies a `_delta_log` file name; `undefined` for anything a reader must ignore (temp files, hidden files…). */
export function parseLogFileName(name: string): LogFile | undefined {
  let m = COMMIT.exec(name);
  if (m) return { type: 'commit', version: Number(m[1]), name };
  m = CLASSIC_CHECKPOINT.exec(name);
  if (m) return { type: 'checkpoint', version: Number(m[1]), name };
  m = MULTIPART_CHECKPOINT.exec(name);
  if (m) return { type: 'checkpoint', version: Number(m[1]), name, part: Number(m[2]), parts: Number(m[3]) };
  m = V2_CHECKPOINT.exec(name);
  if (m) return { type: 'checkpoint', version: Number(m[1]), name, uuid: m[2] };
  m = COMPACTION.exec(name);
  if (m) return { type: 'compaction', version: Number(m[1]), endVersion: Number(m[2]), name };
  m = CRC.exec(name);
  if (m) return { type: 'crc', version: Number(m[1]), name };
  return undefined;
}
