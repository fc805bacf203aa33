/**
 * One error base for the whole project. `code` and `exitCode` are the stable contract
 * (README.md "Commands", exit codes: 2 usage/config, 3 data/quality, 4 conflict/lock,
 * 5 upstream, 1 unexpected).
 * Messages name the table/file/value; `hint` says what to do next.
 */

/** Process exit codes, one per kind of failure. */
export const EXIT = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  data: 3,
  conflict: 4,
  upstream: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Every stable error code, with the exit code it maps to. */
export const ERROR_CODES = {
  USAGE: EXIT.usage,
  CATALOG_INVALID: EXIT.usage,
  TABLE_NOT_FOUND: EXIT.usage,
  TABLE_EXISTS: EXIT.usage,
  /** A new table was asked for in a folder holding files the lake did not write. */
  NOT_A_TABLE: EXIT.usage,
  VERSION_NOT_FOUND: EXIT.usage,
  TIMESTAMP_BEFORE_TABLE: EXIT.usage,
  SQL_ERROR: EXIT.usage,
  SCHEMA_MISMATCH: EXIT.data,
  DATA_INVALID: EXIT.data,
  DATA_FILE_MISSING: EXIT.data,
  /** A user's input file (`lake write --from <file>`) is missing, of a type the lake does not read, or cannot be read (corrupt, truncated, not what its name says). */
  SOURCE_UNREADABLE: EXIT.data,
  DELTA_LOG_CORRUPT: EXIT.data,
  DELTA_PROTOCOL_UNSUPPORTED: EXIT.data,
  DELTA_WRITE_UNSUPPORTED: EXIT.data,
  QUALITY_GATE_FAILED: EXIT.data,
  DELTA_COMMIT_CONFLICT: EXIT.conflict,
  LOCK_BUSY: EXIT.conflict,
  /** The object store holding the lake does not enforce conditional writes (`If-None-Match: *`), so a commit could silently overwrite another: refused before any commit. */
  STORAGE_UNSAFE: EXIT.usage,
  /** The object store refused the request (credentials, permissions, missing bucket) or could not be reached. */
  STORAGE_ERROR: EXIT.upstream,
  /** A DuckDB extension the command needs (httpfs for a lake on S3) is not installed: `lake extension install <name>`. */
  EXTENSION_MISSING: EXIT.usage,
  /** The upstream answered with a status that is not retried (other 4xx), or retries ran out. */
  INGEST_HTTP_STATUS: EXIT.upstream,
  /** Network error or timeout on every attempt. */
  INGEST_UNREACHABLE: EXIT.upstream,
  /** The disk (or quota) holding the lake, its temp folder or the raw files is full: nothing was committed; free space and rerun. */
  DISK_FULL: EXIT.upstream,
  /** DuckDB needed more memory than the lake's memory limit allows, even with spilling: nothing was committed; raise the limit and rerun. */
  OUT_OF_MEMORY: EXIT.upstream,
  INTERNAL: EXIT.unexpected,
} as const satisfies Record<string, ExitCode>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface LakeErrorOptions {
  hint?: string;
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class LakeError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: LakeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LakeError';
    this.code = code;
    this.exitCode = ERROR_CODES[code];
    this.hint = options.hint;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      hint: this.hint,
      exitCode: this.exitCode,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export function isLakeError(error: unknown, code?: ErrorCode): error is LakeError {
  return error instanceof LakeError && (code === undefined || error.code === code);
}

/** Node system errors carry a string `code` such as `EEXIST` or `ENOENT`. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

const OUT_OF_SPACE_ERRNO = new Set(['ENOSPC', 'EDQUOT']);
const OUT_OF_SPACE_TEXT = /no space left on device|disk quota exceeded|not enough space on the disk/i;

/** Whether `error` (or any error in its `cause` chain) says the disk or quota is full. */
export function isOutOfSpace(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    const code = errnoCode(e);
    if (code !== undefined && OUT_OF_SPACE_ERRNO.has(code)) return true;
    if (e instanceof Error && OUT_OF_SPACE_TEXT.test(e.message)) return true;
    e = e instanceof Error ? e.cause : undefined;
  }
  return false;
}

/**
 * The DISK_FULL error for a failure `isOutOfSpace` recognised while writing `what` (a table, a
 * file): says where the bytes were going and where the lake spills, and that nothing was committed.
 */
export function diskFullError(what: string, cause: unknown, spillDir?: string): LakeError {
  return new LakeError('DISK_FULL', `out of disk space while writing ${what}; nothing was committed`, {
    cause,
    hint: `Free space on the disk holding ${what}${spillDir ? ` and DuckDB's spill folder ${spillDir}` : ''} (or point LAKE_ROOT / LAKE_TEMP_DIR at a larger disk), then run the command again; the table is at its last version.`,
  });
}

/**
 * `error` as DISK_FULL when it (or its cause) is an out-of-space failure, naming `what` (else the
 * file the system error names, else the lake); any other error unchanged. Used wherever errors
 * leave a write (a table write, a run's item, the CLI), so a full disk is never "a bug".
 */
export function asDiskFull(error: unknown, what?: string): unknown {
  if (!isOutOfSpace(error) || isLakeError(error, 'DISK_FULL')) return error;
  const file = typeof error === 'object' && error !== null && 'path' in error ? String((error as { path: unknown }).path) : undefined;
  return diskFullError(what ?? file ?? 'the lake', error);
}
