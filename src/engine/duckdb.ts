/**
 * The values of `@duckdb/node-api` the lake uses, loaded with `require`. The package is CommonJS:
 * an ESM `import` of it makes Node scan the sources of the modules its index re-exports for named
 * exports (cjs-module-lexer) before running them, about half of what loading DuckDB costs a process
 * (measured: 125 ms by `import`, 65 ms by `require`, median of 9 fresh processes on 2 cores).
 * Types still come from `import type` of the package, which costs nothing at run time.
 */
import { createRequire } from 'node:module';
import type * as NodeApi from '@duckdb/node-api';

const duckdb = createRequire(import.meta.url)('@duckdb/node-api') as typeof NodeApi;

export const { DuckDBInstance, DuckDBTypeId, VARCHAR } = duckdb;
export type DuckDBInstance = NodeApi.DuckDBInstance;
export type DuckDBTypeId = NodeApi.DuckDBTypeId;
