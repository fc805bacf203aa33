import { EXIT, LakeError, type LakeErrorOptions } from '../../core/index.js';

/** Upstream failures (exit 5); the codes are part of core's ERROR_CODES. */
export const INGEST_ERROR_CODES = {
  INGEST_HTTP_STATUS: EXIT.upstream,
  INGEST_UNREACHABLE: EXIT.upstream,
} as const;

export type IngestErrorCode = keyof typeof INGEST_ERROR_CODES;

export class IngestError extends LakeError {
  constructor(code: IngestErrorCode, message: string, options: LakeErrorOptions = {}) {
    super(code, message, options);
    this.name = 'IngestError';
  }
}

/** The stable code of any error (LakeError codes plus the ingest codes above). */
export function errorCode(error: unknown): string | undefined {
  if (error instanceof LakeError) return error.code as string;
  return undefined;
}

/** A LakeError carrying another error's stable code and exit code (a run's first failure, rethrown for the CLI's exit status). */
export function errorWithCode(code: string, exitCode: number, message: string, options: LakeErrorOptions = {}): LakeError {
  const error = new LakeError('INTERNAL', message, options);
  Object.defineProperty(error, 'code', { value: code, enumerable: true });
  Object.defineProperty(error, 'exitCode', { value: exitCode, enumerable: true });
  return error;
}
