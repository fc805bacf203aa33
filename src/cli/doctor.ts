import { renderRows } from './render.js';
import type { DoctorReport } from '../pipeline/index.js';

export function renderDoctor(report: DoctorReport): string {
  const ext = report.extension;
  const lines = [
    `nfl-lakehouse ${report.pipelineVersion}, DuckDB ${report.duckdbVersion}`,
    `reader: ${report.readerInUse} (LAKE_READER=${report.readerMode})`,
    `delta extension: ${ext.loaded ? `loaded${ext.version ? ` (${ext.version})` : ''}${ext.path ? ` from ${ext.path}` : ''}` : `not loaded: ${ext.error ?? 'unknown'}`}`,
    `lake root: ${report.lakeRoot}`,
    '',
  ];
  if (report.tables.length === 0) lines.push('no tables yet');
  else lines.push(renderRows(['table', 'ok', 'version', 'files', 'error'], report.tables.map((t) => [t.table, t.ok ? 'yes' : 'NO', t.version ?? '', t.files ?? '', t.error ?? '']), 'table'));
  return `${lines.join('\n')}\n`;
}
