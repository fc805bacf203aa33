import { LakeError, faultPoint, systemClock } from '../../core/index.js';
import { listLog, readCommitInfo, type Snapshot } from '../../delta/index.js';
import { resolveTable, tableSnapshot, type Lake, type TableRef, applyRestore, planRestore, type RestoreResult, listLakeTables } from '../../table/index.js';
import { resolveLocation } from '../../storage/index.js';
import { newRunId } from '../run/index.js';

/**
 * Run rollback: every table under the lake root (all layers) that a run committed to
 * (`commitInfo.run_id`) is restored to its version just before the run's first commit there.
 * A table the run created is emptied (a `DELETE` of every file; the table keeps its schema).
 *
 * The rollback is one command, not one transaction (Delta has no multi-table commits): every
 * table is planned and checked (later commits, vacuumed files) before the first commit, and a
 * rerun finishes what a failed one left, because a table whose log already holds a rollback of
 * the run (`rollback_of_run`) is skipped. The rollback's own commits carry their own `run_id`,
 * so a rollback can itself be rolled back.
 *
 * Downstream: a commit of another run whose `source_versions` names a version the run wrote
 * (promote reading bronze, a mart reading silver) consumed the run's data. Such runs are rolled
 * back first with `cascade` (recursively), left alone with `force`, and otherwise stop the
 * rollback, since restoring only the upstream table would leave the bad rows downstream.
 */
export interface RollbackOptions {
  runId: string;
  dryRun?: boolean;
  /** Roll back even when later commits (other runs) sit on top of the run's (undoing them too), and ignore downstream readers. */
  force?: boolean;
  /** First roll back the runs that read data this run wrote (downstream), newest first. */
  cascade?: boolean;
  /** Tables to consider; every table under the lake root by default. */
  tables?: TableRef[];
  /** The rollback's own run id (recorded as `run_id` on its commits). */
  rollbackRunId?: string;
  now?: () => number;
}

export interface LaterCommit {
  version: number;
  runId: string | undefined;
  operation: string | undefined;
}

/** A commit of another run that read a version this run wrote. */
export interface DownstreamCommit {
  table: string;
  version: number;
  runId: string | undefined;
  /** `layer.dataset@version` it read. */
  read: string;
}

export interface TableRollbackOutcome {
  table: string;
  /** The versions the run committed. */
  runVersions: number[];
  /** The latest version before the rollback. */
  currentVersion: number;
  /** The version restored to; -1 when the run created the table (it is emptied). */
  restoreTo: number;
  /**
   * `restore`: will be (or was) restored; `already-rolled-back`: a rollback of the run is in the
   * log, or the table is back at its pre-run state; `blocked`: later commits sit on top of the
   * run's (see laterCommits; --force).
   */
  action: 'restore' | 'already-rolled-back' | 'blocked';
  /** Commits after the run's first one that the run did not make. */
  laterCommits: LaterCommit[];
  result?: RestoreResult;
}

export interface RollbackRunResult {
  runId: string;
  rollbackRunId: string;
  dryRun: boolean;
  /** `committed`: at least one table changed; `noop`: nothing to do; `dry-run`: the plan only. */
  status: 'committed' | 'noop' | 'dry-run';
  tables: TableRollbackOutcome[];
  /** Commits of other runs that read what this run wrote and are not rolled back. */
  downstream: DownstreamCommit[];
  /** Rollbacks of downstream runs done first (cascade). */
  cascaded: RollbackRunResult[];
}

/** One table's log, read once: commitInfo per version. */
interface TableLog {
  ref: TableRef;
  versions: number[];
  infos: (Record<string, unknown> | undefined)[];
}

