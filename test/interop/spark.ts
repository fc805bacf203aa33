import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ident, literal } from '../../src/engine/index.js';
import { isArray, isMap, isStruct, parseDecimal, type DataType, type StructField } from '../../src/delta/index.js';
import { resolveTable, runQuery, tableSnapshot, type Lake } from '../../src/table/index.js';
import type { Answer, Canonical } from './normalize.js';
import { PYTHON, REPO_ROOT } from './oracle.js';

/**
 * Spark as an interop judge: `oracles/spark_server.py` (pyspark + delta-spark from
 * test/interop/requirements-spark.txt) runs ONE Spark session (local[2], America/New_York) for
 * the whole suite, fed one JSON request per line. `bash scripts/setup-oracles.sh` installs it.
 */
const SERVER = path.join(REPO_ROOT, 'test', 'interop', 'oracles', 'spark_server.py');

/** Why the Spark suite cannot run here, or undefined when it can. */
export function sparkSkipReason(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} is absent: run bash scripts/setup-oracles.sh`;
  const lib = path.join(REPO_ROOT, '.venv', 'lib');
  const hasPyspark = readdirSync(lib).some((py) => existsSync(path.join(lib, py, 'site-packages', 'pyspark')) && existsSync(path.join(lib, py, 'site-packages', 'delta')));
  if (!hasPyspark) return 'pyspark and delta-spark are not in .venv: run bash scripts/setup-oracles.sh (test/interop/requirements-spark.txt)';
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' });
  } catch {
    return 'java is not on PATH: Spark needs Java 17 (apt-get install openjdk-17-jre-headless)';
  }
  return undefined;
}

type Request = Record<string, unknown> & { op: string };

export interface SparkServer {
  spark: string;
  delta: string;
  /** Milliseconds from spawn to a ready session. */
  startMs: number;
  /** Requests answered and the milliseconds Spark spent on them, per op. */
  spent: Map<string, { requests: number; ms: number }>;
  request<T>(request: Request): Promise<T>;
  close(): Promise<void>;
}

/** Starts the Spark server and waits for its session (the first start downloads delta-spark's jars). */
export async function startSpark(): Promise<SparkServer> {
  const started = Date.now();
  const child: ChildProcess = spawn(PYTHON, [SERVER], { cwd: path.dirname(SERVER), stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-20_000);
  });
  const lines = createInterface({ input: child.stdout! });
  const waiting: Array<{ resolve(line: string): void; reject(error: Error): void }> = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  lines.on('line', (line) => waiting.shift()?.resolve(line));
  child.once('exit', (code, signal) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`the Spark server exited (${code ?? signal}):\n${stderr}`));
  });
  const next = (): Promise<string> => new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  let queue: Promise<unknown> = Promise.resolve();

  const ready = JSON.parse(await next()) as { ready?: boolean; spark: string; delta: string; error?: string };
  if (!ready.ready) throw new Error(`${ready.error ?? 'the Spark server did not start'}\n${stderr}`);
  const spent = new Map<string, { requests: number; ms: number }>();
  return {
    spark: ready.spark,
    delta: ready.delta,
    startMs: Date.now() - started,
    spent,
    request<T>(request: Request): Promise<T> {
      const answer = queue.then(async () => {
        const line = next();
        const sent = Date.now();
        child.stdin!.write(`${JSON.stringify(request)}\n`);
        const out = JSON.parse(await line) as T & { error?: string; trace?: string };
        const op = spent.get(request.op) ?? { requests: 0, ms: 0 };
        spent.set(request.op, { requests: op.requests + 1, ms: op.ms + Date.now() - sent });
        if (out.error !== undefined) throw new Error(`Spark ${request.op} failed: ${out.error}\n${out.trace ?? ''}`);
        return out as T;
      });
      queue = answer.catch(() => undefined);
      return answer;
    },
    async close() {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The Spark answer of a table version, in canonical form (normalize.py). */
export async function sparkRead(spark: SparkServer, tableRoot: string, version: number): Promise<Answer> {
  const answer = await spark.request<{ columns: { name: string }[]; rows: Canonical[][] }>({ op: 'read', path: tableRoot, version });
  return { columns: answer.columns.map((c) => c.name), rows: answer.rows };
}

/** The profile kind of a Delta type (PROFILES in spark_server.py). */
export type ProfileKind = 'integer' | 'decimal' | 'float' | 'boolean' | 'string' | 'binary' | 'date' | 'timestamp' | 'timestamp_ntz' | 'array' | 'map' | 'struct';

export function profileKind(type: DataType): ProfileKind {
  if (isStruct(type)) return 'struct';
  if (isArray(type)) return 'array';
  if (isMap(type)) return 'map';
  if (typeof type !== 'string') throw new Error(`no profile for Delta type ${JSON.stringify(type)}`);
  if (parseDecimal(type)) return 'decimal';
  switch (type) {
    case 'long':
    case 'integer':
    case 'short':
    case 'byte':
      return 'integer';
    case 'float':
    case 'double':
      return 'float';
    case 'boolean':
    case 'string':
    case 'binary':
    case 'date':
    case 'timestamp':
    case 'timestamp_ntz':
      return type;
    default:
      throw new Error(`no profile for Delta type ${JSON.stringify(type)}`);
  }
}

/** The DuckDB twins of spark_server.py's PROFILES, each cast to VARCHAR. */
const DUCKDB_PROFILES: Record<ProfileKind, string[]> = {
  integer: ['count({c})', 'sum(CAST({c} AS DECIMAL(38,0)))'],
  decimal: ['count({c})', 'sum({c})'],
  float: ['count({c})', 'coalesce(count_if(isnan({c})), 0)', 'sum(CASE WHEN isnan({c}) OR isinf({c}) THEN 0 ELSE CAST({c} AS DOUBLE) END)'],
  boolean: ['count({c})', 'coalesce(count_if({c}), 0)'],
  string: ['count({c})', 'sum(strlen({c}))'],
  binary: ['count({c})', 'sum(octet_length({c}))'],
  date: ['count({c})', "sum(date_diff('day', DATE '1970-01-01', {c}))"],
  timestamp: ['count({c})', 'sum(CAST(epoch_us({c}) AS DECIMAL(38,0)))', 'min(epoch_us({c}))', 'max(epoch_us({c}))'],
  timestamp_ntz: ['count({c})', "min(strftime({c}, '%Y-%m-%d %H:%M:%S.%f'))", "max(strftime({c}, '%Y-%m-%d %H:%M:%S.%f'))"],
  array: ['count({c})', 'sum(CASE WHEN {c} IS NULL THEN 0 ELSE len({c}) END)'],
  map: ['count({c})', 'sum(CASE WHEN {c} IS NULL THEN 0 ELSE cardinality({c}) END)'],
  struct: ['count({c})'],
};

export interface Profile {
  count: string;
  profile: Record<string, (string | null)[]>;
}

/** SQL computing the profile of `source` (our reader's rows) for `fields`: count(*) first, then each field's list. */
export function duckdbProfileSql(source: string, fields: readonly StructField[]): string {
  const exprs = ['CAST(count(*) AS VARCHAR)'];
  for (const f of fields) for (const t of DUCKDB_PROFILES[profileKind(f.type)]) exprs.push(`CAST(${t.replaceAll('{c}', ident(f.name))} AS VARCHAR)`);
  return `SELECT ${exprs.join(', ')} FROM ${source}`;
}

/** Splits a row of `duckdbProfileSql` into a Profile. */
export function profileFromRow(row: readonly (string | null)[], fields: readonly StructField[]): Profile {
  const profile: Record<string, (string | null)[]> = {};
  let at = 1;
  for (const f of fields) {
    const n = DUCKDB_PROFILES[profileKind(f.type)].length;
    profile[f.name] = row.slice(at, at + n);
    at += n;
  }
  return { count: row[0] ?? '0', profile };
}

/** Our native reader's profile of a table version, with the version's schema fields. */
export async function ourProfile(lake: Lake, tableRoot: string, version: number): Promise<{ profile: Profile; fields: StructField[] }> {
  const snapshot = await tableSnapshot(lake, resolveTable(lake, tableRoot), { version });
  const fields = snapshot.schema.fields;
  const result = await runQuery(lake, duckdbProfileSql(`delta_scan(${literal(tableRoot)}, version => ${version})`, fields), { reader: 'native' });
  return { profile: profileFromRow(result.rows[0] as (string | null)[], fields), fields };
}

export async function sparkProfile(spark: SparkServer, tableRoot: string, version: number, fields: readonly StructField[]): Promise<Profile> {
  const columns = fields.map((f) => ({ name: f.name, kind: profileKind(f.type) }));
  return spark.request<Profile>({ op: 'profile', path: tableRoot, version, columns });
}

/** Decimal text without trailing fraction zeros ('12.50' and '12.5' are one value). */
function decimalKey(v: string): string {
  return v.includes('.') ? v.replace(/\.?0+$/, '') : v;
}

/**
 * Where two profiles of one table version differ, as readable lines (empty when they agree).
 * Float sums (third value of a float column) agree within 1e-9 relative: a sum of doubles depends
 * on the order the rows are added in.
 */
export function profileMismatches(ours: Profile, theirs: Profile, fields: readonly StructField[], judge = 'Spark'): string[] {
  const out: string[] = [];
  if (ours.count !== theirs.count) out.push(`count: ours ${ours.count}, ${judge} ${theirs.count}`);
  for (const f of fields) {
    const kind = profileKind(f.type);
    const a = ours.profile[f.name] ?? [];
    const b = theirs.profile[f.name] ?? [];
    if (b.length !== a.length) out.push(`${f.name} (${kind}): ours profiles ${a.length} values, ${judge} ${b.length}`);
    a.forEach((x, i) => {
      const y = b[i] ?? null;
      if (x === null || y === null) {
        if (x !== y) out.push(`${f.name}[${i}]: ours ${x}, ${judge} ${y}`);
        return;
      }
      const same =
        kind === 'float' && i === 2
          ? Math.abs(Number(x) - Number(y)) <= 1e-9 * Math.max(1, Math.abs(Number(x)), Math.abs(Number(y)))
          : kind === 'decimal'
            ? decimalKey(x) === decimalKey(y)
            : x === y;
      if (!same) out.push(`${f.name}[${i}] (${kind}): ours ${x}, ${judge} ${y}`);
    });
  }
  return out;
}

/** A Spark SQL path reference: delta.`/abs/path`. */
export function sparkTable(tableRoot: string): string {
  return `delta.\`${tableRoot.replaceAll('`', '``')}\``;
}
