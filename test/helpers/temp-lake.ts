import { afterAll, beforeAll } from 'vitest';
import { openLake, type Lake } from '../../src/table/index.js';
import { requireBuild, runCliProcess, type ChildResult } from './child.js';
import { tempDirs } from './temp-dir.js';

/**
 * A lake in a temp folder for one test file (or describe): registers its own beforeAll / afterAll
 * (call it at the top level), opens the lake before the tests and closes and removes it, with
 * every folder `make` handed out, afterwards. `lake` and `root` are there once beforeAll has run.
 */
export interface TempLake {
  readonly lake: Lake;
  readonly root: string;
  /** More temp folders, removed with the lake. */
  make(name?: string): Promise<string>;
}

/** A temp lake for tests that also drive the built CLI as real child processes. */
export interface CliLake extends TempLake {
  /** `node dist/cli/main.js …args` with LAKE_ROOT at this lake and the native reader. */
  cli(...args: string[]): Promise<ChildResult>;
}

export function tempLake(prefix: string, options: { threads?: number; beforeOpen?: () => void } = {}): TempLake {
  const dirs = tempDirs(prefix);
  let opened: { lake: Lake; root: string } | undefined;
  const get = (): { lake: Lake; root: string } => {
    if (!opened) throw new Error('tempLake: the lake is opened in beforeAll; use it inside hooks and tests');
    return opened;
  };
  beforeAll(async () => {
    options.beforeOpen?.();
    const root = await dirs.make('lake');
    opened = { lake: await openLake({ root, threads: options.threads ?? 1 }), root };
  });
  afterAll(async () => {
    opened?.lake.close();
    await dirs.cleanup();
  });
  return {
    get lake() {
      return get().lake;
    },
    get root() {
      return get().root;
    },
    make: (name) => dirs.make(name),
  };
}

export function cliLake(prefix: string, options: { threads?: number } = {}): CliLake {
  const temp = tempLake(prefix, { ...options, beforeOpen: requireBuild });
  return Object.assign(temp, { cli: (...args: string[]) => runCliProcess(args, { env: { LAKE_ROOT: temp.root, LAKE_READER: 'native' } }) });
}
