import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { errnoCode } from '../core/index.js';
import { findDataset, loadMarts, type Catalog, type MartRule, type QualityReport } from '../pipeline/index.js';
import { listLakeTables, type Lake, type Layer } from '../table/index.js';
import { goldErd, pipelineDiagram } from './diagrams.js';
import type { Freshness, ReportData, RunSummary, TableSummary } from './model.js';
import { qualityTrends, readQualityReports } from './quality-trend.js';
import { runLineage, runReadDownstream, type LakeCommits } from './run-lineage.js';
import { readTableState, type CommitRecord, type TableState } from './table-state.js';

/**
 * Gathers everything `lake report` shows: every table of the lake (one pass over its log), the
 * quality reports, the run logs, the lineage of the newest runs, the pipeline diagram and the gold
 * ERD. Reads only; never prints.
 */
export interface CollectOptions {
  lake: Lake;
  /** The catalog: freshness rules, gate thresholds, the pipeline diagram. Without one those are left empty. */
  catalog?: Catalog;
  qualityDir: string;
  logsDir: string;
  /** Milliseconds since the epoch: "now" for freshness (an injected clock). */
  now: number;
  /** The gold mart rules (default: sql/gold). */
  marts?: MartRule[];
  /** Runs whose lineage graph is drawn, newest first (default 12). */
  lineageRuns?: number;
}

const HOUR = 3_600_000;

function freshness(catalog: Catalog | undefined, layer: Layer, dataset: string, state: TableState, now: number): Freshness {
  const rule = layer === 'gold' || !catalog ? undefined : findDataset(catalog, dataset)?.quality?.freshness;
  const newest = state.newestIngestedAt;
  const age = newest === undefined ? null : Math.round(((now - newest) / HOUR) * 10) / 10;
  const base = { newest_ingested_at: newest === undefined ? null : new Date(newest).toISOString(), age_hours: age };
  if (!rule) return { status: 'no-rule', max_age_hours: null, severity: null, ...base };
  if (age === null) return { status: 'unknown', max_age_hours: rule.maxAgeHours, severity: rule.severity, ...base };
  return { status: age > rule.maxAgeHours ? 'stale' : 'fresh', max_age_hours: rule.maxAgeHours, severity: rule.severity, ...base };
}

async function runLog(logsDir: string, runId: string): Promise<RunSummary['log']> {
  const file = path.join(logsDir, `${runId}.jsonl`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null;
    throw error;
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const errors: string[] = [];
  let command: string | null = null;
  for (const line of lines) {
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; command?: unknown; err?: { message?: string }; code?: unknown };
      if (command === null && typeof entry.command === 'string') command = entry.command;
      if ((entry.level ?? 0) >= 50) errors.push([entry.msg, typeof entry.code === 'string' ? `[${entry.code}]` : '', entry.err?.message].filter(Boolean).join(' '));
    } catch {
      // a torn last line of a crashed run
    }
  }
  return { file, lines: lines.length, errors: errors.slice(0, 20), command };
}

async function runsOf(commits: LakeCommits, reports: Map<string, QualityReport[]>, logsDir: string): Promise<RunSummary[]> {
  const runs = new Map<string, RunSummary>();
  const runOf = (runId: string, at: string): RunSummary => {
    const run = runs.get(runId) ?? { run_id: runId, started_at: at, ended_at: at, commits: [], rollback_of_run: null, quality: [], log: null, rollback: `lake rollback --run ${runId}` };
    if (at < run.started_at) run.started_at = at;
    if (at > run.ended_at) run.ended_at = at;
    runs.set(runId, run);
    return run;
  };
  for (const [table, byVersion] of commits.tables) {
    for (const c of byVersion.values()) {
      if (!c.summary.run_id) continue;
      const run = runOf(c.summary.run_id, c.summary.timestamp);
      run.commits.push({ table, version: c.version, kind: c.summary.kind });
      if (typeof c.info?.['rollback_of_run'] === 'string') run.rollback_of_run = c.info['rollback_of_run'];
    }
  }
  for (const [dataset, list] of reports) {
    for (const r of list) {
      const run = runOf(r.run_id, r.started_at);
      if (r.finished_at > run.ended_at) run.ended_at = r.finished_at;
      run.quality.push({ dataset, status: r.status });
    }
  }
  for (const run of runs.values()) {
    run.log = await runLog(logsDir, run.run_id);
    if (run.commits.length > 0 && runReadDownstream(commits, run.run_id)) run.rollback += ' --cascade';
    run.commits.sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : a.version - b.version));
  }
  return [...runs.values()].sort((a, b) => (a.ended_at < b.ended_at ? 1 : a.ended_at > b.ended_at ? -1 : a.run_id < b.run_id ? 1 : -1));
}

export async function collectReport(options: CollectOptions): Promise<ReportData> {
  const { lake, catalog, now } = options;
  const refs = await listLakeTables(lake);
  const limit = pLimit(8);
  const states = await Promise.all(refs.map((ref) => limit(async () => ({ ref, state: await readTableState(lake, ref) }))));
  const tables: TableSummary[] = [];
  const commits: LakeCommits = { tables: new Map() };
  for (const { ref, state } of states) {
    const layer = ref.layer!;
    const dataset = ref.dataset!;
    commits.tables.set(ref.name, new Map(state.commits.map((c): [number, CommitRecord] => [c.version, c])));
    const last = state.commits[state.commits.length - 1];
    if (!last) continue;
    tables.push({
      table: ref.name,
      layer,
      dataset,
      version: state.version,
      rows: state.rows,
      bytes: state.bytes,
      files: state.files,
      partition_columns: state.partitionColumns,
      last_commit: last.summary,
      freshness: freshness(catalog, layer, dataset, state, now),
      history: state.commits.map((c) => c.summary),
      partitions: state.partitions,
    });
  }
  const reports = await readQualityReports(options.qualityDir);
  const runs = await runsOf(commits, reports, options.logsDir);
  const lineage = runs
    .filter((r) => r.commits.length > 0)
    .slice(0, options.lineageRuns ?? 12)
    .map((r) => runLineage(commits, r.run_id));
  const marts = options.marts ?? loadMarts();
  const types = new Map(states.filter((s) => s.ref.layer === 'gold').map((s) => [s.ref.dataset!, s.state.columns]));
  return {
    generated_at: new Date(now).toISOString(),
    lake_root: lake.root,
    quality_dir: options.qualityDir,
    logs_dir: options.logsDir,
    tables,
    quality: qualityTrends(reports, catalog),
    runs,
    lineage,
    pipeline: catalog ? pipelineDiagram(catalog, marts) : { nodes: [], edges: [], mermaid: '' },
    erd: goldErd(marts, types),
  };
}
