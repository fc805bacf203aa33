import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../core/index.js';
import { findDataset, type Catalog, type CheckResult, type QualityReport } from '../pipeline/index.js';
import type { DatasetQuality, GateRun, GateStatus, GateTrend } from './model.js';

/**
 * The quality gates over time: every report `<quality dir>/<dataset>/<run_id>.json` a promote
 * wrote (src/pipeline/quality/report.ts), turned into one series per gate (check + column) of
 * its measured value per run against its threshold. Row rules measure offending rows (threshold
 * 0); row_count the largest shrink of a partition's newest batch in % (threshold
 * `max_shrink_pct`); freshness the age of the newest row in hours (threshold `max_age_hours`).
 */
const MAX_EXAMPLES = 10;

async function listJson(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return [];
    throw error;
  }
}

/** Every parsable report under `dir`, by dataset; a file that is not a report is skipped. */
export async function readQualityReports(dir: string): Promise<Map<string, QualityReport[]>> {
  const out = new Map<string, QualityReport[]>();
  let datasets: string[];
  try {
    datasets = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return out;
    throw error;
  }
  for (const dataset of datasets) {
    const reports: QualityReport[] = [];
    for (const name of await listJson(path.join(dir, dataset))) {
      try {
        const report = JSON.parse(await readFile(path.join(dir, dataset, name), 'utf8')) as QualityReport;
        if (typeof report.run_id === 'string' && Array.isArray(report.checks)) reports.push(report);
      } catch {
        // a half-written or foreign file: not a report
      }
    }
    reports.sort((a, b) => (a.started_at < b.started_at ? -1 : a.started_at > b.started_at ? 1 : 0));
    if (reports.length > 0) out.set(dataset, reports);
  }
  return out;
}

function gateName(c: CheckResult): string {
  return c.column ? `${c.check} ${c.column}` : c.check;
}

function worst(checks: readonly CheckResult[]): GateStatus {
  if (checks.some((c) => c.status === 'fail')) return 'fail';
  return checks.some((c) => c.status === 'warn') ? 'warn' : 'pass';
}

function shrinkPct(report: QualityReport, c: CheckResult): number {
  const p = report.partitions.find((x) => JSON.stringify(x.partition) === JSON.stringify(c.partition));
  const before = p?.rows_before ?? null;
  const batch = p?.rows_in_batch ?? c.failing;
  if (before === null || before === 0) return 0;
  return Math.round(((before - batch) / before) * 1000) / 10;
}

function measure(report: QualityReport, checks: CheckResult[], catalog: Catalog | undefined): Pick<GateRun, 'value' | 'threshold' | 'unit'> {
  const gates = catalog ? findDataset(catalog, report.dataset)?.quality : undefined;
  const check = checks[0]!.check;
  if (check === 'row_count') return { value: Math.max(0, ...checks.map((c) => shrinkPct(report, c))), threshold: gates?.rowCount?.maxShrinkPct ?? 10, unit: '% shrink' };
  if (check === 'freshness') return { value: Math.max(...checks.map((c) => c.failing)), threshold: gates?.freshness?.maxAgeHours ?? 0, unit: 'hours old' };
  return { value: checks.reduce((n, c) => n + c.failing, 0), threshold: 0, unit: check === 'unique' ? 'repeated keys' : 'rows' };
}

export function qualityTrends(byDataset: Map<string, QualityReport[]>, catalog: Catalog | undefined): DatasetQuality[] {
  const out: DatasetQuality[] = [];
  for (const [dataset, reports] of byDataset) {
    const gates = new Map<string, GateTrend>();
    for (const report of reports) {
      const byGate = new Map<string, CheckResult[]>();
      for (const c of report.checks) byGate.set(gateName(c), [...(byGate.get(gateName(c)) ?? []), c]);
      for (const [gate, checks] of byGate) {
        const trend = gates.get(gate) ?? { gate, check: checks[0]!.check, column: checks[0]!.column ?? null, runs: [] };
        const failing = checks.filter((c) => c.status !== 'pass');
        trend.runs.push({
          run_id: report.run_id,
          started_at: report.started_at,
          report_status: report.status,
          status: worst(checks),
          ...measure(report, checks, catalog),
          messages: failing.map((c) => c.message),
          examples: failing.flatMap((c) => c.examples).slice(0, MAX_EXAMPLES),
        });
        gates.set(gate, trend);
      }
    }
    const last = reports[reports.length - 1]!;
    out.push({ dataset, table: last.table, reports: reports.length, last_status: last.status, gates: [...gates.values()] });
  }
  return out;
}
