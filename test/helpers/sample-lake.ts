import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Clock } from '../../src/core/index.js';
import { readCommit, listLog, type CommitInfoAction } from '../../src/delta/index.js';
import { loadCatalog, parseYears, resolveSettings, type Catalog, type ResolvedSettings, runIngest, type IngestRunResult, runPromote, type PromoteOptions, type PromoteRunResult } from '../../src/pipeline/index.js';
import { openLake, resolveTable, runQuery, tableSnapshot, type Lake } from '../../src/table/index.js';
import { SAMPLE_PLAN, type UpstreamServer } from './upstream-server.js';

/**
 * A lake in a temp folder fed from the local upstream server (test/helpers/upstream-server.ts)
 * with the real sample: ingest into bronze with the real runIngest, promote with runPromote.
 * Ingest time moves forward one second per clock read, so every bronze batch has its own
 * ingested_at; promotes run at the same clock.
 */
export const TODAY = new Date('2026-11-25T12:00:00Z');
export const catalog: Catalog = loadCatalog('catalog/datasets.yml');

export function steppingClock(start = TODAY.getTime()): Clock {
  let now = start;
  return {
    now: () => (now += 1000),
    sleep: async (ms) => {
      now += ms;
    },
  };
}

/** The seasons SAMPLE_PLAN asks for, per dataset. */
export function sampleYears(dataset: string): { from: number; to: number } {
  const group = SAMPLE_PLAN.find((g) => g.datasets.includes(dataset));
  if (!group) throw new Error(`${dataset} is not in the sample`);
  const span = parseYears(group.years);
  if (span?.kind !== 'range') throw new Error(group.years);
  return { from: span.from, to: span.to! };
}

export interface SampleLake {
  dir: string;
  lake: Lake;
  settings: ResolvedSettings;
  reportDir: string;
  clock: Clock;
  /** Ingests the datasets (their sample seasons) as one `update` run per season group. */
  ingest(datasets: string[]): Promise<IngestRunResult[]>;
  promote(options?: Partial<PromoteOptions>): Promise<PromoteRunResult>;
  version(table: string): Promise<number | undefined>;
  count(sql: string): Promise<number>;
  commitInfo(table: string, version?: number): Promise<CommitInfoAction & Record<string, unknown>>;
  /** Quality reports written for a dataset, parsed. */
  reports(dataset: string): Record<string, unknown>[];
  close(): void;
}

/**
 * A lake in a new temp folder; `copyOf` starts it as a copy of another sample lake (tables, raw
 * files, reports). `clockStart`: where its stepping clock starts (default TODAY; a copy that goes
 * on ingesting after the original needs a later start, or its batches repeat the original's times).
 */
export async function sampleLake(server: UpstreamServer, prefix: string, copyOf?: SampleLake, clockStart?: number): Promise<SampleLake> {
  const dir = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
  if (copyOf) cpSync(copyOf.dir, dir, { recursive: true });
  const lake = await openLake({ root: path.join(dir, 'tables') });
  const settings = resolveSettings(catalog, { LAKE_ROOT: path.join(dir, 'tables'), LAKE_RAW_DIR: path.join(dir, 'raw'), LAKE_LOGS_DIR: path.join(dir, 'logs'), ...server.env() });
  const clock = steppingClock(clockStart);
  const reportDir = path.join(dir, 'quality');
  const env: SampleLake = {
    dir,
    lake,
    settings,
    reportDir,
    clock,
    async ingest(datasets) {
      const groups = new Map<string, string[]>();
      for (const d of datasets) {
        const years = JSON.stringify(sampleYears(d));
        groups.set(years, [...(groups.get(years) ?? []), d]);
      }
      const results: IngestRunResult[] = [];
      for (const [years, names] of groups) {
        const result = await runIngest({ catalog, settings: { ...settings, http: { ...settings.http, timeoutMs: 5000 } }, command: 'update', datasets: names, seasons: JSON.parse(years) as { from: number; to: number }, today: TODAY, clock, lake });
        if (result.failures > 0) throw new Error(`ingest failed: ${JSON.stringify(result.datasets.filter((d) => d.error).map((d) => d.error))}`);
        results.push(result);
      }
      return results;
    },
    promote: (options = {}) => runPromote({ catalog, lake, clock, reportDir, maxWorkers: 2, ...options }),
    async version(table) {
      try {
        return (await tableSnapshot(lake, resolveTable(lake, table))).version;
      } catch {
        return undefined;
      }
    },
    async count(sql) {
      const result = await runQuery(lake, sql);
      return Number(result.rows[0]![0]);
    },
    async commitInfo(table, version) {
      const root = resolveTable(lake, table).tableRoot;
      const v = version ?? (await listLog(root)).maxCommit!;
      const info = (await readCommit(root, v)).find((a) => a.kind === 'commitInfo');
      if (info?.kind !== 'commitInfo') throw new Error(`no commitInfo in ${table} v${v}`);
      return info.commitInfo as CommitInfoAction & Record<string, unknown>;
    },
    reports(dataset) {
      const folder = path.join(reportDir, dataset);
      let names: string[];
      try {
        names = readdirSync(folder).sort();
      } catch {
        return [];
      }
      return names.map((n) => JSON.parse(readFileSync(path.join(folder, n), 'utf8')) as Record<string, unknown>);
    },
    close() {
      lake.close();
      if (!process.env['KEEP_TEST_DIRS']) rmSync(dir, { recursive: true, force: true });
    },
  };
  return env;
}

/** The sample route key of a dataset's upstream file for a season (pbp 2020 → nflverse/pbp/play_by_play_2020.parquet). */
export function routeKey(dataset: string, season?: number): string {
  const def = catalog.datasets.find((d) => d.name === dataset)!;
  const file = `${def.source.path.replace('{season}', String(season ?? ''))}.${def.source.format}`;
  return `${def.source.upstream}/${file}`;
}
