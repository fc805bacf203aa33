import path from 'node:path';

/**
 * A path as the user sees it in messages and records: relative to `cwd` when inside it, else as
 * given. The CLI passes its working directory; the pipeline itself never reads it.
 */
export function displayPath(file: string, cwd: string | undefined): string {
  if (cwd === undefined) return file;
  const relative = path.relative(cwd, file);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}
