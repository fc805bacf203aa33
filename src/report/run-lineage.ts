import type { LineageEdge, LineageNode, RunLineageGraph } from './model.js';
import type { CommitRecord } from './table-state.js';

/**
 * Lineage of a run from commit metadata alone (docs/design.md decision 9): the run's own commits, then
 * what they read, followed back to the upstream files. Gold and silver commits name the versions
 * they read in `source_versions`; a silver commit also names the bronze versions of its promote
 * (`promote.bronze_from_version` → `bronze_version`); a bronze commit names its upstream file
 * (`upstream_file`: asset, sha256, upstream version).
 */
export interface LakeCommits {
  /** `layer.dataset` → its commits by version. */
  tables: Map<string, Map<number, CommitRecord>>;
}

/** Bronze batches drawn per silver commit at most (the newest); the version read is always drawn. */
const MAX_BATCHES = 8;

function layerStage(table: string): number {
  return table.startsWith('bronze.') ? 1 : table.startsWith('silver.') ? 2 : 3;
}

function nodeId(table: string, version: number): string {
  return `${table}@${version}`;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** `source_versions` of a commit: `{ "silver.pbp": 3 }`. */
export function sourceVersions(info: Record<string, unknown> | undefined): [string, number][] {
  return Object.entries(record(info?.['source_versions']) ?? {}).filter((e): e is [string, number] => typeof e[1] === 'number');
}

function bronzeBatches(info: Record<string, unknown> | undefined): { table: string; versions: number[] } | undefined {
  const promote = record(info?.['promote']);
  const table = promote?.['bronze_table'];
  const to = promote?.['bronze_version'];
  if (typeof table !== 'string' || typeof to !== 'number') return undefined;
  const from = typeof promote?.['bronze_from_version'] === 'number' ? (promote['bronze_from_version'] as number) : to - 1;
  const versions: number[] = [];
  for (let v = to; v > from && versions.length < MAX_BATCHES; v--) versions.push(v);
  return { table, versions };
}

export function runLineage(lake: LakeCommits, runId: string): RunLineageGraph {
  const nodes = new Map<string, LineageNode>();
  const edges = new Map<string, LineageEdge>();
  const queue: string[] = [];
  const commitOf = (table: string, version: number): CommitRecord | undefined => lake.tables.get(table)?.get(version);
  const addNode = (table: string, version: number): string => {
    const id = nodeId(table, version);
    if (!nodes.has(id)) {
      nodes.set(id, { id, stage: layerStage(table), table, version, label: `${table} v${version}`, run_id: commitOf(table, version)?.summary.run_id ?? null });
      queue.push(id);
    }
    return id;
  };
  const link = (from: string, to: string): void => {
    edges.set(`${from}→${to}`, { from, to });
  };

  for (const [table, commits] of lake.tables) for (const c of commits.values()) if (c.summary.run_id === runId) addNode(table, c.version);
  while (queue.length > 0) {
    const id = queue.shift()!;
    const node = nodes.get(id)!;
    const info = commitOf(node.table!, node.version!)?.info;
    for (const [source, version] of sourceVersions(info)) link(addNode(source, version), id);
    const batches = bronzeBatches(info);
    if (batches) for (const v of batches.versions) if (commitOf(batches.table, v)) link(addNode(batches.table, v), id);
    const file = record(info?.['upstream_file']);
    if (file && typeof file['asset'] === 'string') {
      const sha = typeof file['sha256'] === 'string' ? file['sha256'].slice(0, 12) : '';
      const fileId = `file:${file['asset']}@${sha}`;
      const upstream = typeof info?.['upstream_version'] === 'string' ? ` (${info['upstream_version']})` : '';
      if (!nodes.has(fileId)) nodes.set(fileId, { id: fileId, stage: 0, table: null, version: null, label: `${file['asset']}${upstream}`, run_id: null });
      link(fileId, id);
    }
  }
  // Gold marts that read gold marts sit one column further right per step.
  const depth = new Map<string, number>();
  const goldDepth = (id: string, seen: Set<string>): number => {
    if (depth.has(id)) return depth.get(id)!;
    if (seen.has(id)) return 0;
    seen.add(id);
    const sources = [...edges.values()].filter((e) => e.to === id && nodes.get(e.from)?.stage === 3).map((e) => goldDepth(e.from, seen) + 1);
    const d = Math.max(0, ...sources);
    depth.set(id, d);
    return d;
  };
  for (const n of nodes.values()) if (n.stage === 3) n.stage = 3 + goldDepth(n.id, new Set());
  const sorted = [...nodes.values()].sort((a, b) => a.stage - b.stage || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { run_id: runId, nodes: sorted, edges: [...edges.values()] };
}

/** Runs that read (through `source_versions`) a version some commit of `runId` wrote: a rollback of it needs --cascade. */
export function runReadDownstream(lake: LakeCommits, runId: string): boolean {
  const written = new Set<string>();
  for (const [table, commits] of lake.tables) for (const c of commits.values()) if (c.summary.run_id === runId) written.add(nodeId(table, c.version));
  for (const commits of lake.tables.values()) {
    for (const c of commits.values()) {
      if (c.summary.run_id === runId) continue;
      if (sourceVersions(c.info).some(([t, v]) => written.has(nodeId(t, v)))) return true;
    }
  }
  return false;
}
