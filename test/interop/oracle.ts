import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Answer, Canonical } from './normalize.js';

/**
 * The Python oracles (test/interop/oracles) run as real child processes with the repo's .venv,
 * which `bash scripts/setup-oracles.sh` creates from the pinned test/interop/requirements.txt.
 */
const run = promisify(execFile);

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PYTHON = path.join(REPO_ROOT, '.venv', 'bin', 'python');
const ORACLES = path.join(REPO_ROOT, 'test', 'interop', 'oracles');

/** Why the oracle tests cannot run here, or undefined when they can. */
export function oracleSkipReason(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} is absent: run bash scripts/setup-oracles.sh to install the interop oracles`;
  return undefined;
}

/** Prints the reason once per test file, so a skipped oracle suite is never silent. */
export function announceSkip(suite: string): boolean {
  const reason = oracleSkipReason();
  if (reason) process.stderr.write(`[interop] skipping ${suite}: ${reason}\n`);
  return reason !== undefined;
}

/** The delta binary the duckdb-extension-delta package installed into .venv. */
export function venvDeltaExtension(): string | undefined {
  const lib = path.join(REPO_ROOT, '.venv', 'lib');
  if (!existsSync(lib)) return undefined;
  for (const py of readdirSync(lib)) {
    const dir = path.join(lib, py, 'site-packages', 'duckdb_extension_delta', 'extensions');
    if (!existsSync(dir)) continue;
    for (const version of readdirSync(dir)) {
      const file = path.join(dir, version, 'delta.duckdb_extension');
      if (existsSync(file)) return file;
    }
  }
  return undefined;
}

/** Runs test/interop/oracles/<script> with the .venv Python (extra environment variables in `env`) and parses its JSON answer. */
export async function python(script: string, args: string[], env?: Record<string, string>): Promise<unknown> {
  try {
    const { stdout } = await run(PYTHON, [path.join(ORACLES, script), ...args], { maxBuffer: 256 * 1024 * 1024, cwd: ORACLES, env: env && { ...process.env, ...env } });
    return JSON.parse(stdout);
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`oracle ${script} ${args.join(' ')} failed: ${e.stdout?.trim() || e.message}\n${e.stderr ?? ''}`);
  }
}

export type OracleEngine = 'deltalake' | 'duckdb';

interface OracleVersion {
  version: number;
  columns: { name: string; type: string }[];
  rows: Canonical[][];
}

export interface OracleAnswer extends Answer {
  version: number;
  types: string[];
}

function toAnswer(v: OracleVersion): OracleAnswer {
  return { version: v.version, columns: v.columns.map((c) => c.name), types: v.columns.map((c) => c.type), rows: v.rows };
}

/**
 * delta-rs's object-store options for a table on an S3-compatible server (`s3://bucket/prefix`):
 * AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ALLOW_HTTP. The DuckDB
 * oracle turns the same options into an S3 secret (read_table.py).
 */
export type StorageOptions = Record<string, string>;

function storageArgs(options: StorageOptions | undefined): string[] {
  return options === undefined ? [] : ['--storage-options', JSON.stringify(options)];
}

/** Every version of the table as an oracle reads it, index = version. */
export async function oracleReadAll(tableRoot: string, engine: OracleEngine, options?: StorageOptions): Promise<OracleAnswer[]> {
  const out = (await python('read_table.py', [tableRoot, '--all-versions', '--engine', engine, ...storageArgs(options)])) as { versions: OracleVersion[] };
  return out.versions.map(toAnswer);
}

/** A version's row count and per-column profile (read_table.py --profile; spark.ts Profile). */
export interface OracleProfile {
  version: number;
  count: string;
  profile: Record<string, (string | null)[]>;
}

/**
 * Every version's profile of each table as an oracle reads it (one process for all of them), index =
 * version: for tables too wide and long to compare row by row.
 */
export async function oracleProfileAll(tableRoots: string[], engine: OracleEngine, options?: StorageOptions): Promise<Map<string, OracleProfile[]>> {
  const args = [...tableRoots, '--all-versions', '--profile', '--engine', engine, ...storageArgs(options)];
  if (tableRoots.length === 1) return new Map([[tableRoots[0]!, ((await python('read_table.py', args)) as { versions: OracleProfile[] }).versions]]);
  const out = (await python('read_table.py', args)) as { tables: { path: string; versions: OracleProfile[] }[] };
  return new Map(out.tables.map((t) => [t.path, t.versions]));
}

export async function oracleRead(tableRoot: string, engine: OracleEngine, version?: number, options?: StorageOptions): Promise<OracleAnswer> {
  const args = [tableRoot, '--engine', engine, ...(version === undefined ? [] : ['--version', String(version)]), ...storageArgs(options)];
  return toAnswer((await python('read_table.py', args)) as OracleVersion);
}

export type OracleScenario = 'types' | 'partitioned-string' | 'partitioned-int';

export interface OracleWrite {
  path: string;
  scenario: OracleScenario;
  partitionBy: string[];
  checkpoint: number;
  commits: { version: number; operation: string; rows: number }[];
}

/** delta-rs writes a table at `tableRoot` (see write_table.py for the operations). */
export async function oracleWrite(tableRoot: string, scenario: OracleScenario): Promise<OracleWrite> {
  return (await python('write_table.py', [tableRoot, '--scenario', scenario])) as OracleWrite;
}

export interface OracleQuery extends Answer {
  where: string;
}

/** One version read once per predicate, with the predicate pushed into the oracle's scan. */
export async function oracleQuery(tableRoot: string, engine: OracleEngine, version: number, predicates: string[]): Promise<OracleQuery[]> {
  const args = [tableRoot, '--engine', engine, '--version', String(version), ...predicates.flatMap((p) => ['--where', p])];
  const out = (await python('read_table.py', args)) as { queries: (Omit<OracleVersion, 'version'> & { where: string })[] };
  return out.queries.map((q) => ({ where: q.where, columns: q.columns.map((c) => c.name), rows: q.rows }));
}
