/**
 * The read side of the table room on its own: open a lake, resolve a table, load a snapshot, run
 * a query. A process that only reads (the reads benchmark, a query service) imports this file
 * instead of `index.ts`, which also loads every writer (write, optimize, restore, diff, views,
 * batch GC). A smaller module graph is not only a faster start: its leftovers are what pushes V8
 * into a full garbage collection during the process's first query (BENCHMARKS.md "Reads at
 * Parquet speed"). Everything here is also exported by `index.ts`, the room's door for other rooms.
 */
export { openLake, resolveTable, tableSnapshot, findSnapshot, defaultLakeRoot } from './lake.js';
export type { Lake, OpenLakeOptions, TableRef } from './lake.js';
export { prepareQuery, runQuery, parseTimestamp, parseAsOf } from './query.js';
export type { QueryOptions, QueryResult, PreparedQuery, ResolvedView } from './query.js';
