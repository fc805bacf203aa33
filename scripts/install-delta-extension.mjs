#!/usr/bin/env node
// Places DuckDB's delta extension (or, with --name httpfs, the httpfs extension a lake on S3 needs)
// where our in-process DuckDB loads it from, offline-capable (docs/design.md decision 5, docs/s3.md).
// Needs `npm run build` first.
//   node scripts/install-delta-extension.mjs [--name delta|httpfs] [--from <name.duckdb_extension|wheel.whl>] [--force] [--json]
// Without --from: keeps a working install, else `pip download duckdb-extension-delta==<DuckDB version>`,
// else DuckDB's own INSTALL delta. Exit codes follow the CLI contract (2 bad --from, 1 otherwise).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import process from 'node:process';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(root, 'dist', 'engine', 'index.js');

let args;
try {
  args = parseArgs({
    options: { name: { type: 'string', default: 'delta' }, from: { type: 'string' }, force: { type: 'boolean', default: false }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    strict: true,
  }).values;
} catch (error) {
  process.stderr.write(`error [USAGE]: ${error.message}\nusage: node scripts/install-delta-extension.mjs [--name delta|httpfs] [--from <file|wheel>] [--force] [--json]\n`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write('usage: node scripts/install-delta-extension.mjs [--name delta|httpfs] [--from <delta.duckdb_extension|wheel.whl>] [--force] [--json]\n');
  process.exit(0);
}
if (!existsSync(entry)) {
  process.stderr.write(`error [USAGE]: ${entry} is missing\nhint: run npm run build first.\n`);
  process.exit(2);
}

const { installDeltaExtension } = await import(pathToFileURL(entry).href);
try {
  const result = await installDeltaExtension({ name: args.name, from: args.from, force: args.force, python: process.env.LAKE_PYTHON });
  if (args.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    for (const s of result.skipped) process.stdout.write(`skipped ${s.source}: ${s.reason}\n`);
    process.stdout.write(
      `${args.name} extension ${result.extensionVersion ?? ''} for DuckDB ${result.duckdbVersion} (${result.platform}) loads from ${result.path} [source: ${result.source}${result.origin ? ` ${result.origin}` : ''}]\n`,
    );
  }
} catch (error) {
  if (args.json && typeof error?.toJSON === 'function') process.stderr.write(`${JSON.stringify({ error: error.toJSON() })}\n`);
  else process.stderr.write(`error [${error?.code ?? 'INTERNAL'}]: ${error?.message ?? String(error)}\n${error?.hint ? `hint: ${error.hint}\n` : ''}`);
  process.exit(typeof error?.exitCode === 'number' ? error.exitCode : 1);
}
