import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, the built CLI and the child scripts of the concurrency and crash tests. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI_MAIN = path.join(REPO_ROOT, 'dist/cli/main.js');
export const CHILDREN_DIR = path.join(REPO_ROOT, 'test/fixtures/children');
export const WRITER_CHILD = path.join(CHILDREN_DIR, 'writer.mjs');
export const CLI_CHILD = path.join(CHILDREN_DIR, 'cli.mjs');
export const READER_CHILD = path.join(CHILDREN_DIR, 'reader.mjs');

/** Child processes run the compiled code: fail with a clear message when it is missing. */
export function requireBuild(): void {
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: run \`npm run build\` before these tests`);
}

export interface ChildResult {
  id: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ChildHandle {
  id: string;
  process: ChildProcess;
  /** Settles when the process has exited and its output is complete. */
  done: Promise<ChildResult>;
  exited: boolean;
}

export interface ChildOptions {
  id: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Node's own flags, before the script (e.g. `--import <hook>`). */
  execArgv?: readonly string[];
}

/** Starts `node <script> …args` with the given extra environment; never rejects. */
export function startNode(script: string, args: readonly string[], options: ChildOptions): ChildHandle {
  const child = spawn(process.execPath, [...(options.execArgv ?? []), script, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, CHILD_ID: options.id, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const handle: ChildHandle = {
    id: options.id,
    process: child,
    exited: false,
    done: new Promise((resolve) => {
      child.on('error', (error) => {
        stderr += String(error);
      });
      child.on('close', (code, signal) => {
        handle.exited = true;
        resolve({ id: options.id, code, signal, stdout, stderr });
      });
    }),
  };
  return handle;
}

/** Runs `node dist/cli/main.js …args` to completion. */
export function runCliProcess(args: readonly string[], options: Omit<ChildOptions, 'id'> & { id?: string } = {}): Promise<ChildResult> {
  return startNode(CLI_MAIN, args, { id: options.id ?? 'cli', ...options }).done;
}

/** The JSON lines a child printed on stdout (other lines are skipped). */
export function jsonLines<T = Record<string, unknown>>(stdout: string): T[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as T);
}

/** The error a `lake … --json` child printed on stderr (its JSON line `{ "error": … }`). */
export function cliError(r: ChildResult): { code: string; exitCode: number; message: string; hint?: string; details?: Record<string, unknown> } {
  const line = jsonLines<{ error?: { code: string; exitCode: number; message: string; hint?: string; details?: Record<string, unknown> } }>(r.stderr).find((l) => l.error);
  if (!line?.error) throw new Error(`no JSON error on stderr\n${describeChild(r)}`);
  return line.error;
}

/** A description of a child's end, for assertion messages. */
export function describeChild(r: ChildResult): string {
  return `child ${r.id} exited with code ${r.code} signal ${r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}

/**
 * Start barrier shared with test/fixtures/children/hooks.mjs: each child writes `<id>.up` once
 * its modules are loaded and waits for `go`, so the children's real work starts together.
 */
export class StartBarrier {
  constructor(readonly dir: string) {}

  env(): Record<string, string> {
    return { CHILD_BARRIER_DIR: this.dir };
  }

  /** Waits until every child is up; fails early (with its output) when one exits before. */
  async allUp(children: readonly ChildHandle[], timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const up = new Set((await readdir(this.dir)).filter((n) => n.endsWith('.up')).map((n) => n.slice(0, -3)));
      if (children.every((c) => up.has(c.id))) return;
      const dead = children.find((c) => c.exited && !up.has(c.id));
      if (dead) throw new Error(`child exited before the start barrier:\n${describeChild(await dead.done)}`);
      if (Date.now() > deadline) throw new Error(`children not up after ${timeoutMs} ms: ${children.filter((c) => !up.has(c.id)).map((c) => c.id).join(', ')}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async release(): Promise<void> {
    await writeFile(path.join(this.dir, 'go'), '');
  }
}

/** Environment that makes COUNT children meet at their first commit link (hooks.mjs). */
export function commitGateEnv(dir: string, count: number): Record<string, string> {
  return { CHILD_GATE_DIR: dir, CHILD_GATE_COUNT: String(count) };
}

export interface ChildSpec {
  id: string;
  /** Overrides the script given to `startTogether`/`runTogether` for this child. */
  script?: string;
  args: readonly string[];
  env?: Record<string, string | undefined>;
}

/**
 * Starts one `node <script>` per spec behind a start barrier in `barrierDir` and releases them
 * once all are loaded; returns the running children.
 */
export async function startTogether(script: string, specs: readonly ChildSpec[], barrierDir: string): Promise<ChildHandle[]> {
  const barrier = new StartBarrier(barrierDir);
  const children = specs.map((s) => startNode(s.script ?? script, s.args, { id: s.id, env: { ...barrier.env(), ...s.env } }));
  try {
    await barrier.allUp(children);
  } catch (error) {
    for (const c of children) if (!c.exited) c.process.kill('SIGKILL');
    throw error;
  }
  await barrier.release();
  return children;
}

/** `startTogether`, then waits for every child to exit. */
export async function runTogether(script: string, specs: readonly ChildSpec[], barrierDir: string): Promise<ChildResult[]> {
  const children = await startTogether(script, specs, barrierDir);
  return Promise.all(children.map((c) => c.done));
}
