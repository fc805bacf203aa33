import { runCli } from '../../src/cli/program.js';

/**
 * Runs `lake <args>` in this process (src/cli/program.ts runCli) with `env` added to the
 * environment for the call only; the exit code and what it printed to stdout and stderr.
 */
export async function runCliInProcess(args: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const code = await runCli(['node', 'lake', ...args], { out: (t) => out.push(t), err: (t) => err.push(t) });
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    process.env = saved;
  }
}
