import { EXIT, asDiskFull, isLakeError, type ErrorCode, type ExitCode } from '../../core/index.js';

/** The failure of one item of a run (a dataset, a mart), kept as a value: the other items go on. */
export interface RunError {
  code: ErrorCode;
  message: string;
  hint: string | undefined;
  exitCode: ExitCode;
}

/** A LakeError keeps its code; a full disk is DISK_FULL; anything else is INTERNAL (a bug). */
export function toRunError(cause: unknown): RunError {
  const error = asDiskFull(cause);
  if (isLakeError(error)) return { code: error.code, message: error.message, hint: error.hint, exitCode: error.exitCode };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), hint: 'This is a bug; please report it with the command you ran.', exitCode: EXIT.unexpected };
}
