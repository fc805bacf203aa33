import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../../../src/engine/index.js';
import { DEFAULT_SILVER_SQL_DIR, TEAM_CODES_FILE, columnRefs, loadCatalog, loadSilverRule, loadTeamCodes, parseCatalog } from '../../../src/pipeline/index.js';
import { REPO_ROOT } from '../../helpers/child.js';
import { tempDirs } from '../../helpers/temp-dir.js';
import { thingsCatalog } from '../../helpers/things-catalog.js';

/** `-- @include _fragments/<name>.sql` in a silver rule: expanded before the rule is parsed and hashed. */
const things = parseCatalog(thingsCatalog(), 'test-catalog.yml').datasets[0]!;
const LINEAGE = `-- lineage stamps
  CAST("source" AS VARCHAR) AS "source",
  CAST(ingested_at AS TIMESTAMPTZ) AS ingested_at,
  CAST(run_id AS VARCHAR) AS run_id
`;
const RULE = `SELECT
  CAST(id AS VARCHAR) AS id,
  CAST(season AS INTEGER) AS season,
  -- @include _fragments/lineage.sql
FROM bronze_rows
`;

const dirs = tempDirs('silver-rule');
let engine: Engine;

async function sqlDir(files: Record<string, string>): Promise<string> {
  const dir = await dirs.make();
  mkdirSync(path.join(dir, '_fragments'));
  copyFileSync(path.join(DEFAULT_SILVER_SQL_DIR, TEAM_CODES_FILE), path.join(dir, TEAM_CODES_FILE));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

beforeAll(async () => {
  engine = await openEngine();
});
afterAll(async () => {
  engine.close();
  await dirs.cleanup();
});

describe('per-run caches', () => {
  it('columnRefs parses a text once: the same names again, each caller its own copy; a text that does not parse still fails', async () => {
    const sql = 'SELECT a.x, y FROM t AS a WHERE z > 1';
    const first = await columnRefs(engine, sql);
    expect([...first].sort()).toEqual(['x', 'y', 'z']);
    first.add('mutated');
    expect([...(await columnRefs(engine, sql))].sort()).toEqual(['x', 'y', 'z']);
    await expect(columnRefs(engine, 'SELECT FROM WHERE')).rejects.toThrow(/does not parse/);
    await expect(columnRefs(engine, 'SELECT FROM WHERE')).rejects.toThrow(/does not parse/);
  });

  it('loadTeamCodes reads the codes once per engine; each caller gets its own list', async () => {
    const own = await openEngine({ threads: 1 });
    try {
      const first = await loadTeamCodes(own, DEFAULT_SILVER_SQL_DIR);
      expect(first).toContain('KC');
      first.length = 0;
      const again = await loadTeamCodes(own, DEFAULT_SILVER_SQL_DIR);
      expect(again).toContain('KC');
      expect(again.length).toBeGreaterThan(30);
    } finally {
      own.close();
    }
  });
});

describe('silver rule fragments', () => {
  it('an @include line stands for the fragment: its columns are the rule\'s, and its text is in the rule and its sha256', async () => {
    const dir = await sqlDir({ 'things.sql': RULE, '_fragments/lineage.sql': LINEAGE });
    const rule = await loadSilverRule(engine, things, dir);
    expect(rule.columns.map((c) => c.name)).toEqual(['id', 'season', 'source', 'ingested_at', 'run_id']);
    expect(rule.referenced).toEqual(new Set(['id', 'season', 'source', 'ingested_at', 'run_id']));
    expect(rule.sql).toContain('CAST(run_id AS VARCHAR) AS run_id\nFROM bronze_rows');
    expect(rule.sql).not.toContain('@include');

    const inlined = await sqlDir({ 'things.sql': RULE.replace('  -- @include _fragments/lineage.sql\n', LINEAGE) });
    expect((await loadSilverRule(engine, things, inlined)).sha256).toBe(rule.sha256);

    writeFileSync(path.join(dir, '_fragments/lineage.sql'), LINEAGE.replace('run_id AS VARCHAR', 'run_id AS TEXT'));
    expect((await loadSilverRule(engine, things, dir)).sha256).not.toBe(rule.sha256);
  });

  it.each([
    ['a missing fragment', { 'things.sql': RULE }, /things\.sql includes _fragments\/lineage\.sql: .* does not exist/],
    ['a path outside _fragments/', { 'things.sql': RULE.replace('_fragments/lineage.sql', '../lineage.sql') }, /@include "\.\.\/lineage\.sql" does not name a fragment/],
    ['a fragment that includes another', { 'things.sql': RULE, '_fragments/lineage.sql': `-- @include _fragments/other.sql\n${LINEAGE}` }, /the fragment _fragments\/lineage\.sql has an @include of its own/],
  ])('%s is CATALOG_INVALID', async (_what, files, message) => {
    const dir = await sqlDir(files);
    const error = await loadSilverRule(engine, things, dir).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CATALOG_INVALID', message: expect.stringMatching(message) });
  });

  it('every rule in sql/silver loads with its fragments expanded', async () => {
    for (const def of loadCatalog(path.join(REPO_ROOT, 'catalog/datasets.yml')).datasets.filter((d) => d.silver?.enabled !== false)) {
      const rule = await loadSilverRule(engine, def);
      expect(rule.sql, def.name).not.toMatch(/@include/);
      expect(rule.columns.slice(-5).map((c) => c.name), def.name).toEqual(['source', 'ingested_at', 'pipeline_version', 'upstream_version', 'run_id']);
    }
  });
});
