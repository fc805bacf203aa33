/**
 * report: `lake report`, the lake as pictures (history, partitions, quality, lineage, pipeline
 * and ERD) on one static page, from the Delta logs, quality reports and run logs alone.
 */
export { collectReport } from './collect.js';
export type { CollectOptions } from './collect.js';
export { writeReport, REPORT_FILE, REPORT_JSON } from './write.js';
export type { WriteReportOptions, WriteReportResult } from './write.js';
export { renderReportHtml } from './html.js';
export { goldErd, pipelineDiagram, renderDiagramsMarkdown } from './diagrams.js';
export { commitKind } from './table-state.js';
export type * from './model.js';
