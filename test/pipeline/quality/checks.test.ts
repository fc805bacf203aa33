import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLakeError } from '../../../src/core/index.js';
import { partitionKey } from '../../../src/delta/index.js';
import { openEngine, type Engine } from '../../../src/engine/index.js';
import { parseCatalog, columnRefs, inputSql, NO_GATES, checkPartitions, checkTable, fingerprintPartitions, partitionKeySql, rowRuleViolations, validateSpec, writeQualityReport, type CheckContext, type QualitySpec, type QualityReport } from '../../../src/pipeline/index.js';
import { thingsCatalog } from '../../helpers/things-catalog.js';

let engine: Engine;
const dirs: string[] = [];
const NOW = Date.parse('2026-11-25T12:00:00Z');
const TEAMS = ['ARI', 'KC', 'LA', 'LV'];

beforeAll(async () => {
  engine = await openEngine({ threads: 1 });
});
afterAll(() => {
  engine.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Rows (season, id, down, team, source, ingested_at) as a relation. */
function rows(values: [number, string | null, number | null, string | null, string, number][]): string {
  const tuples = values.map(([season, id, down, team, src, h]) => `(${season}, ${id === null ? 'NULL' : `'${id}'`}, ${down ?? 'NULL'}, ${team === null ? 'NULL' : `'${team}'`}, '${src}', TIMESTAMPTZ '2026-11-25 00:00:00+00' + INTERVAL ${h} HOUR)`);
  return `(SELECT * FROM (VALUES ${tuples.join(', ')}) AS v(season, id, down, team, "source", ingested_at))`;
}

function ctx(spec: Partial<QualitySpec>, key = ['id']): CheckContext {
  return { engine, spec: { ...NO_GATES, ...spec }, dataset: 'things', key, partitionColumns: ['season'], canonicalTeams: TEAMS, now: NOW };
}

describe('checkPartitions', () => {
  it('counts row rules per partition and gives up to five example rows of a failure', async () => {
    const candidate = rows([
      [2020, 'a', 1, 'KC', 's', 0],
      [2020, 'b', 5, 'JAC', 's', 0],
      [2020, null, 2, null, 's', 0],
      [2021, 'c', 4, 'LV', 's', 0],
      ...Array.from({ length: 7 }, (_, i): [number, string, number, string, string, number] => [2027, `x${i}`, 0, 'LA', 's', 0]),
    ]);
    const spec: Partial<QualitySpec> = { unique: false, notNull: ['id'], ranges: { down: { min: 1, max: 4 }, season: { min: 1999, max: 'current_year' } }, teamCodes: ['team'], acceptedValues: { team: ['KC', 'LV', 'LA', 'JAC'] } };
    const partitions = [2020, 2021, 2027].map((s) => ({ partition: { season: String(s) }, rowsBefore: undefined, rowsInBatch: 1 }));
    const results = await checkPartitions(ctx(spec), { partitions, candidate, incoming: candidate });
    const failed = results.filter((r) => r.status === 'fail').map((r) => [r.check, r.column, r.partition, r.failing]);
    expect(failed).toEqual([
      ['not_null', 'id', { season: '2020' }, 1],
      ['range', 'down', { season: '2020' }, 1],
      ['team_codes', 'team', { season: '2020' }, 1],
      ['range', 'down', { season: '2027' }, 7],
      ['range', 'season', { season: '2027' }, 7],
    ]);
    expect(results.filter((r) => r.partition?.['season'] === '2021').every((r) => r.status === 'pass')).toBe(true);
    const team = results.find((r) => r.check === 'team_codes' && r.status === 'fail')!;
    expect(team.examples).toEqual([{ id: 'b', season: 2020, team: 'JAC' }]);
    expect(team.message).toBe('things season=2020: 1 row where team must be a canonical team code (sql/silver/_team_codes.sql)');
    const season = results.find((r) => r.check === 'range' && r.column === 'season' && r.status === 'fail')!;
    expect(season.examples).toHaveLength(5);
    expect(season.message).toMatch(/season must be between 1999 and 2026/);
  });

  it('row rules counted in the fingerprint scan (flags) give the same checks, and checkPartitions then reads only them', async () => {
    const candidate = rows([
      [2020, 'a', 1, 'KC', 's', 0],
      [2020, 'b', 5, 'JAC', 's', 0],
      [2020, null, 2, null, 's', 0],
      [2021, 'c', 4, 'LV', 's', 0],
      [2021, 'd', null, 'LA', 's', 0],
    ]);
    const spec: Partial<QualitySpec> = { unique: false, notNull: ['id', 'down'], ranges: { down: { min: 1, max: 4 } }, teamCodes: ['team'] };
    const partitions = [2020, 2021, 2022].map((s) => ({ partition: { season: String(s) }, rowsBefore: undefined, rowsInBatch: 1 }));
    const fingerprints = await fingerprintPartitions(engine, candidate, ['season'], ['id'], { flags: rowRuleViolations(ctx(spec)) });
    expect([...fingerprints].map(([pk, fp]) => [pk, fp.rowCount, fp.flagCounts]).sort()).toEqual([
      ['["2020"]', 3, [1, 0, 1, 1]],
      ['["2021"]', 2, [0, 1, 0, 0]],
    ]);
    const ruleCounts = new Map([...fingerprints].map(([pk, fp]) => [pk, fp.flagCounts!]));
    const scanned = await checkPartitions(ctx(spec), { partitions, candidate, incoming: candidate });
    const folded = await checkPartitions(ctx(spec), { partitions, candidate, incoming: candidate, ruleCounts });
    expect(folded).toEqual(scanned);
    expect(scanned.filter((r) => r.status === 'fail').map((r) => [r.check, r.column, r.partition, r.failing])).toEqual([
      ['not_null', 'id', { season: '2020' }, 1],
      ['range', 'down', { season: '2020' }, 1],
      ['team_codes', 'team', { season: '2020' }, 1],
      ['not_null', 'down', { season: '2021' }, 1],
    ]);
    // Given counts are what the gates report (no scan of their own): a count the relation does not hold fails.
    const given = await checkPartitions(ctx(spec), { partitions, candidate, incoming: candidate, ruleCounts: new Map([['["2021"]', [0, 0, 0, 2]]]) });
    expect(given.filter((r) => r.status === 'fail').map((r) => [r.check, r.column, r.partition, r.failing])).toEqual([['team_codes', 'team', { season: '2021' }, 2]]);
  });

  it('unique: a key twice inside one bronze batch, or twice in the result', async () => {
    const incoming = rows([
      [2020, 'a', 1, 'KC', 's1', 1],
      [2020, 'a', 2, 'KC', 's1', 1],
      [2020, 'b', 1, 'KC', 's1', 1],
      [2020, 'b', 1, 'KC', 's1', 2],
    ]);
    const candidate = rows([
      [2020, 'a', 1, 'KC', 's1', 1],
      [2020, 'b', 1, 'KC', 's1', 2],
      [2021, 'c', 1, 'KC', 's1', 2],
      [2021, 'c', 1, 'KC', 's1', 3],
    ]);
    const partitions = ['2020', '2021'].map((s) => ({ partition: { season: s }, rowsBefore: undefined, rowsInBatch: 2 }));
    const results = await checkPartitions(ctx({ unique: true }), { partitions, candidate, incoming });
    expect(results.map((r) => [r.check, r.partition, r.status, r.failing])).toEqual([
      ['unique', { season: '2020' }, 'fail', 1],
      ['unique', { season: '2021' }, 'fail', 1],
    ]);
    expect(results[0]!.message).toBe('things season=2020: key (id) is not unique: 1 key repeated inside one bronze batch, 0 in the promoted partition');
    expect(results[0]!.examples).toEqual([{ id: 'a', source: 's1', ingested_at: '2026-11-25T01:00:00.000Z', copies: 2 }]);
    // No key: nothing to check.
    expect(await checkPartitions(ctx({ unique: true }, []), { partitions, candidate, incoming })).toEqual([]);
  });

  it('row_count: the newest batch against the partition before, with a shrink and a growth limit', async () => {
    const candidate = rows([[2020, 'a', 1, 'KC', 's', 0]]);
    const spec = { rowCount: { maxShrinkPct: 10, maxGrowthPct: 50 } };
    const check = async (rowsBefore: number | undefined, rowsInBatch: number) =>
      (await checkPartitions(ctx(spec), { partitions: [{ partition: { season: '2020' }, rowsBefore, rowsInBatch }], candidate, incoming: candidate })).find((r) => r.check === 'row_count')!;
    expect((await check(undefined, 5)).status).toBe('pass');
    expect((await check(100, 91)).status).toBe('pass');
    const shrunk = await check(100, 50);
    expect([shrunk.status, shrunk.message]).toEqual(['fail', "things season=2020: the newest bronze batch has 50 rows against 100 in the partition's previous version (-50.0%); the gate fails when a partition shrinks by more than 10%"]);
    expect((await check(100, 151)).status).toBe('fail');
  });
});

describe('checkTable: freshness', () => {
  it('warns or fails when the newest ingested_at is too old', () => {
    const hour = 3_600_000;
    expect(checkTable(ctx({ freshness: { maxAgeHours: 24, severity: 'warn' } }), NOW - 2 * hour)[0]!.status).toBe('pass');
    expect(checkTable(ctx({ freshness: { maxAgeHours: 24, severity: 'warn' } }), NOW - 30 * hour)[0]).toMatchObject({ status: 'warn', severity: 'warn', failing: 30 });
    expect(checkTable(ctx({ freshness: { maxAgeHours: 24, severity: 'error' } }), NOW - 30 * hour)[0]!.status).toBe('fail');
    expect(checkTable(ctx({}), NOW)).toEqual([]);
  });
});

describe('fingerprints and partition keys', () => {
  it('the sha256 over the sorted JSON keys, whatever the row order', async () => {
    const a = rows([
      [2020, 'b', 1, 'KC', 's', 0],
      [2020, 'a', 1, 'KC', 's', 3],
      [2021, 'c', 1, 'KC', 's', 1],
    ]);
    const b = rows([
      [2021, 'c', 1, 'KC', 's', 1],
      [2020, 'a', 1, 'KC', 's', 3],
      [2020, 'b', 1, 'KC', 's', 0],
    ]);
    const fa = await fingerprintPartitions(engine, a, ['season'], ['id', 'down']);
    const fb = await fingerprintPartitions(engine, b, ['season'], ['id', 'down']);
    expect(fa).toEqual(fb);
    const expected = createHash('sha256').update(['["a","1"]', '["b","1"]'].join('\n')).digest('hex');
    expect(fa.get('["2020"]')).toEqual({ rowCount: 2, sha256: expected, minIngestedAt: '2026-11-25T00:00:00.000Z', maxIngestedAt: '2026-11-25T03:00:00.000Z' });
  });

  it('sorts the keys by their UTF-8 bytes (upper case before lower, ASCII before accents), NULL values as null', async () => {
    const values = ['b', 'B', 'a', 'é', 'z', 'a"', 'a b', null, '', '日本', 'Ω'];
    const relation = `(SELECT * FROM (VALUES ${values.map((v, i) => `(2020, ${v === null ? 'NULL' : `'${v}'`}, ${i}, TIMESTAMPTZ '2026-11-25 00:00:00+00')`).join(', ')}) AS v(season, id, down, ingested_at))`;
    const fp = await fingerprintPartitions(engine, relation, ['season'], ['id', 'down']);
    const keys = values.map((v, i) => JSON.stringify([v, String(i)])).sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(fp.get('["2020"]')!.sha256).toBe(createHash('sha256').update(keys.join('\n')).digest('hex'));
  });

  it('partitionKeySql equals the log key of partitionKey (NULL and empty string alike, unicode)', async () => {
    const [row] = await engine.rows<{ k: string; e: string }>(`SELECT ${partitionKeySql(['a', 'b'])} AS k, ${partitionKeySql([])} AS e FROM (VALUES (2020, 'São "P"')) AS v(a, b)`);
    expect(row!.k).toBe(partitionKey(['a', 'b'], { a: '2020', b: 'São "P"' }));
    expect(row!.e).toBe(partitionKey([], {}));
    const [empty] = await engine.rows<{ k: string }>(`SELECT ${partitionKeySql(['a'])} AS k FROM (VALUES ('')) AS v(a)`);
    expect(empty!.k).toBe(partitionKey(['a'], { a: null }));
  });
});

describe('silver input', () => {
  it('a column the rule reads that bronze lacks reads as NULL', async () => {
    const refs = await columnRefs(engine, 'SELECT CAST(b.x AS INTEGER) AS x, coalesce(y, 0) AS y, team_code(z) AS z FROM bronze_rows AS b');
    expect([...refs].sort()).toEqual(['x', 'y', 'z']);
    const sql = inputSql('SELECT 1 AS x', new Set(['x']), { referenced: refs });
    expect(await engine.rows(`SELECT * FROM (${sql})`)).toEqual([{ x: 1, y: null, z: null }]);
  });
});

describe('catalog quality: and silver:', () => {

  it('parses the gates and silver settings (defaults filled in)', () => {
    const catalog = parseCatalog(thingsCatalog('    silver: { key: [id, season] }\n    quality:\n      not_null: [id]\n      ranges: { season: { min: 1999, max: current_year } }\n      row_count: {}\n'), 'c.yml');
    const def = catalog.datasets[0]!;
    expect(def.silver).toEqual({ key: ['id', 'season'], dedupe: undefined, exactDuplicates: 'keep', drop: [], enabled: true });
    expect(def.quality).toEqual({ unique: true, notNull: ['id'], acceptedValues: {}, ranges: { season: { min: 1999, max: 'current_year' } }, teamCodes: [], rowCount: { maxShrinkPct: 10, maxGrowthPct: undefined }, freshness: undefined });
  });

  it('refuses an unknown gate or a bad bound with CATALOG_INVALID naming the path and line', () => {
    for (const [extra, where] of [
      ['    quality: { nott_null: [id] }\n', /datasets\.things\.quality/],
      ['    quality: { ranges: { season: { min: soon } } }\n', /datasets\.things\.quality\.ranges\.season\.min/],
      ['    silver: { dedupe: newest }\n', /datasets\.things\.silver\.dedupe/],
    ] as const) {
      let error: unknown;
      try {
        parseCatalog(thingsCatalog(extra), 'c.yml');
      } catch (e) {
        error = e;
      }
      expect(isLakeError(error, 'CATALOG_INVALID'), String(error)).toBe(true);
      expect((error as Error).message).toMatch(where);
    }
  });

  it('validateSpec: a gate on a column silver does not have is CATALOG_INVALID naming it', () => {
    expect(() => validateSpec({ ...NO_GATES, teamCodes: ['tm'] }, ['id'], new Set(['id', 'team']), 'things', 'c.yml')).toThrow(/datasets\.things\.quality\.team_codes names column tm, which silver\.things does not have/);
    expect(() => validateSpec(NO_GATES, ['id'], new Set(['id']), 'things', 'c.yml')).not.toThrow();
  });
});

describe('reports', () => {
  it('land in <dir>/<dataset>/<run_id>.json, whole', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'quality-report-'));
    dirs.push(dir);
    const report: QualityReport = {
      run_id: 'r1',
      dataset: 'things',
      table: 'silver.things',
      status: 'committed',
      started_at: 'a',
      finished_at: 'b',
      bronze_table: 'bronze.things',
      bronze_version: 3,
      bronze_from_version: 1,
      silver_version_before: 0,
      silver_version_after: 1,
      partitions: [],
      checks: [],
      summary: { checks: 0, passed: 0, failed: 0, warnings: 0 },
    };
    const file = await writeQualityReport(dir, report);
    expect(file).toBe(path.join(dir, 'things', 'r1.json'));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(report);
    expect(readdirSync(path.join(dir, 'things'))).toEqual(['r1.json']);
  });
});
