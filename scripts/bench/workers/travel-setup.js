// Setup for the time-travel benchmark (not timed): gives the write-benchmark table a few more
// versions (replace the last seasons, append rows, replace the first season) and writes the
// data files of the queried old version, as absolute paths, to <files.json>.
//   node travel-setup.js <tableRoot> <staging.parquet> <files.json> <firstSeason> <lastSeason>
import { writeFileSync } from 'node:fs';
import { openLake, tableSnapshot, writeTable } from '../../../dist/table/index.js';
import { dataFilePath } from '../../../dist/engine/index.js';
import { args, emit } from './emit.js';

const [tableRoot, staging, filesJson, first, last] = args(5, 'travel-setup.js <tableRoot> <staging.parquet> <files.json> <firstSeason> <lastSeason>');
const src = `read_parquet('${staging.replace(/'/g, "''")}')`;
const table = { name: tableRoot, tableRoot };
const lake = await openLake({ root: tableRoot });
const steps = [
  { mode: 'replace', source: `SELECT * REPLACE (epa + 1 AS epa) FROM ${src} WHERE season >= ${Math.max(Number(first), Number(last) - 1)}` },
  { mode: 'append', source: `SELECT * FROM ${src} WHERE season = ${first} LIMIT 1000` },
  { mode: 'replace', source: `SELECT * REPLACE (epa - 1 AS epa) FROM ${src} WHERE season = ${first}` },
];
const versions = [];
for (const step of steps) {
  const result = await writeTable(lake, { table, ...step });
  versions.push(result.version);
}
const queried = versions[0];
const snapshot = await tableSnapshot(lake, table, { version: queried });
const files = snapshot.files.map((f) => dataFilePath(tableRoot, f.path)).sort();
writeFileSync(filesJson, JSON.stringify(files));
const latest = await tableSnapshot(lake, table);
lake.close();
emit({ queriedVersion: queried, latestVersion: latest.version, files: files.length, latestFiles: latest.files.length });
