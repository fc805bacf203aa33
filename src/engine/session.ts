import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DuckDBConnection, DuckDBMaterializedResult } from '@duckdb/node-api';
import { DuckDBInstance } from './duckdb.js';
import { LakeError, processAlive } from '../core/index.js';
import { enableS3 } from './s3.js';

/**
 * A DuckDB database (in memory by default) with one connection, always in UTC so that
 * TIMESTAMPTZ values print and cast the same on every machine. One connection runs one
 * statement at a time.
 */
export interface Engine {
  connection: DuckDBConnection;
  /** The `memory_limit` this engine runs under, as configured (e.g. `1GiB`). */
  memoryLimit: string;
  /** The engine's own scratch folder (DuckDB spills there; callers may put work files in it); removed by `close`. */
  tempDir: string;
  /** Creates `tempDir` if needed and returns it. */
  scratch(): string;
  run(sql: string): Promise<DuckDBMaterializedResult>;
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /**
   * Another connection to the same DuckDB database: its statements run at the same time as this
   * engine's (one connection runs one statement at a time), under the same memory limit and
   * spill folder, sharing the database's catalog (macros, tables) but not temp objects, which
   * belong to a connection. Its `close` closes the connection only. For workers of one run.
   */
  fork(): Promise<Engine>;
  /** The same object for an engine and its forks (the DuckDB database): key per-database state on it. */
  readonly database: object;
  /**
   * Runs `work` with DuckDB's global `preserve_insertion_order` on, counted across the engine and
   * its forks: the setting goes back off when the last such work ends, not when the first does.
   */
  inInsertionOrder<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Turns DuckDB's Parquet footer cache on for this engine and its forks, when it was opened to
   * keep footers (EngineOptions.footerCache); once, later calls do nothing. `runQuery` calls it
   * before a process's second query: filling the cache slows the query that fills it, which a
   * process that reads once would pay for nothing.
   */
  keepFooters(): Promise<void>;
  close(): void;
}

export interface EngineOptions {
  path?: string;
  threads?: number;
  /** DuckDB `memory_limit` (e.g. `1GiB`); default: the process budget (`configureEngines`), else DEFAULT_MEMORY_LIMIT. */
  memoryLimit?: string;
  /** Folder under which this engine gets its own spill folder; default: the process budget's, else the OS temp folder. */
  tempRoot?: string;
  /** The engine reads or writes `s3://` files: load httpfs and create the lake's S3 secret (engine/s3.ts). */
  s3?: boolean;
  /**
   * May keep Parquet footers between queries (DuckDB's `parquet_metadata_cache`), for this engine
   * and its forks, once `keepFooters` turns the cache on; default true. The commands that write say
   * false (`openLake({ footerCache: false })`): they read most files once, and the cache only grows
   * (docs/storage.md "Parquet footers stay in memory").
   */
  footerCache?: boolean;
}

/** The memory budget every DuckDB instance of the process runs under (docs/operations.md "Memory budget and full size"). */
export interface EngineBudget {
  memoryLimit?: string;
  threads?: number;
  tempRoot?: string;
}

