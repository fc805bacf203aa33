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

/** The untimed first query of a warm run: the same table, another query. */
export function warmupQuery(tableRoot) {
  return `SELECT count(*)::BIGINT AS n FROM delta_scan(${quote(tableRoot)})`;
}
