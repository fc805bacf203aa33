// Setup for the data-skipping benchmark (not timed): writes the pbp-shaped staging rows as a
// Delta table partitioned by season, sorted by game_id and cut into files of at most
// <maxRowsPerFile> rows (the layout weekly in-season appends give a pbp table), then counts, for
// each skipping query, the data files that hold at least one matching row. With `-` as the
// staging file, the table already exists and is only counted.
//   node skipping-setup.js <tableRoot> <staging.parquet|-> <maxRowsPerFile> <season>
import path from 'node:path';
import { openLake, tableSnapshot, writeTable } from '../../../dist/table/index.js';
import { dataFilePath } from '../../../dist/engine/index.js';
import { skippingQueries } from '../reader-queries.js';
import { args, emit } from './emit.js';

const [tableRoot, staging, maxRowsPerFile, season] = args(4, 'skipping-setup.js <tableRoot> <staging.parquet> <maxRowsPerFile> <season>');
const lit = (text) => `'${text.replace(/'/g, "''")}'`;
const table = { name: tableRoot, tableRoot };
const lake = await openLake({ root: path.dirname(tableRoot) });
if (staging !== '-') await writeTable(lake, {
  table,
  source: `SELECT * FROM read_parquet(${lit(staging)})`,
  mode: 'overwrite',
  partitionBy: ['season'],
  sortBy: ['game_id'],
  maxRowsPerFile: Number(maxRowsPerFile),
});
const snapshot = await tableSnapshot(lake, table);
const matching = {};
for (const [id, query] of Object.entries(skippingQueries(tableRoot, { season: Number(season) }))) {
  const files = snapshot.files.filter((f) => query.season === undefined || f.partitionValues['season'] === String(query.season)).map((f) => dataFilePath(tableRoot, f.path));
  const rows = await lake.engine.rows(`SELECT count(DISTINCT filename)::INTEGER AS n FROM read_parquet([${files.map(lit).join(', ')}], filename = true, union_by_name = true) WHERE ${query.where}`);
  matching[id] = Number(rows[0].n);
}
lake.close();
emit({ version: snapshot.version, files: snapshot.files.length, matching });