/** Fits a laptop: DuckDB's buffer pool stays under 1 GiB and spills to disk beyond it. */
export const DEFAULT_MEMORY_LIMIT = '1GiB';
/** The sizes DuckDB's `memory_limit` accepts, as the lake allows them. */
export const MEMORY_LIMIT_PATTERN = /^(\d+(\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$|^(\d{1,2}|100)%$/i;

let budget: EngineBudget = {};

/** Sets the process-wide budget (the CLI does, from LAKE_MEMORY_LIMIT or the catalog's `lake.memory_limit`). */
export function configureEngines(next: EngineBudget): void {
  if (next.memoryLimit !== undefined) assertMemoryLimit(next.memoryLimit, 'memory limit');
  budget = { ...budget, ...Object.fromEntries(Object.entries(next).filter(([, v]) => v !== undefined)) };
}

export function engineBudget(): Readonly<EngineBudget> {
  return { memoryLimit: budget.memoryLimit ?? DEFAULT_MEMORY_LIMIT, ...(budget.threads === undefined ? {} : { threads: budget.threads }), ...(budget.tempRoot === undefined ? {} : { tempRoot: budget.tempRoot }) };
}

/** Throws USAGE unless `value` is a size DuckDB's `memory_limit` accepts (`512MB`, `1GiB`, `2.5GB`, `50%`). */
export function assertMemoryLimit(value: string, what: string): void {
  if (!MEMORY_LIMIT_PATTERN.test(value.trim())) {
    throw new LakeError('USAGE', `${what} ${JSON.stringify(value)} is not a size`, { hint: 'Write it like 512MiB, 1GiB, 2GB or 50% (of the machine\'s RAM).' });
  }
}

/** DuckDB's `memory_limit` (`1GiB`, `512MB`, `50%` of the machine's RAM) in bytes. */
export function memoryLimitBytes(limit: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)$/i.exec(limit.trim());
  if (!m) return 1024 ** 3;
  const unit = m[2]!.toLowerCase();
  if (unit === '%') return (os.totalmem() * Number(m[1])) / 100;
  const power = { b: 0, kb: 1, mb: 2, gb: 3, tb: 4, kib: 1, mib: 2, gib: 3, tib: 4 }[unit]!;
  return Number(m[1]) * (unit.endsWith('ib') ? 1024 : 1000) ** power;
}

/**
 * DuckDB's "Out of Memory Error" as OUT_OF_MEMORY naming the limit and the knobs; undefined for
 * any other failure. Every statement an engine runs passes its failure through this.
 */
export function outOfMemory(cause: unknown, memoryLimit: string, doing?: string): LakeError | undefined {
  const text = cause instanceof Error ? cause.message : String(cause);
  if (!/Out of Memory Error/i.test(text)) return undefined;
  const detail = /failed to allocate[^\n]*/i.exec(text)?.[0];
  return new LakeError('OUT_OF_MEMORY', `DuckDB ran out of memory${doing ? ` ${doing}` : ''} under the lake's memory limit of ${memoryLimit}${detail ? ` (${detail})` : ''}; nothing was committed`, {
    cause,
    hint: `Raise the limit (LAKE_MEMORY_LIMIT, or lake.memory_limit in the catalog; now ${memoryLimit}) or lower LAKE_THREADS, then run the command again.`,
  });
}

let engines = 0;

/** Spill folders are named `duckdb-<pid>-<n>-<random>`; one whose process is gone is left over from a crash. */
function spillFolder(root: string): string {
  return path.join(root, `duckdb-${process.pid}-${++engines}-${randomBytes(3).toString('hex')}`);
}

/** Removes spill folders under `root` left by processes that no longer run. Returns how many went. */
export function removeStaleSpillFolders(root: string): number {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const m = /^duckdb-(\d+)-\d+-[0-9a-f]+$/.exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    rmSync(path.join(root, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/**
 * `LAKE_SQL_TRACE=<file>`: every statement the lake's engines run is appended to the file as a
 * JSON line (its start in milliseconds since the process began, its milliseconds, process id, the statement) — for finding where a slow step spends its
 * time. Off unless set; the lake never reads the file.
 */
export function traceSql(sql: string, started: number): void {
  const file = process.env['LAKE_SQL_TRACE'];
  if (!file) return;
  const now = performance.now();
  appendFileSync(file, `${JSON.stringify({ at: Math.round(started), ms: Math.round(now - started), pid: process.pid, sql })}\n`);
}

export async function openEngine(options: EngineOptions = {}): Promise<Engine> {
  const config: Record<string, string> = {};
  const threads = options.threads ?? budget.threads;
  if (threads !== undefined) config['threads'] = String(threads);
  const memoryLimit = options.memoryLimit ?? budget.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
  assertMemoryLimit(memoryLimit, 'memory limit');
  config['memory_limit'] = memoryLimit;
  const tempRoot = options.tempRoot ?? budget.tempRoot ?? path.join(os.tmpdir(), 'nfl-lakehouse');
  // DuckDB creates its spill folder when it first spills, but not the folders above it.
  mkdirSync(tempRoot, { recursive: true });
  const tempDir = spillFolder(tempRoot);
  config['temp_directory'] = tempDir;
  config['preserve_insertion_order'] = 'false';
  const instance = await DuckDBInstance.create(options.path ?? ':memory:', config);
  const database: Database = { instance, memoryLimit, tempDir, footerCache: options.footerCache !== false, ordered: 0, orderSwitch: Promise.resolve() };
  try {
    return await connectEngine(database, options.s3 === true, () => {
      instance.closeSync();
      rmSync(tempDir, { recursive: true, force: true });
    });
  } catch (error) {
    instance.closeSync();
    throw error;
  }
}

/** What an engine and its forks share: the DuckDB database and its budget. */
interface Database {
  instance: DuckDBInstance;
  memoryLimit: string;
  tempDir: string;
  /** Parquet footers may be kept between queries (EngineOptions.footerCache). */
  footerCache: boolean;
  /** The switch that turned the footer cache on (`keepFooters`), once it ran; it never rejects. */
  footersKept?: Promise<unknown>;
  /** How many `inInsertionOrder` works run now, over every connection. */
  ordered: number;
  /** The last switch of preserve_insertion_order, so that switches never overlap. */
  orderSwitch: Promise<unknown>;
}

async function connectEngine(database: Database, s3: boolean, closeDatabase?: () => void): Promise<Engine> {
  const { instance, memoryLimit, tempDir } = database;
  const connection = await instance.connect();
  try {
    // ICU is built in but loads after instance creation, so the zone is set per connection.
    await connection.run("SET TimeZone = 'UTC'");
    if (s3) await enableS3(connection);
  } catch (error) {
    connection.closeSync();
    throw error;
  }
  const run = async (sql: string): Promise<DuckDBMaterializedResult> => {
    const started = performance.now();
    try {
      return await connection.run(sql);
    } catch (cause) {
      throw outOfMemory(cause, memoryLimit) ?? new LakeError('SQL_ERROR', `DuckDB: ${cause instanceof Error ? cause.message : String(cause)}`, {
        cause,
        hint: 'Check the SQL; table names resolve to lake tables (layer.dataset) or delta_scan(\'<path>\').',
      });
    } finally {
      traceSql(sql, started);
    }
  };
  const switchOrder = (on: boolean): Promise<unknown> => (database.orderSwitch = database.orderSwitch.catch(() => undefined).then(() => run(`SET preserve_insertion_order = ${on}`)));
  return {
    connection,
    memoryLimit,
    tempDir,
    database,
    scratch() {
      mkdirSync(tempDir, { recursive: true });
      return tempDir;
    },
    run,
    async rows<T>(sql: string): Promise<T[]> {
      const started = performance.now();
      const reader = await connection
        .runAndReadAll(sql)
        .catch((cause: unknown) => {
          throw outOfMemory(cause, memoryLimit) ?? new LakeError('SQL_ERROR', `DuckDB: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
        })
        .finally(() => traceSql(sql, started));
      return reader.getRowObjectsJS() as T[];
    },
    // httpfs and the S3 secret belong to the database: a fork has them already.
    fork: () => connectEngine(database, false),
    async inInsertionOrder<T>(work: () => Promise<T>): Promise<T> {
      if (database.ordered++ === 0) void switchOrder(true);
      try {
        // Also when another work switched it on and that switch is still running.
        await database.orderSwitch;
        return await work();
      } finally {
        // Everything else streams with it off again.
        if (--database.ordered === 0) await switchOrder(false);
      }
    },
    keepFooters() {
      // A Delta table's data files are never rewritten in place, so their Parquet footers can be
      // kept for the next query (DuckDB still checks each file's modification time before it uses
      // one, and the cache counts against memory_limit). DuckDB's default is off; the setting is
      // the database's (GLOBAL), so forks share it.
      if (!database.footerCache) return Promise.resolve();
      database.footersKept ??= run('SET GLOBAL parquet_metadata_cache = true').catch(() => undefined);
      // A cache that cannot be turned on only costs the later queries their footer reads.
      return database.footersKept.then(() => undefined);
    },
    close() {
      connection.closeSync();
      closeDatabase?.();
    },
  };
}

/** Quotes an SQL identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes an SQL string literal. */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
