// Promote benchmark, measured step: `runPromote` of pbp (bronze.pbp → silver.pbp) in a lake.
//   node promote-run.js <lakeRoot> <reportDir>
import { performance } from 'node:perf_hooks';
import { loadCatalog, runPromote } from '../../../dist/pipeline/index.js';
import { openLake } from '../../../dist/table/index.js';
import { args, emit } from './emit.js';

const [lakeRoot, reportDir] = args(2, 'promote-run.js <lakeRoot> <reportDir>');
const catalog = loadCatalog();
const lake = await openLake({ root: lakeRoot });
const started = performance.now();
const result = await runPromote({ catalog, lake, datasets: ['pbp'], reportDir });
const ms = performance.now() - started;
lake.close();
const d = result.datasets[0];
emit({
  ms,
  status: d.status,
  mode: d.mode,
  version: d.version,
  bronzeVersion: d.bronzeVersion,
  partitions: d.partitions.length,
  rowsAfter: d.partitions.reduce((n, p) => n + p.rowsAfter, 0),
  rowsInBatch: d.partitions.reduce((n, p) => n + p.rowsInBatch, 0),
  checksFailed: d.checks.filter((c) => c.status === 'fail').map((c) => `${c.check}${c.column ? `(${c.column})` : ''}: ${c.message}`).slice(0, 5),
  error: d.error ? `${d.error.code}: ${d.error.message}` : undefined,
});
