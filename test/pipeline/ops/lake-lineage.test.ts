import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess } from '../../helpers/cli-in-process.js';
import { LINEAGE_FORMAT, tableLineage, type LakeLineage } from '../../../src/pipeline/index.js';
import { resolveTable } from '../../../src/table/index.js';
import { sampleLake, type SampleLake } from '../../helpers/sample-lake.js';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';

/** `lake lineage --all --out catalog/lineage.json`: every table's lineage in one file, in the seed's three levels. */
let server: UpstreamServer;
let env: SampleLake;
let out: string;
let ingestRun: string;
let promoteRun: string;

const cli = (args: string[]) => runCliInProcess(args, { LAKE_ROOT: env.settings.root });

beforeAll(async () => {
  server = await startUpstreamServer();
  env = await sampleLake(server, 'lake-lineage');
  out = mkdtempSync(path.join(tmpdir(), 'lake-lineage-out-'));
  ingestRun = (await env.ingest(['teams', 'win_totals']))[0]!.runId;
  promoteRun = (await env.promote({ runId: 'promote-all' })).runId;
}, 60_000);
afterAll(async () => {
  env?.close();
  await server?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('lake lineage --all', () => {
  it('--out writes one JSON document: tables with their versions, runs across tables, datasets and partitions naming their table', async () => {
    const file = path.join(out, 'lineage.json');
    const result = await cli(['lineage', '--all', '--out', file]);
    expect(result.code, result.err).toBe(0);
    expect(result.out).toBe(`wrote ${file}: 4 tables, 2 runs, 66 partitions\n`);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as LakeLineage;
    expect(doc).toMatchObject({ format: LINEAGE_FORMAT, pipeline_version: '0.1.0' });
    expect(doc.tables).toEqual([
      { table: 'bronze.teams', layer: 'bronze', version: 0 },
      { table: 'bronze.win_totals', layer: 'bronze', version: 0 },
      { table: 'silver.teams', layer: 'silver', version: 0 },
      { table: 'silver.win_totals', layer: 'silver', version: 0 },
    ]);
    expect(doc.runs.map((r) => [r.run_id, r.tables])).toEqual([
      [ingestRun, { 'bronze.teams': [0], 'bronze.win_totals': [0] }],
      [promoteRun, { 'silver.teams': [0], 'silver.win_totals': [0] }],
    ]);
    expect(doc.runs[1]!.source_versions).toEqual({ 'bronze.teams': 0, 'bronze.win_totals': 0 });
    expect(doc.datasets.map((d) => [d.table, d.dataset, d.run_id])).toEqual([
      ['bronze.teams', 'teams', ingestRun],
      ['bronze.win_totals', 'win_totals', ingestRun],
      ['silver.teams', 'teams', promoteRun],
      ['silver.win_totals', 'win_totals', promoteRun],
    ]);
    // Each table's partitions are exactly what lake lineage <table> reports, tagged with the table.
    for (const t of doc.tables) {
      const one = await tableLineage(env.lake, resolveTable(env.lake, t.table));
      expect(doc.partitions.filter((p) => p.table === t.table)).toEqual(one.partitions.map((p) => ({ table: t.table, ...p })));
    }
    expect(doc.partitions.filter((p) => p.table === 'silver.win_totals').every((p) => /^[0-9a-f]{64}$/.test(p.sha256_fingerprint ?? ''))).toBe(true);
  });

  it('prints the document without --out; a table and --all together, or neither, is USAGE', async () => {
    const printed = await cli(['lineage', '--all']);
    expect(printed.code, printed.err).toBe(0);
    expect((JSON.parse(printed.out) as LakeLineage).tables).toHaveLength(4);
    const both = await cli(['lineage', 'silver.teams', '--all']);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/lake lineage takes a table or --all, not both/);
    const neither = await cli(['lineage']);
    expect(neither.code).toBe(2);
    expect(neither.err).toMatch(/lake lineage needs a table, or --all/);
  });
});
