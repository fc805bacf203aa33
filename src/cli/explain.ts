import type { QueryResult, ResolvedView } from '../table/index.js';

/** The query `lake sql --explain` runs: the user's, under EXPLAIN unless it already is one. */
export function explainSql(sql: string): string {
  return /^\s*EXPLAIN\b/i.test(sql) ? sql : `EXPLAIN ${sql}`;
}

/** One line per table: the version, the reader, and how many files partition pruning and data skipping left out. */
export function fileSummary(view: ResolvedView): string {
  const head = `${view.table} @ version ${view.version} (${view.reader} reader)`;
  if (view.filesRead === undefined) return `${head}: files chosen by DuckDB's delta extension`;
  return `${head}: ${view.filesTotal ?? view.filesRead} files, ${view.filesPrunedByPartition ?? 0} pruned by partition, ${view.filesSkippedByStats ?? 0} skipped by stats, ${view.filesRead} read`;
}

/** `lake sql --explain` output: the file summary of every table, then DuckDB's plan. */
export function renderExplain(result: QueryResult, json: boolean): string {
  const plan = result.rows.map((row) => String(row[row.length - 1] ?? '')).join('\n');
  if (json) return `${JSON.stringify({ tables: result.views, plan })}\n`;
  return `${result.views.map(fileSummary).join('\n')}\n\n${plan.trimEnd()}\n`;
}
