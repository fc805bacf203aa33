import { DuckDBInstance, type DuckDBConnection, type DuckDBMaterializedResult } from '@duckdb/node-api';
import { LakeError } from '../core/index.js';

/**
 * A DuckDB database (in memory by default) with one connection, always in UTC so that
 * TIMESTAMPTZ values print and cast the same on every machine. One connection runs one
 * statement at a time.
 */
export interface Engine {
  connection: DuckDBConnection;
  run(sql: string): Promise<DuckDBMaterializedResult>;
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  close(): void;
}

export interface EngineOptions {
  path?: string;
  threads?: number;
  memoryLimit?: string;
}

export async function openEngine(options: EngineOptions = {}): Promise<Engine> {
  const config: Record<string, string> = {};
  if (options.threads !== undefined) config['threads'] = String(options.threads);
  if (options.memoryLimit !== undefined) config['memory_limit'] = options.memoryLimit;
  const instance = await DuckDBInstance.create(options.path ?? ':memory:', config);
  const connection = await instance.connect();
  // ICU is built in but loads after instance creation, so the zone is set per connection.
  await connection.run("SET TimeZone = 'UTC'");
  const run = async (sql: string): Promise<DuckDBMaterializedResult> => {
    try {
      return await connection.run(sql);
    } catch (cause) {
      throw new LakeError('SQL_ERROR', `DuckDB: ${cause instanceof Error ? cause.message : String(cause)}`, {
        cause,
        hint: 'Check the SQL; table names resolve to lake tables (layer.dataset) or delta_scan(\'<path>\').',
      });
    }
  };
  return {
    connection,
    run,
    async rows<T>(sql: string): Promise<T[]> {
      const reader = await connection.runAndReadAll(sql).catch((cause: unknown) => {
        throw new LakeError('SQL_ERROR', `DuckDB: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
      });
      return reader.getRowObjectsJS() as T[];
    },
    close() {
      connection.closeSync();
      instance.closeSync();
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
