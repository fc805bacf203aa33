// Scale benchmark check (issue 13): the silver and gold tables of two lakes hold the same rows
// (multisets, compared with EXCEPT ALL both ways), leaving out the lineage stamps (source,
// ingested_at, pipeline_version, upstream_version, run_id): they name the batch and run that last
// changed a row, which differ between a replayed lake and a from-scratch one by design (an
// incremental promote leaves unchanged partitions as they are). Prints one JSON line: per table,
// rows in each lake and the rows only in one of them.
//   node scale-compare.js <lakeRootA> <lakeRootB>
import { scanSql } from '../../../dist/engine/index.js';
import { listLakeTables, openLake, resolveTable, tableSnapshot } from '../../../dist/table/index.js';
import { args, emit } from './emit.js';

const [rootA, rootB] = args(2, 'scale-compare.js <lakeRootA> <lakeRootB>');
const RUN_COLUMNS = new Set(['source', 'ingested_at', 'pipeline_version', 'upstream_version', 'run_id']);
const a = await openLake({ root: rootA });
const b = { ...a, root: rootB };
const id = (s) => `"${s.replace(/"/g, '""')}"`;
const tables = [];
const names = new Set([...(await listLakeTables(a)), ...(await listLakeTables(b))].filter((t) => t.layer !== 'bronze').map((t) => `${t.layer}.${t.dataset}`));
for (const name of [...names].sort()) {
  const sa = await tableSnapshot(a, resolveTable(a, name)).catch(() => undefined);
  const sb = await tableSnapshot(b, resolveTable(b, name)).catch(() => undefined);
  if (!sa || !sb) {
    tables.push({ table: name, missingIn: sa ? 'B' : 'A' });
    continue;
  }
  const cols = sa.schema.fields.map((f) => f.name).filter((c) => !RUN_COLUMNS.has(c) && sb.schema.fields.some((f) => f.name === c));
  const list = cols.map(id).join(', ');
  const qa = `SELECT ${list} FROM (${await scanSql(a.engine, sa)})`;
  const qb = `SELECT ${list} FROM (${await scanSql(a.engine, sb)})`;
  const [row] = await a.engine.rows(
    `SELECT (SELECT count(*) FROM (${qa})) AS rows_a, (SELECT count(*) FROM (${qb})) AS rows_b,
            (SELECT count(*) FROM (${qa} EXCEPT ALL ${qb})) AS only_a, (SELECT count(*) FROM (${qb} EXCEPT ALL ${qa})) AS only_b`,
  );
  tables.push({ table: name, rowsA: Number(row.rows_a), rowsB: Number(row.rows_b), onlyA: Number(row.only_a), onlyB: Number(row.only_b), columns: cols.length });
}
a.close();
emit({ tables, equal: tables.every((t) => !t.missingIn && t.onlyA === 0 && t.onlyB === 0) });
