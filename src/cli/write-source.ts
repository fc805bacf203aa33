import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { LakeError, isLakeError } from '../core/index.js';
import { literal } from '../engine/index.js';
import type { Lake } from '../table/index.js';

/**
 * The `--from` of `lake write`: a data file (its format from its extension) or a query. Every
 * problem with a file — missing, of a type the lake does not read, unreadable, corrupt — is
 * SOURCE_UNREADABLE (exit 3) naming the file as the user wrote it and the formats the lake reads;
 * DuckDB's text is kept only as the reason, never with the SQL we built around the file.
 */
export interface SourceFormat {
  name: string;
  extensions: string;
  pattern: RegExp;
  reader: 'read_parquet' | 'read_csv' | 'read_json';
}

export const SOURCE_FORMATS: readonly SourceFormat[] = [
  { name: 'Parquet', extensions: '.parquet', pattern: /\.parquet$/i, reader: 'read_parquet' },
  { name: 'CSV', extensions: '.csv, .csv.gz', pattern: /\.csv(\.gz)?$/i, reader: 'read_csv' },
  { name: 'JSON', extensions: '.json, .jsonl, .ndjson, optionally .gz', pattern: /\.(json|jsonl|ndjson)(\.gz)?$/i, reader: 'read_json' },
];

export type WriteSource = { kind: 'query'; sql: string } | { kind: 'file'; from: string; file: string; format: SourceFormat; sql: string };

const QUERY = /^\s*(select|with|from|values|table|\()/i;
/** Text that can only mean a file: a path separator, or a name ending in an extension. */
const FILE_LIKE = /[/\\]|\.[a-z0-9]{1,10}$/i;

function supported(): string {
  return SOURCE_FORMATS.map((f) => `${f.name} (${f.extensions})`).join(', ');
}

function unreadable(from: string, problem: string, hint: string, cause?: unknown): LakeError {
  return new LakeError('SOURCE_UNREADABLE', `--from ${from}: ${problem}`, { hint, cause, details: { file: from, formats: SOURCE_FORMATS.map((f) => f.name) } });
}

/** Resolves `--from` (relative paths from `cwd`); throws SOURCE_UNREADABLE for a file it cannot take, USAGE for text that is neither. */
export function resolveSource(from: string, cwd = process.cwd()): WriteSource {
  const file = path.resolve(cwd, from);
  if (!existsSync(file)) {
    if (QUERY.test(from)) return { kind: 'query', sql: from };
    if (FILE_LIKE.test(from.trim())) {
      throw unreadable(from, `no such file (looked for ${file})`, 'Check the file name and folder (a relative path starts from the current folder), or pass a query starting with SELECT, WITH, FROM or VALUES.');
    }
    throw new LakeError('USAGE', `--from ${from}: neither an existing file nor a query`, { hint: 'Give a data file (.parquet, .csv, .json) or a query starting with SELECT, WITH, FROM or VALUES.' });
  }
  if (statSync(file).isDirectory()) {
    throw unreadable(from, 'is a folder, not a data file', `Give one file, or read the folder with a query, e.g. --from "SELECT * FROM read_parquet('${path.join(from, '*.parquet')}')".`);
  }
  const format = SOURCE_FORMATS.find((f) => f.pattern.test(from));
  if (!format) {
    throw unreadable(
      from,
      `unsupported file type '${path.extname(from) || '(none)'}'; lake write reads ${supported()}`,
      `Convert the file to one of those formats (or fix its extension if it already is one), or read it with a query, e.g. --from "SELECT * FROM read_csv('${from}', delim='|')".`,
    );
  }
  try {
    accessSync(file, constants.R_OK);
  } catch (cause) {
    throw unreadable(from, 'cannot be opened (permission denied)', 'Give the lake read access to the file, or copy it somewhere readable.', cause);
  }
  return { kind: 'file', from, file, format, sql: `SELECT * FROM ${format.reader}(${literal(file)})` };
}

/** DuckDB's reason, without the SQL it echoes (`LINE 1: …`), its tips, or the absolute path we gave it. */
function reason(cause: unknown, source: Extract<WriteSource, { kind: 'file' }>): string {
  const text = cause instanceof Error ? cause.message : String(cause);
  const first = text.split(/\n\s*\n/)[0]!.replace(/\s*LINE \d+:[\s\S]*$/, '');
  const lines = first.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => (l.length > 200 ? `${l.slice(0, 200)}…` : l));
  return lines.join(' ').split(source.file).join(source.from).replace(/^(Invalid Input|Conversion|IO|Binder|Parser) Error: /, '');
}

function corrupt(source: Extract<WriteSource, { kind: 'file' }>, cause: unknown): LakeError {
  return unreadable(
    source.from,
    `cannot be read as ${source.format.name}: ${reason(cause, source)}`,
    `Check that it is a complete ${source.format.name} file (not truncated, not another format under a ${source.format.name} name); nothing was committed.${source.format.name === 'CSV' ? ` DuckDB guesses CSV column types from the first rows; to set them, pass a query: --from "SELECT * FROM read_csv('${source.from}', types={…})" (or all_varchar=true).` : ''}`,
    cause,
  );
}

/** Reads the file's schema (and, for Parquet, its footer) before anything is written: a file that does not open is SOURCE_UNREADABLE. */
export async function probeSource(lake: Lake, source: WriteSource): Promise<void> {
  if (source.kind !== 'file') return;
  try {
    await lake.engine.connection.run(`DESCRIBE ${source.sql}`);
  } catch (cause) {
    throw corrupt(source, cause);
  }
}

/**
 * A write error caused by reading the file (a bad row deep in a CSV, a damaged Parquet page: what
 * the probe cannot see) as SOURCE_UNREADABLE; any other error unchanged. DuckDB names the file it
 * was reading, which is how the two are told apart.
 */
export function sourceError(error: unknown, source: WriteSource): unknown {
  if (source.kind !== 'file' || !isLakeError(error) || (error.code !== 'SQL_ERROR' && error.code !== 'DATA_INVALID')) return error;
  const cause = error.cause instanceof Error ? error.cause : undefined;
  if (!cause?.message.includes(source.file)) return error;
  return corrupt(source, cause);
}
