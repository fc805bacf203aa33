#!/usr/bin/env node
// Regenerates src/cli/command-index.ts from the built command modules (dist/): the names, usage
// terms and descriptions `lake --help` prints without loading any module. Run after changing a
// command's name, arguments, options or description, then rebuild:
//   npx tsc -p tsconfig.build.json && node scripts/gen-command-index.mjs && npx tsc -p tsconfig.build.json
// test/cli/command-index.test.ts fails while the file is stale.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { commandIndexOf, renderCommandIndex } = await import(path.join(repo, 'dist', 'cli', 'program.js'));
const file = path.join(repo, 'src', 'cli', 'command-index.ts');
writeFileSync(file, renderCommandIndex(await commandIndexOf()));
process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
