/**
 * The values of `commander` the CLI uses, loaded with `require` like DuckDB's package
 * (src/engine/duckdb.ts): commander's ESM entry imports its CommonJS one, which Node then scans
 * for named exports at every start (~3 ms of `lake --help`, whose whole budget is ~1.5× Node's own
 * start). Types still come from `import type` of the package.
 */
import { createRequire } from 'node:module';
import type * as Commander from 'commander';

const commander = createRequire(import.meta.url)('commander') as typeof Commander;

export const { Command, CommanderError, Help, InvalidArgumentError, Option } = commander;
export type Command = Commander.Command;
export type CommanderError = Commander.CommanderError;
export type Option = Commander.Option;