async function readTableLog(ref: TableRef): Promise<TableLog> {
  const listing = await listLog(ref.tableRoot);
  const versions = [...listing.commits.keys()].sort((a, b) => a - b);
  const infos = await Promise.all(versions.map((v) => readCommitInfo(ref.tableRoot, v)));
  return { ref, versions, infos };
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function planTable(log: TableLog, runId: string): TableRollbackOutcome | undefined {
  const { versions, infos } = log;
  const runVersions = versions.filter((_, i) => infos[i]?.['run_id'] === runId);
  if (runVersions.length === 0) return undefined;
  const first = runVersions[0]!;
  const last = runVersions[runVersions.length - 1]!;
  const later: LaterCommit[] = [];
  let rolledBack = false;
  versions.forEach((v, i) => {
    const info = infos[i];
    if (v <= first || info?.['run_id'] === runId) return;
    if (v > last && info?.['rollback_of_run'] === runId) rolledBack = true;
    later.push({ version: v, runId: text(info?.['run_id']), operation: text(info?.['operation']) });
  });
  return {
    table: log.ref.name,
    runVersions,
    currentVersion: versions[versions.length - 1]!,
    restoreTo: first - 1,
    action: rolledBack ? 'already-rolled-back' : later.length > 0 ? 'blocked' : 'restore',
    laterCommits: later,
  };
}

/** Commits of other runs, not since rolled back, whose source_versions name a version `runId` wrote. */
function findDownstream(lake: Lake, logs: readonly TableLog[], plans: ReadonlyMap<string, TableRollbackOutcome>, runId: string): DownstreamCommit[] {
  const firstByRoot = new Map([...logs].filter((l) => plans.has(l.ref.tableRoot)).map((l) => [l.ref.tableRoot, plans.get(l.ref.tableRoot)!.runVersions[0]!]));
  const out: DownstreamCommit[] = [];
  for (const log of logs) {
    log.versions.forEach((v, i) => {
      const info = log.infos[i];
      const reader = text(info?.['run_id']);
      const sources = info?.['source_versions'];
      if (reader === runId || info?.['rollback_of_run'] !== undefined || typeof sources !== 'object' || sources === null) return;
      // Undone since: a later rollback of the reading run in the same table.
      if (reader !== undefined && log.infos.some((later, j) => log.versions[j]! > v && later?.['rollback_of_run'] === reader)) return;
      for (const [name, version] of Object.entries(sources as Record<string, unknown>)) {
        if (typeof version !== 'number') continue;
        const first = firstByRoot.get(resolveTable(lake, name).tableRoot) ?? firstByRoot.get(resolveLocation(name));
        if (first !== undefined && version >= first) out.push({ table: log.ref.name, version: v, runId: reader, read: `${name}@${version}` });
      }
    });
  }
  return out;
}

function describeBlocked(t: TableRollbackOutcome): string {
  const runs = [...new Set(t.laterCommits.map((c) => c.runId ?? `an untagged ${c.operation ?? 'commit'}`))];
  return `${t.table} (versions ${t.laterCommits.map((c) => c.version).join(', ')} by ${runs.join(', ')})`;
}

function describeDownstream(list: readonly DownstreamCommit[]): string {
  return list.map((d) => `${d.table} v${d.version} (${d.runId ? `run ${d.runId}` : 'an untagged commit'}) read ${d.read}`).join('; ');
}

export async function rollbackRun(lake: Lake, options: RollbackOptions): Promise<RollbackRunResult> {
  return rollbackWith(lake, options, new Set());
}

/** The run's commits in every table, and the downstream commits that read them. */
interface RollbackPlan {
  rollbackRunId: string;
  now: () => number;
  tables: { ref: TableRef; plan: TableRollbackOutcome }[];
  downstream: DownstreamCommit[];
}

async function planRollback(lake: Lake, options: RollbackOptions): Promise<RollbackPlan> {
  const { runId } = options;
  if (runId.trim() === '') throw new LakeError('USAGE', 'rollback needs a run id', { hint: 'Find run ids with `lake history <table>` (run_id column).' });
  const now = options.now ?? systemClock.now;
  const rollbackRunId = options.rollbackRunId ?? newRunId(now());
  const refs = options.tables ?? (await listLakeTables(lake));
  const logs = await Promise.all(refs.map(readTableLog));
  const tables: RollbackPlan['tables'] = [];
  for (const log of logs) {
    const plan = planTable(log, runId);
    if (plan) tables.push({ ref: log.ref, plan });
  }
  const downstream = findDownstream(lake, logs, new Map(tables.map((p) => [p.ref.tableRoot, p.plan])), runId);
  return { rollbackRunId, now, tables, downstream };
}

/** The runs that read what this run wrote, not rolled back in this command yet, newest reader first (its own readers are handled by its cascade). */
function readersToCascade(downstream: readonly DownstreamCommit[], visited: ReadonlySet<string>): string[] {
  const readers = [...new Set(downstream.flatMap((d) => (d.runId !== undefined && !visited.has(d.runId) ? [d.runId] : [])))];
  const newest = (id: string): number => Math.max(...downstream.filter((d) => d.runId === id).map((d) => d.version));
  return readers.sort((a, b) => newest(b) - newest(a));
}

/**
 * Settles the `blocked` tables: one already back at its pre-run state (restored by hand, or by a
 * rollback whose commit was a no-op) has nothing to undo, whatever came after the run; `force`
 * restores the others anyway; without it they stop the rollback (unless dry run).
 */
async function settleBlocked(lake: Lake, options: RollbackOptions, tables: RollbackPlan['tables']): Promise<void> {
  for (const { ref, plan } of tables) {
    if (plan.action !== 'blocked' || plan.restoreTo < 0) continue;
    const change = planRestore(await tableSnapshot(lake, ref), await tableSnapshot(lake, ref, { version: plan.restoreTo }));
    if (change.toAdd.length === 0 && change.toRemove.length === 0 && !change.metadata && !change.protocol) plan.action = 'already-rolled-back';
  }
  if (options.force) for (const { plan } of tables) if (plan.action === 'blocked') plan.action = 'restore';
  const blocked = tables.filter((p) => p.plan.action === 'blocked');
  if (blocked.length > 0 && !options.dryRun) {
    throw new LakeError('DELTA_COMMIT_CONFLICT', `cannot roll back run ${options.runId}: later commits sit on top of it in ${blocked.map((p) => describeBlocked(p.plan)).join('; ')}; nothing was committed`, {
      hint: 'Roll back the later runs first (`lake rollback --run <id>`, newest first), or pass --force to restore the pre-run versions anyway, which undoes those later commits too.',
      details: { runId: options.runId, tables: blocked.map((p) => ({ table: p.plan.table, laterCommits: p.plan.laterCommits })) },
    });
  }
}

interface PreparedRestore {
  ref: TableRef;
  plan: TableRollbackOutcome;
  current: Snapshot;
  target: Snapshot;
  op: { operation: string; operationParameters: Record<string, string> };
}

/** Plans every restore as a dry run (this also checks that the files of every target version exist) before any commit. */
async function prepareRestores(lake: Lake, plan: RollbackPlan, commitMetadata: Record<string, unknown>): Promise<PreparedRestore[]> {
  const prepared: PreparedRestore[] = [];
  for (const { ref, plan: table } of plan.tables) {
    if (table.action !== 'restore') continue;
    const current = await tableSnapshot(lake, ref);
    const empty = table.restoreTo < 0;
    const target = empty ? { ...current, version: -1, files: [] } : await tableSnapshot(lake, ref, { version: table.restoreTo });
    const op: PreparedRestore['op'] = empty ? { operation: 'DELETE', operationParameters: { predicate: 'true' } } : { operation: 'RESTORE', operationParameters: { version: String(table.restoreTo) } };
    table.result = await applyRestore(lake, { table: ref, dryRun: true, commitMetadata, now: plan.now }, current, target, op);
    prepared.push({ ref, plan: table, current, target, op });
  }
  return prepared;
}

async function rollbackWith(lake: Lake, options: RollbackOptions, visited: Set<string>): Promise<RollbackRunResult> {
  const { runId } = options;
  visited.add(runId);
  const plan = await planRollback(lake, options);
  const { rollbackRunId, downstream } = plan;
  const result: RollbackRunResult = { runId, rollbackRunId, dryRun: options.dryRun ?? false, status: 'noop', tables: plan.tables.map((p) => p.plan), downstream, cascaded: [] };
  if (plan.tables.length === 0) {
    if (options.dryRun) return { ...result, status: 'dry-run' };
    throw new LakeError('USAGE', `no table under ${lake.root} has a commit of run ${runId}`, {
      hint: 'Check the run id (`lake history <table>` shows run_id per commit; ingest logs are in logs/<run_id>.jsonl).',
      details: { runId },
    });
  }

  const readers = readersToCascade(downstream, visited);
  if (options.cascade && readers.length > 0) {
    for (const reader of readers) {
      if (visited.has(reader)) continue;
      result.cascaded.push(await rollbackWith(lake, { ...options, runId: reader, rollbackRunId }, visited));
    }
    if (!options.dryRun) {
      // The readers are rolled back: plan this run again over the logs as they are now.
      const own = await rollbackWith(lake, { ...options, cascade: false, rollbackRunId }, visited);
      const committed = own.status === 'committed' || result.cascaded.some((c) => c.status === 'committed');
      return { ...own, status: committed ? 'committed' : 'noop', cascaded: result.cascaded };
    }
  } else if (downstream.length > 0 && !options.force && !options.dryRun) {
    throw new LakeError('DELTA_COMMIT_CONFLICT', `cannot roll back run ${runId} alone: downstream commits read data it wrote: ${describeDownstream(downstream)}; nothing was committed`, {
      hint: 'Pass --cascade to roll back those runs first (newest first) in the same command, roll them back yourself (`lake rollback --run <id>`), or pass --force to leave them as they are.',
      details: { runId, downstream },
    });
  }

  await settleBlocked(lake, options, plan.tables);
  const commitMetadata = { run_id: rollbackRunId, rollback_of_run: runId };
  const prepared = await prepareRestores(lake, plan, commitMetadata);
  if (options.dryRun) return { ...result, status: 'dry-run' };
  for (const { ref, plan: table, current, target, op } of prepared) {
    table.result = await applyRestore(lake, { table: ref, commitMetadata, now: plan.now }, current, target, op);
    if (table.result.status === 'committed') faultPoint('restore.between-tables');
  }
  const committed = prepared.some((p) => p.plan.result?.status === 'committed') || result.cascaded.some((c) => c.status === 'committed');
  return { ...result, status: committed ? 'committed' : 'noop' };
}
