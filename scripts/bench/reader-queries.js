// The queries of the readers benchmark (issue 8): the same SQL runs through `runQuery` with
// reader native, extension and auto. Shared by the driver (labels) and the worker (SQL).

const quote = (text) => `'${text.replace(/'/g, "''")}'`;

/**
 * @param {string} tableRoot  the Delta table (the time-travel benchmark's table)
 * @param {{ version: number, season: number }} at  the old version for (a), the season for (b)
 */
export function readerQueries(tableRoot, { version, season }) {
  const scan = `delta_scan(${quote(tableRoot)})`;
  return {
    travel: {
      label: `(a) count + sum at version ${version}`,
      sql: `SELECT count(*)::BIGINT AS n, sum(epa) AS epa FROM ${scan} AT (VERSION => ${version})`,
    },
    pruned: {
      label: `(b) aggregate of season ${season} (partition-pruned)`,
      sql: `SELECT count(*)::BIGINT AS n, sum(epa) AS epa, avg(yards_gained) AS yards FROM ${scan} WHERE season = ${season}`,
    },
    groupBy: {
      label: '(c) GROUP BY season, full table',
      sql: `SELECT season, count(*)::BIGINT AS n, sum(epa) AS epa FROM ${scan} GROUP BY season ORDER BY season`,
    },
  };
}

/**
 * The queries of the data-skipping benchmark (issue 17, scripts/bench/skipping.js): predicates on
 * non-partition columns that file stats can answer. `where` is the data-column part (for counting
 * the files that hold matches), `season` the partition the query is confined to, if any.
 * Game ids of the pbp-shaped bench data are `<season>_<week>_G<nnn>`, weeks in file order.
 */
export function skippingQueries(tableRoot, { season }) {
  const scan = `delta_scan(${quote(tableRoot)})`;
  const game = `${season}_02_G020`;
  return {
    point: {
      label: `(d) point lookup game_id = '${game}'`,
      sql: `SELECT count(*)::BIGINT AS n, sum(epa) AS epa FROM ${scan} WHERE game_id = ${quote(game)}`,
      where: `game_id = ${quote(game)}`,
    },
    range: {
      label: `(e) week BETWEEN 2 AND 3 in season ${season}`,
      sql: `SELECT count(*)::BIGINT AS n, sum(epa) AS epa FROM ${scan} WHERE season = ${season} AND week BETWEEN 2 AND 3`,
      where: 'week BETWEEN 2 AND 3',
      season,
    },
  };
}

/** The untimed first query of a warm run: the same table, another query. */
export function warmupQuery(tableRoot) {
  return `SELECT count(*)::BIGINT AS n FROM delta_scan(${quote(tableRoot)})`;
}
