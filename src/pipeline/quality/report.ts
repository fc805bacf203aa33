import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CheckResult, PartitionValues } from './spec.js';

/**
 * The quality report of one dataset in one promote run: `<dir>/<dataset>/<run_id>.json`
 * (default dir `catalog/quality`). Written for every run, whether it committed, found nothing
 * to do, or was stopped by a gate; written whole (temp file + rename), never half.
 */
export type ReportStatus = 'committed' | 'unchanged' | 'failed' | 'error' | 'skipped';

export interface ReportPartition {
  partition: PartitionValues;
  mode: 'merge' | 'rebuild';
  rows_before: number | null;
  rows_in_batch: number;
  rows_after: number;
  sha256_fingerprint: string;
  min_ingested_at: string | null;
  max_ingested_at: string | null;
}

export interface QualityReport {
  run_id: string;
  dataset: string;
  table: string;
  status: ReportStatus;
  started_at: string;
  finished_at: string;
  bronze_table: string;
  bronze_version: number | null;
  bronze_from_version: number | null;
  silver_version_before: number | null;
  silver_version_after: number | null;
  partitions: ReportPartition[];
  checks: CheckResult[];
  summary: { checks: number; passed: number; failed: number; warnings: number };
  /** `skipped`: the run was `--no-validate`, so failing checks did not stop the commit. */
  quality_gates?: 'skipped';
  error?: { code: string; message: string };
}

export function summarizeChecks(checks: readonly CheckResult[]): QualityReport['summary'] {
  return {
    checks: checks.length,
    passed: checks.filter((c) => c.status === 'pass').length,
    failed: checks.filter((c) => c.status === 'fail').length,
    warnings: checks.filter((c) => c.status === 'warn').length,
  };
}

export function reportPath(dir: string, dataset: string, runId: string): string {
  return path.join(dir, dataset, `${runId}.json`);
}

export async function writeQualityReport(dir: string, report: QualityReport): Promise<string> {
  const file = reportPath(dir, report.dataset, report.run_id);
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${randomUUID()}.tmp`;
  await writeFile(temp, `${JSON.stringify(report, null, 2)}\n`);
  await rename(temp, file);
  return file;
}
