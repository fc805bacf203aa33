/**
 * One error base for the whole project. `code` and `exitCode` are the stable contract
 * (DESIGN.md exit codes: 2 usage/config, 3 data/quality, 4 conflict/lock, 5 upstream, 1 unexpected).
 * Messages name the table/file/value; `hint` says what to do next.
 */
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
  VERSION_NOT_FOUND: EXIT.usage,
  TIMESTAMP_BEFORE_TABLE: EXIT.usage,
  SQL_ERROR: EXIT.usage,
  SCHEMA_MISMATCH: EXIT.data,
  DATA_INVALID: EXIT.data,
  DATA_FILE_MISSING: EXIT.data,
  DELTA_LOG_CORRUPT: EXIT.data,
  DELTA_PROTOCOL_UNSUPPORTED: EXIT.data,
  DELTA_WRITE_UNSUPPORTED: EXIT.data,
  QUALITY_GATE_FAILED: EXIT.data,
  DELTA_COMMIT_CONFLICT: EXIT.conflict,
  LOCK_BUSY: EXIT.conflict,
  /** The upstream answered with a status that is not retried (other 4xx), or retries ran out. */
  INGEST_HTTP_STATUS: EXIT.upstream,
  /** Network error or timeout on every attempt. */
  INGEST_UNREACHABLE: EXIT.upstream,
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
