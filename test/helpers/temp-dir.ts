import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * Fresh temp directories for one test file; `cleanup()` (call it in `afterAll`) removes every
 * directory handed out. Set `KEEP_TEST_DIRS=1` to keep them for a post-mortem.
 */
export function tempDirs(prefix: string): { make(name?: string): Promise<string>; cleanup(): Promise<void> } {
  const made: string[] = [];
  return {
    async make(name = 'run') {
      const dir = await mkdtemp(path.join(os.tmpdir(), `${prefix}-${name}-`));
      made.push(dir);
      return dir;
    },
    async cleanup() {
      if (process.env['KEEP_TEST_DIRS']) return;
      await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}

/** Creates (if needed) and returns `base/name`. */
export async function subdir(base: string, name: string): Promise<string> {
  const dir = path.join(base, name);
  await mkdir(dir, { recursive: true });
  return dir;
}
