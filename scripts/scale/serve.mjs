#!/usr/bin/env node
/**
 * Serves a generated release folder (scripts/scale/generate.mjs --out DIR) with the lake's local
 * upstream server (src/pipeline/upstream/local-server.ts) until killed, and prints the variables
 * that point the catalog's upstreams at it. Regenerating a state into DIR while it runs is fine:
 * changed files are served with new ETags.
 *
 *   node scripts/scale/serve.mjs --dir /tmp/release [--port 0]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({ options: { dir: { type: 'string' }, json: { type: 'boolean', default: false } } });
if (!values.dir) {
  console.error('usage: node scripts/scale/serve.mjs --dir DIR [--json]');
  process.exit(2);
}
const { startLocalUpstream } = await import(path.join(REPO_ROOT, 'dist/pipeline/index.js'));
const scratchDir = mkdtempSync(path.join(tmpdir(), 'release-serve-'));
const server = await startLocalUpstream({ sampleDir: path.join(REPO_ROOT, 'data/sample'), scratchDir, releaseDir: path.resolve(values.dir) });
const env = server.env();
if (values.json) console.log(JSON.stringify({ origin: server.origin, env }));
else {
  console.log(`# serving ${path.resolve(values.dir)} at ${server.origin} (Ctrl-C to stop); for the lake runs:`);
  for (const [k, v] of Object.entries(env)) console.log(`export ${k}=${v}`);
}
const stop = async () => {
  await server.close();
  rmSync(scratchDir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
