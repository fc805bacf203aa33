import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { COMMIT_KINDS, type CommitKind, type DatasetQuality, type PartitionState, type TableSummary } from './model.js';

/**
 * The report's charts as Vega-Lite specs, rendered to SVG strings at build time in Node (Vega's
 * headless `renderer: 'none'` view, no canvas, no browser): the page ships the SVG only, so it
 * needs no script library and works offline. Every mark carries a `description`, which Vega writes
 * as the mark's `aria-label`: screen readers (and the browser test) read what each mark is.
 */
type Spec = Record<string, unknown>;

export const KIND_COLOURS: Record<CommitKind, string> = {
  create: '#4c78a8',
  append: '#54a24b',
  replace: '#f58518',
  restore: '#b279a2',
  rollback: '#e45756',
  optimize: '#72b7b2',
  gc: '#9d755d',
  delete: '#bab0ac',
  other: '#79706e',
};

export const STATUS_COLOURS = { pass: '#54a24b', warn: '#f58518', fail: '#d62728' } as const;

const CONFIG = { font: 'sans-serif', view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 11 }, legend: { labelFontSize: 11, titleFontSize: 11 } };
/** Commit times to the second (a run's commits are seconds apart); the scale is UTC. */
const UTC_AXIS = { format: '%Y-%m-%d %H:%M:%S', tickCount: 5, labelAngle: -30, title: null };

