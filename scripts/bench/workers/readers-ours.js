// Readers benchmark: one query through `runQuery(lake, sql, { reader })` in a fresh process.
//   cold: the timed query is the process's first (it pays for any `LOAD delta` its reader
//         triggers, as one `lake sql` call does);
//   warm: an untimed first query (warmupQuery) through the same reader, then the timed query
//         <repeat> times (for the extension reader the extension is loaded by then); the result
//         is the median of those, which evens out a loaded machine's noise at little cost;
//   warm-loaded: the first query through the extension reader, then the timed one with
//         reader auto (auto finds the extension loaded and uses it).
// Imports and openLake are not timed. Prints the result rows (BIGINTs as strings) so the
// driver can check that every reader returned the same rows (repeats must agree too).
// BENCH_DATA_SKIPPING=off reads without data skipping by file stats (the skipping bench's baseline).
//   node readers-ours.js <tableRoot> <queryId> <native|extension|auto> <cold|warm|warm-loaded> <version> <season> [repeat]
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { openLake, runQuery } from '../../../dist/table/index.js';
import { readerQueries, skippingQueries, warmupQuery } from '../reader-queries.js';
import { args, cpuMsSince, emit } from './emit.js';

const [tableRoot, queryId, reader, mode, version, season, repeatArg = '1'] = args(6, 'readers-ours.js <tableRoot> <queryId> <native|extension|auto> <cold|warm|warm-loaded> <version> <season> [repeat]');
const at = { version: Number(version), season: Number(season) };
const query = readerQueries(tableRoot, at)[queryId] ?? skippingQueries(tableRoot, at)[queryId];
const dataSkipping = process.env.BENCH_DATA_SKIPPING !== 'off';
if (!query) throw new Error(`unknown query '${queryId}'`);
if (!['cold', 'warm', 'warm-loaded'].includes(mode)) throw new Error(`unknown mode '${mode}'`);
const lake = await openLake({ root: tableRoot });
let warmup;
if (mode !== 'cold') {
  const first = await runQuery(lake, warmupQuery(tableRoot), { reader: mode === 'warm-loaded' ? 'extension' : reader });
  warmup = first.views.map((v) => v.reader);
}
const repeat = mode === 'cold' ? 1 : Math.max(1, Number(repeatArg));
const timings = [];
let result;
let rows;
for (let i = 0; i < repeat; i++) {
  const started = performance.now();
  const cpu = process.cpuUsage();
  result = await runQuery(lake, query.sql, { reader, dataSkipping });
  timings.push({ ms: performance.now() - started, cpuMs: cpuMsSince(cpu) });
  const these = JSON.stringify(result.rows.map((row) => row.map((v) => (typeof v === 'bigint' ? v.toString() : v))));
  if (rows !== undefined && these !== rows) throw new Error(`${queryId} through ${reader}: repeat ${i + 1} returned other rows than the first`);
  rows = these;
}
lake.close();
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
emit({
  ms: median(timings.map((t) => t.ms)),
  cpuMs: median(timings.map((t) => t.cpuMs)),
  repeats: timings.map((t) => Math.round(t.ms * 10) / 10),
  rows: JSON.parse(rows),
  columns: result.columns,
  servedBy: result.views.map((v) => v.reader),
  filesRead: result.views.map((v) => v.filesRead ?? null),
  filesSkippedByStats: result.views.map((v) => v.filesSkippedByStats ?? null),
  warmup,
});
