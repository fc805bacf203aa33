#!/usr/bin/env node
// Writes docs/diagrams.md: the pipeline diagram and the gold ERD as Mermaid, generated from
// catalog/datasets.yml and the mart headers of sql/gold (column types from the marts' SQL over
// empty sources), so they never drift from the code. Run with `npm run diagrams` (builds first);
// test/report/diagrams.test.ts fails while docs/diagrams.md is stale.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { loadCatalog, describeMarts } = await import(path.join(repo, 'dist', 'pipeline', 'index.js'));
const { renderDiagramsMarkdown } = await import(path.join(repo, 'dist', 'report', 'index.js'));

const catalog = loadCatalog(path.join(repo, 'catalog', 'datasets.yml'));
const root = mkdtempSync(path.join(tmpdir(), 'diagrams-'));
try {
  const marts = await describeMarts({ catalog, root });
  const file = path.join(repo, 'docs', 'diagrams.md');
  writeFileSync(file, renderDiagramsMarkdown(catalog, marts));
  process.stdout.write(`wrote ${path.relative(process.cwd(), file)} (${marts.length} marts)\n`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