export async function renderSvg(spec: Spec): Promise<string> {
  // Warnings go nowhere (the CLI's stdout and stderr are its contract); errors throw.
  const logger = vega.logger(vega.Error);
  const view = new vega.View(vega.parse(compile({ config: CONFIG, ...spec } as TopLevelSpec, { logger }).spec), { renderer: 'none', logger });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function signed(n: number | null): string {
  return n === null ? '?' : n.toLocaleString('en-US');
}

/** Versions over time coloured by kind (one point per version), over the rows each commit added and removed. */
export function timelineSpec(t: TableSummary): Spec {
  const values = t.history.map((h) => ({
    version: h.version,
    timestamp: h.timestamp,
    kind: h.kind,
    added: h.rows_added ?? 0,
    removed: -(h.rows_removed ?? 0),
    description: `${t.table} v${h.version} ${h.kind} (${h.operation ?? 'no operation'}) at ${h.timestamp}: +${signed(h.rows_added)} rows, -${signed(h.rows_removed)} rows${h.run_id ? `, run ${h.run_id}` : ''}`,
  }));
  const color = { field: 'kind', type: 'nominal', title: 'commit', scale: { domain: [...COMMIT_KINDS], range: COMMIT_KINDS.map((k) => KIND_COLOURS[k]) } };
  return {
    data: { values },
    vconcat: [
      {
        width: 640,
        height: 110,
        mark: { type: 'point', filled: true, size: 70, opacity: 1 },
        encoding: {
          x: { field: 'timestamp', type: 'temporal', scale: { type: 'utc' }, axis: UTC_AXIS },
          y: { field: 'version', type: 'quantitative', axis: { title: 'version', tickMinStep: 1, format: 'd' } },
          color,
          description: { field: 'description' },
        },
      },
      {
        width: { step: Math.max(4, Math.min(40, Math.floor(640 / Math.max(1, values.length)))) },
        height: 90,
        transform: [{ fold: ['added', 'removed'], as: ['change', 'rows'] }],
        mark: { type: 'bar' },
        encoding: {
          x: { field: 'version', type: 'ordinal', axis: { title: 'version', labelAngle: 0 } },
          y: { field: 'rows', type: 'quantitative', axis: { title: 'rows ±' } },
          color: { field: 'change', type: 'nominal', title: 'rows', scale: { domain: ['added', 'removed'], range: ['#54a24b', '#e45756'] } },
          description: { field: 'description' },
        },
      },
    ],
    resolve: { scale: { color: 'independent' } },
  };
}

/** Rows and bytes of every partition at the latest version. */
export function partitionsSpec(table: string, partitions: readonly PartitionState[]): Spec {
  const values = partitions.filter((p) => p.files > 0).map((p) => ({ label: p.label, rows: p.rows ?? 0, bytes: p.bytes, description: `${table} ${p.label}: ${signed(p.rows)} rows, ${p.bytes} bytes in ${p.files} files` }));
  const bar = (field: string, title: string, color: string): Spec => ({
    width: { step: Math.max(8, Math.min(28, Math.floor(640 / Math.max(1, values.length)))) },
    height: 90,
    mark: { type: 'bar', color },
    encoding: { x: { field: 'label', type: 'nominal', sort: null, axis: { title: null, labelAngle: -45, labelLimit: 120 } }, y: { field, type: 'quantitative', axis: { title } }, description: { field: 'description' } },
  });
  return { data: { values }, hconcat: [bar('rows', 'rows', '#4c78a8'), bar('bytes', 'bytes', '#72b7b2')] };
}

/** Per gate of a dataset (one small chart each): its measured value per run against its threshold (dashed); failed runs red. */
export function qualitySpec(q: DatasetQuality): Spec {
  const order = [...new Set(q.gates.flatMap((g) => g.runs.map((r) => `${r.started_at} ${r.run_id}`)))].sort();
  const values = q.gates.flatMap((g) =>
    g.runs.map((r) => ({
      gate: `${g.gate} (${r.unit})`,
      run: order.indexOf(`${r.started_at} ${r.run_id}`) + 1,
      value: r.value,
      threshold: r.threshold,
      status: r.status,
      description: `${q.dataset} ${g.gate} run ${r.run_id}: ${r.status}, ${r.value} ${r.unit} (threshold ${r.threshold})`,
    })),
  );
  const x = { field: 'run', type: 'quantitative', axis: { title: 'run', tickMinStep: 1, format: 'd' } };
  return {
    data: { values },
    facet: { field: 'gate', type: 'nominal', title: null, header: { labelFontSize: 11, labelLimit: 200 } },
    columns: 4,
    spec: {
      width: 170,
      height: 60,
      layer: [
        { mark: { type: 'line', color: '#888' }, encoding: { x, y: { field: 'value', type: 'quantitative', axis: { title: null, format: '~s' } } } },
        { mark: { type: 'rule', strokeDash: [4, 3], color: '#d62728' }, encoding: { y: { aggregate: 'max', field: 'threshold', type: 'quantitative' } } },
        {
          mark: { type: 'point', filled: true, size: 50, opacity: 1 },
          encoding: {
            x,
            y: { field: 'value', type: 'quantitative' },
            color: { field: 'status', type: 'nominal', legend: null, scale: { domain: ['pass', 'warn', 'fail'], range: [STATUS_COLOURS.pass, STATUS_COLOURS.warn, STATUS_COLOURS.fail] } },
            description: { field: 'description' },
          },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  };
}

export interface GraphNode {
  id: string;
  label: string;
  column: number;
  group: string;
}

export interface GraphEdge {
  from: string;
  to: string;
  label?: string;
}

const COLUMN_WIDTH = 290;
const ROW_HEIGHT = 22;
/** Labels are cut (…) at this width; edges leave a node's column just after it. */
const LABEL_WIDTH = COLUMN_WIDTH - 40;

/** A left-to-right node-link diagram: nodes in columns (stage), edges as rules with an aria-label "a → b". */
export function graphSpec(nodes: readonly GraphNode[], edges: readonly GraphEdge[], groupColours: Record<string, string>): Spec {
  const columns = [...new Set(nodes.map((n) => n.column))].sort((a, b) => a - b);
  const placed = new Map<string, { x: number; y: number; node: GraphNode }>();
  let rows = 1;
  for (const [ci, column] of columns.entries()) {
    const inColumn = nodes.filter((n) => n.column === column);
    rows = Math.max(rows, inColumn.length);
    for (const [ri, n] of inColumn.entries()) placed.set(n.id, { x: ci * COLUMN_WIDTH + 8, y: ri * ROW_HEIGHT + 12, node: n });
  }
  const nodeValues = [...placed.values()].map((p) => ({ x: p.x, y: p.y, label: p.node.label, group: p.node.group, description: `node ${p.node.label}` }));
  const edgeValues = edges.flatMap((e) => {
    const a = placed.get(e.from);
    const b = placed.get(e.to);
    if (!a || !b) return [];
    return [{ x: a.x + LABEL_WIDTH + 12, y: a.y, x2: b.x - 6, y2: b.y, description: `${a.node.label} → ${b.node.label}${e.label ? ` (${e.label})` : ''}` }];
  });
  const groups = Object.keys(groupColours);
  const pixel = (field: string): Spec => ({ field, type: 'quantitative', scale: null, axis: null });
  return {
    width: Math.max(1, columns.length) * COLUMN_WIDTH,
    height: rows * ROW_HEIGHT + 8,
    layer: [
      { data: { values: edgeValues }, mark: { type: 'rule', color: '#9aa', strokeWidth: 1 }, encoding: { x: pixel('x'), y: pixel('y'), x2: { field: 'x2' }, y2: { field: 'y2' }, description: { field: 'description' } } },
      {
        data: { values: nodeValues },
        mark: { type: 'square', size: 90, filled: true, opacity: 1 },
        encoding: { x: pixel('x'), y: pixel('y'), color: { field: 'group', type: 'nominal', legend: null, scale: { domain: groups, range: groups.map((g) => groupColours[g]) } }, description: { field: 'description' } },
      },
      { data: { values: nodeValues }, mark: { type: 'text', align: 'left', dx: 8, fontSize: 11, limit: LABEL_WIDTH }, encoding: { x: pixel('x'), y: pixel('y'), text: { field: 'label' } } },
    ],
  };
}
