import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../../../src/engine/index.js';
import { columnsRead } from '../../../src/pipeline/gold/source-columns.js';

let engine: Engine;
beforeAll(async () => {
  engine = await openEngine();
});
afterAll(() => engine.close());

const read = async (sql: string): Promise<string[] | 'all'> => {
  const r = await columnsRead(engine, sql, 'silver', 'players');
  return r === 'all' ? r : [...r].sort();
};

describe('columnsRead: the columns a mart may read from one source', () => {
  it('names the columns it may read, through CTEs and subqueries', async () => {
    expect(await read('SELECT p.gsis_id, p.pfr_id FROM silver.players AS p')).toEqual(['gsis_id', 'pfr_id']);
    expect(await read('WITH ids AS (SELECT gsis_id FROM silver.players) SELECT i.* FROM ids AS i JOIN silver.rosters AS r ON r.gsis_id = i.gsis_id')).toEqual(['gsis_id']);
    expect(await read('SELECT * FROM (SELECT gsis_id AS g FROM silver.players) AS s')).toEqual(['gsis_id']);
    // A star over another source or a CTE does not reach this one.
    expect(await read('WITH c AS (SELECT team FROM silver.players) SELECT d.*, c.* FROM silver.depth_charts AS d, c')).toEqual(['team']);
  });

  it('counts a name only where it can be the source\'s: qualified by its alias, unqualified in a SELECT that reads it, in USING of a join with it', async () => {
    // `week` and `status` belong to other relations; pl.x is the source's wherever pl names it.
    expect(await read('WITH w AS (SELECT season, week, status FROM silver.injuries) SELECT pl.gsis_id, w.week FROM silver.players AS pl JOIN w ON w.status = pl.status')).toEqual(['gsis_id', 'status']);
    expect(await read('SELECT gsis_id, (SELECT max(week) FROM silver.rosters AS r WHERE r.gsis_id = gsis_id) AS w FROM silver.players')).toEqual(['gsis_id', 'week']);
    expect(await read('SELECT r.season FROM silver.players JOIN silver.rosters AS r USING (gsis_id)')).toEqual(['gsis_id']);
    expect(await read('WITH a AS (SELECT 1 AS k), b AS (SELECT 1 AS k) SELECT p.pfr_id FROM a JOIN b USING (k), silver.players AS p')).toEqual(['pfr_id']);
    expect(await read('SELECT gsis_id FROM silver.players NATURAL JOIN silver.rosters')).toBe('all');
  });

  it('gives up (every column) where a star or a whole-row reference may expand the source', async () => {
    expect(await read('SELECT * FROM silver.players')).toBe('all');
    expect(await read('SELECT p.* FROM silver.players AS p')).toBe('all');
    expect(await read('SELECT * EXCLUDE (status) FROM silver.players JOIN silver.rosters USING (gsis_id)')).toBe('all');
    expect(await read('WITH c AS (SELECT * FROM silver.players) SELECT gsis_id FROM c')).toBe('all');
    expect(await read('SELECT to_json(p) FROM silver.players AS p')).toBe('all');
    // A relation the SQL does not define (a view?) or a star with nothing to expand.
    expect(await read('SELECT * FROM somewhere')).toBe('all');
    expect(await read('SELECT x.* FROM silver.players AS p, somewhere AS x')).toBe('all');
    expect(await read('SELECT nope FROM')).toBe('all');
  });
});
