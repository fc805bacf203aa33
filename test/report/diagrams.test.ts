import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeMarts, loadCatalog, loadMarts } from '../../src/pipeline/index.js';
import { goldErd, pipelineDiagram, renderDiagramsMarkdown } from '../../src/report/index.js';

/** docs/diagrams.md is generated (npm run diagrams) from the catalog and sql/gold: it must match them. */
const catalog = loadCatalog('catalog/datasets.yml');

describe('pipeline diagram and gold ERD', () => {
  it('docs/diagrams.md is what `npm run diagrams` generates today (regenerate it when this fails)', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'diagrams-'));
    try {
      const marts = await describeMarts({ catalog, root });
      expect(readFileSync('docs/diagrams.md', 'utf8')).toBe(renderDiagramsMarkdown(catalog, marts));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('draws every enabled dataset upstream → bronze → silver and every mart from the tables it reads', () => {
    const marts = loadMarts();
    const diagram = pipelineDiagram(catalog, marts);
    const edges = new Set(diagram.edges.map((e) => `${e.from} → ${e.to}`));
    for (const d of catalog.datasets.filter((x) => x.enabled)) {
      expect(edges).toContain(`upstream.${d.source.upstream} → bronze.${d.name}`);
      if (d.silver?.enabled !== false) expect(edges).toContain(`bronze.${d.name} → silver.${d.name}`);
    }
    expect(edges).toContain('silver.pbp → gold.fact_team_week');
    expect(edges).toContain('gold.fact_game → gold.fact_team_week');
    expect(diagram.mermaid).toMatch(/^flowchart LR\n/);
    expect(diagram.mermaid).toContain('  silver_pbp --> gold_fact_team_week\n');
  });

  it('relates each dimension to the marts holding its key, with the grain as PK', () => {
    const erd = goldErd(loadMarts());
    expect(erd.relations).toContainEqual({ from: 'dim_team', to: 'fact_game', columns: ['away_team', 'home_team'] });
    expect(erd.relations).toContainEqual({ from: 'dim_game', to: 'fact_team_week', columns: ['game_id'] });
    expect(erd.relations.some((r) => r.from.startsWith('fact_'))).toBe(false);
    expect(erd.mermaid).toContain('  dim_team ||--o{ fact_game : "away_team, home_team"\n');
    expect(erd.mermaid).toMatch(/ {2}fact_team_week \{\n(?: {4}\w+ \w+(?: PK)?\n)+ {2}\}/);
    expect(erd.mermaid).toContain(' team PK\n');
  });
});
