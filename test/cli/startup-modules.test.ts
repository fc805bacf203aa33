import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHILDREN_DIR, CLI_MAIN, describeChild, requireBuild, startNode } from '../helpers/child.js';
import { tempDirs } from '../helpers/temp-dir.js';

/**
 * Start-up time comes from loading only what a command needs (src/cli/program.ts). Timing is for
 * the benchmark (scripts/bench/startup.js); this checks the cause: the modules each command loads.
 */
const dirs = tempDirs('lake-startup');

async function modulesOf(args: string[], env: Record<string, string | undefined> = {}): Promise<string[]> {
  requireBuild();
  const child = startNode(CLI_MAIN, args, { id: 'trace', env, execArgv: ['--import', path.join(CHILDREN_DIR, 'module-trace.mjs')] });
  const r = await child.done;
  expect(r.code, describeChild(r)).toBe(0);
  return r.stderr.split('\n').filter((l) => l.startsWith('module ')).map((l) => l.slice('module '.length));
}

describe('what a command loads', () => {
  it('lake --help: commander and the CLI root only (no DuckDB, no pipeline, no logger)', async () => {
    const modules = await modulesOf(['--help']);
    expect(modules.some((m) => m.includes('/dist/cli/program.js'))).toBe(true);
    // Loaded with require (src/cli/commander.ts): the trace sees CommonJS loads too.
    expect(modules.some((m) => m.includes('/node_modules/commander/'))).toBe(true);
    for (const heavy of ['@duckdb', '/dist/engine/', '/dist/table/', '/dist/pipeline/', '/zod/', '/yaml/', '/pino/', '-commands.js']) {
      expect(modules.filter((m) => m.includes(heavy)), heavy).toEqual([]);
    }
  });

  it('lake sql with LAKE_ROOT set: DuckDB and the table layer, not the pipeline or the other commands', async () => {
    const root = await dirs.make('lake');
    const modules = await modulesOf(['sql', 'SELECT 42'], { LAKE_ROOT: root });
    expect(modules.some((m) => m.includes('@duckdb'))).toBe(true);
    expect(modules.some((m) => m.includes('/dist/cli/table-commands.js'))).toBe(true);
    for (const heavy of ['/dist/pipeline/', '/zod/', '/yaml/', 'ingest-commands.js', 'gold-commands.js', 'maintenance-commands.js']) {
      expect(modules.filter((m) => m.includes(heavy)), heavy).toEqual([]);
    }
  });
});
