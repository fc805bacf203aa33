import { graphSpec, KIND_COLOURS, partitionsSpec, qualitySpec, renderSvg, STATUS_COLOURS, timelineSpec, type GraphNode } from './charts.js';
import { COMMIT_KINDS, type DatasetQuality, type PartitionState, type ReportData, type RunLineageGraph, type RunSummary, type TableSummary } from './model.js';

/**
 * The report page: one self-contained HTML file (styles and the one small script inline, charts
 * as inline SVG rendered at build time), so it opens from file:// with no network. The page
 * shows exactly the `ReportData` that `lake report --json` prints.
 */
const LAYER_COLOURS: Record<string, string> = { upstream: '#9d755d', bronze: '#c17d2a', silver: '#8c97a6', gold: '#d4a017' };
const STAGE_GROUPS = ['upstream', 'bronze', 'silver', 'gold'];

export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function num(n: number | null): string {
  return n === null ? '?' : n.toLocaleString('en-US');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function time(iso: string): string {
  return esc(iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'));
}

function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '-');
}

function chart(kind: string, svg: string, attrs = ''): string {
  return `<div class="chart" data-chart="${kind}"${attrs}>${svg}</div>`;
}

function badge(t: TableSummary): string {
  const f = t.freshness;
  const title = f.max_age_hours === null ? 'no freshness rule in the catalog' : `newest ingested_at ${f.newest_ingested_at ?? 'unknown'}, ${f.age_hours ?? '?'} h old; rule: at most ${f.max_age_hours} h (${f.severity})`;
  return `<span class="badge fresh-${f.status}" title="${esc(title)}">${esc(f.status)}${f.age_hours !== null && f.max_age_hours !== null ? ` · ${f.age_hours} h` : ''}</span>`;
}

function overview(data: ReportData): string {
  const out = ['<section id="overview"><h2>Overview</h2>'];
  for (const layer of ['bronze', 'silver', 'gold']) {
    const tables = data.tables.filter((t) => t.layer === layer);
    if (tables.length === 0) continue;
    out.push(`<h3>${layer}</h3><table class="overview" data-layer="${layer}"><thead><tr><th>table</th><th>version</th><th>rows</th><th>bytes</th><th>files</th><th>last commit</th><th>run</th><th>freshness</th></tr></thead><tbody>`);
    for (const t of tables) {
      const c = t.last_commit;
      out.push(
        `<tr data-table="${esc(t.table)}"><td><a href="#history-${slug(t.table)}">${esc(t.table)}</a></td><td class="n">${t.version}</td><td class="n">${num(t.rows)}</td><td class="n">${formatBytes(t.bytes)}</td><td class="n">${t.files}</td><td>${time(c.timestamp)} <span class="kind" style="background:${KIND_COLOURS[c.kind]}">${esc(c.kind)}</span></td><td>${c.run_id ? `<a href="#run-${slug(c.run_id)}">${esc(c.run_id)}</a>` : '–'}</td><td>${badge(t)}</td></tr>`,
      );
    }
    out.push('</tbody></table>');
  }
  if (data.tables.length === 0) out.push(`<p>No Delta tables under ${esc(data.lake_root)} yet.</p>`);
  out.push('</section>');
  return out.join('\n');
}

async function history(data: ReportData): Promise<string> {
  const legend = COMMIT_KINDS.map((k) => `<span class="kind" style="background:${KIND_COLOURS[k]}">${k}</span>`).join(' ');
  const out = [`<section id="history"><h2>History</h2><p>Every version of every table over time, coloured by what the commit did: ${legend}. Below each timeline, the rows each commit added (green) and removed (red).</p>`];
  for (const t of data.tables) {
    out.push(`<div class="table-history" id="history-${slug(t.table)}" data-table="${esc(t.table)}"><h3>${esc(t.table)} <small>version ${t.version}</small></h3>`);
    out.push(chart('timeline', await renderSvg(timelineSpec(t)), ` data-versions="${t.history.length}"`));
    out.push('<details><summary>commits</summary><table><thead><tr><th>version</th><th>time</th><th>operation</th><th>kind</th><th>run</th><th>+rows</th><th>-rows</th><th>+files</th><th>-files</th><th>partitions</th></tr></thead><tbody>');
    for (const h of [...t.history].reverse()) {
      out.push(`<tr><td class="n">${h.version}</td><td>${time(h.timestamp)}</td><td>${esc(h.operation ?? '')}</td><td>${esc(h.kind)}</td><td>${esc(h.run_id ?? '')}</td><td class="n">${num(h.rows_added)}</td><td class="n">${num(h.rows_removed)}</td><td class="n">${h.files_added}</td><td class="n">${h.files_removed}</td><td>${esc(h.partitions.join(', '))}</td></tr>`);
    }
    out.push('</tbody></table></details></div>');
  }
  out.push('</section>');
  return out.join('\n');
}

function partitionDetail(t: TableSummary, p: PartitionState): string {
  const rows = p.changes
    .map((c) => `<tr><td class="n">${c.version}</td><td>${time(c.timestamp)}</td><td>${esc(c.kind)}</td><td>${esc(c.run_id ?? '')}</td><td class="n">${c.rows_before === null ? 'new' : num(c.rows_before)} → ${num(c.rows_after)}</td><td class="n">${formatBytes(c.bytes_after)}</td><td class="n">${c.files_after}</td><td>${c.diff ? `<code>${esc(c.diff)}</code>` : '–'}</td></tr>`)
    .join('');
  return `<div class="partition-detail" data-group-item="${esc(`partitions:${t.table}`)}" data-key="${esc(p.label)}"><table><thead><tr><th>version</th><th>time</th><th>kind</th><th>run</th><th>rows</th><th>bytes</th><th>files</th><th>what changed</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

async function partitions(data: ReportData): Promise<string> {
  const out = ['<section id="partitions"><h2>Partitions</h2><p>Rows and bytes per partition at the latest version; pick a partition to see every commit that changed it, with the <code>lake diff</code> command for that pair of versions.</p>'];
  for (const t of data.tables) {
    if (t.partition_columns.length === 0 || t.partitions.length === 0) continue;
    out.push(`<div class="table-partitions" data-table="${esc(t.table)}"><h3>${esc(t.table)} <small>${t.partitions.length} partition${t.partitions.length === 1 ? '' : 's'} by ${esc(t.partition_columns.join(', '))}</small></h3>`);
    out.push(chart('partitions', await renderSvg(partitionsSpec(t.table, t.partitions))));
    const changed = [...t.partitions].sort((a, b) => b.changes.length - a.changes.length || (a.label < b.label ? -1 : 1));
    out.push(`<label>partition <select data-group="${esc(`partitions:${t.table}`)}">${changed.map((p) => `<option value="${esc(p.label)}">${esc(p.label)} (${p.changes.length} commit${p.changes.length === 1 ? '' : 's'})</option>`).join('')}</select></label>`);
    for (const p of changed) out.push(partitionDetail(t, p));
    out.push('</div>');
  }
  out.push('</section>');
  return out.join('\n');
}

function examplesTable(examples: Record<string, unknown>[]): string {
  if (examples.length === 0) return '';
  const columns = [...new Set(examples.flatMap((e) => Object.keys(e)))];
  return `<table class="examples"><thead><tr>${columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${examples.map((e) => `<tr>${columns.map((c) => `<td>${e[c] === null ? '<i>NULL</i>' : esc(typeof e[c] === 'object' ? JSON.stringify(e[c]) : e[c])}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

async function qualityDataset(q: DatasetQuality): Promise<string> {
  const out = [`<div class="dataset-quality" data-dataset="${esc(q.dataset)}"><h3>${esc(q.table)} <small>${q.reports} report${q.reports === 1 ? '' : 's'}, last: <span class="status-${esc(q.last_status)}">${esc(q.last_status)}</span></small></h3>`];
  out.push(chart('quality', await renderSvg(qualitySpec(q))));
  const bad = q.gates.flatMap((g) => g.runs.filter((r) => r.status !== 'pass').map((r) => ({ g, r })));
  if (bad.length > 0) {
    out.push('<table class="gate-failures"><thead><tr><th>gate</th><th>run</th><th>status</th><th>measured</th><th>threshold</th><th>what failed</th></tr></thead><tbody>');
    for (const { g, r } of bad.reverse()) {
      out.push(
        `<tr class="gate-${r.status}" data-gate="${esc(g.gate)}" data-run="${esc(r.run_id)}"><td>${esc(g.gate)}</td><td>${esc(r.run_id)}</td><td>${esc(r.status)}</td><td class="n">${r.value} ${esc(r.unit)}</td><td class="n">${r.threshold}</td><td>${r.messages.map((m) => `<div>${esc(m)}</div>`).join('')}${examplesTable(r.examples)}</td></tr>`,
      );
    }
    out.push('</tbody></table>');
  }
  out.push('</div>');
  return out.join('\n');
}

async function quality(data: ReportData): Promise<string> {
  const out = [`<section id="quality"><h2>Quality</h2><p>Each gate's measured value per promote run (points; <span style="color:${STATUS_COLOURS.fail}">red</span> = failed) against its threshold (dashed). Failures are listed with the example rows of their report (${esc(data.quality_dir)}).</p>`];
  for (const q of data.quality) out.push(await qualityDataset(q));
  if (data.quality.length === 0) out.push(`<p>No quality reports under ${esc(data.quality_dir)}.</p>`);
  out.push('</section>');
  return out.join('\n');
}

function graphNodes(g: RunLineageGraph): GraphNode[] {
  return g.nodes.map((n) => ({ id: n.id, label: n.label, column: n.stage, group: STAGE_GROUPS[Math.min(n.stage, 3)]! }));
}

async function lineage(data: ReportData): Promise<string> {
  const out = ['<section id="lineage"><h2>Lineage</h2><p>Upstream files → bronze versions → silver versions → gold versions, from the commit metadata of a run and what it read.</p>'];
  if (data.lineage.length === 0) out.push('<p>No run has committed yet.</p>');
  else out.push(`<label>run <select data-group="lineage">${data.lineage.map((g, i) => `<option value="${esc(g.run_id)}">${esc(g.run_id)}${i === 0 ? ' (latest)' : ''}</option>`).join('')}</select></label>`);
  for (const g of data.lineage) {
    out.push(`<div class="lineage-run" data-group-item="lineage" data-key="${esc(g.run_id)}" data-run="${esc(g.run_id)}"><p><a href="#run-${slug(g.run_id)}">run page</a></p>`);
    out.push(chart('lineage', await renderSvg(graphSpec(graphNodes(g), g.edges, LAYER_COLOURS))));
    const label = new Map(g.nodes.map((n) => [n.id, n.label]));
    out.push(`<details><summary>${g.edges.length} links</summary><ul class="edges">${g.edges.map((e) => `<li data-from="${esc(e.from)}" data-to="${esc(e.to)}">${esc(label.get(e.from))} → ${esc(label.get(e.to))}</li>`).join('')}</ul></details></div>`);
  }
  out.push('</section>');
  return out.join('\n');
}

function runPage(r: RunSummary): string {
  const commits = r.commits.map((c) => `<li>${esc(c.table)} v${c.version} <span class="kind" style="background:${KIND_COLOURS[c.kind]}">${esc(c.kind)}</span></li>`).join('');
  const quality = r.quality.map((q) => `<li class="status-${esc(q.status)}">${esc(q.dataset)}: ${esc(q.status)}</li>`).join('');
  const log = r.log ? `<p>log ${esc(r.log.file)}: ${r.log.lines} lines${r.log.command ? `, command ${esc(r.log.command)}` : ''}${r.log.errors.length > 0 ? `; errors:</p><ul>${r.log.errors.map((e) => `<li class="status-failed">${esc(e)}</li>`).join('')}</ul>` : '</p>'}` : '<p>no run log</p>';
  const undo = r.commits.length > 0 ? `<p>undo: <code class="rollback">${esc(r.rollback)}</code> (try <code>${esc(r.rollback)} --dry-run</code> first)</p>` : '<p>committed nothing</p>';
  return `<div class="run" id="run-${slug(r.run_id)}" data-run="${esc(r.run_id)}"><h3>${esc(r.run_id)}${r.rollback_of_run ? ` <small>rollback of ${esc(r.rollback_of_run)}</small>` : ''}</h3><p>${time(r.started_at)} → ${time(r.ended_at)}</p>${undo}${commits ? `<ul class="commits">${commits}</ul>` : ''}${quality ? `<p>quality reports:</p><ul>${quality}</ul>` : ''}${log}</div>`;
}

function runs(data: ReportData): string {
  return `<section id="runs"><h2>Runs</h2>${data.runs.map(runPage).join('\n') || '<p>No runs yet.</p>'}</section>`;
}

async function diagrams(data: ReportData): Promise<string> {
  const out = ['<section id="diagrams"><h2>Pipeline and gold ERD</h2><p>Generated from the catalog and the mart headers of sql/gold; the same diagrams as Mermaid are in docs/diagrams.md (<code>npm run diagrams</code>).</p>'];
  const pipelineNodes = data.pipeline.nodes.map((n) => ({ ...n, column: STAGE_GROUPS.indexOf(n.group) }));
  if (pipelineNodes.length > 0) out.push(chart('pipeline', await renderSvg(graphSpec(pipelineNodes, data.pipeline.edges, LAYER_COLOURS))));
  const dims = new Set(data.erd.relations.map((r) => r.from));
  const erdNodes = data.erd.entities.map((e) => ({ id: e.mart, label: `${e.table} (${e.grain.join(', ')})`, column: dims.has(e.mart) ? 0 : 1, group: dims.has(e.mart) ? 'silver' : 'gold' }));
  out.push('<h3>gold ERD</h3>');
  out.push(chart('erd', await renderSvg(graphSpec(erdNodes, data.erd.relations.map((r) => ({ from: r.from, to: r.to, label: r.columns.join(', ') })), LAYER_COLOURS))));
  out.push('<div class="entities">');
  for (const e of data.erd.entities) {
    out.push(`<div class="entity" data-mart="${esc(e.mart)}"><h4>${esc(e.table)}</h4><p>${esc(e.summary)}</p><table><tbody>${e.columns.map((c) => `<tr><td>${e.grain.includes(c.name) ? '<b>' : ''}${esc(c.name)}${e.grain.includes(c.name) ? '</b>' : ''}</td><td>${esc(c.type ?? '')}</td></tr>`).join('')}</tbody></table></div>`);
  }
  out.push('</div>');
  out.push(`<details><summary>Mermaid</summary><pre>${esc(data.pipeline.mermaid)}</pre><pre>${esc(data.erd.mermaid)}</pre></details></section>`);
  return out.join('\n');
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1f2d3d;color:#fff;padding:12px 20px}header a{color:#cde}nav a{margin-right:12px}
main{padding:0 20px 40px}section{margin-top:24px}h2{border-bottom:2px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}thead th{background:#eef}
.kind{color:#fff;border-radius:3px;padding:0 4px;font-size:12px}
.badge{border-radius:8px;padding:0 6px;font-size:12px;color:#fff}.fresh-fresh{background:#54a24b}.fresh-stale{background:#d62728}.fresh-no-rule,.fresh-unknown{background:#999}
.gate-fail td{background:#fde0e0;color:#a00}.gate-fail{border-left:4px solid #d62728}.gate-warn td{background:#fff1dc}
.status-failed,.status-error{color:#d62728;font-weight:bold}
table.examples td,table.examples th{font-size:12px;color:#222;background:#fff}
.chart{overflow-x:auto;margin:6px 0}code{background:#eee;padding:0 3px}
.entities{display:flex;flex-wrap:wrap;gap:12px}.entity{background:#fff;border:1px solid #ddd;padding:6px;font-size:12px}
`;

const SCRIPT = `
for (const select of document.querySelectorAll('select[data-group]')) {
  const show = () => {
    for (const item of document.querySelectorAll('[data-group-item]')) {
      if (item.dataset.groupItem === select.dataset.group) item.hidden = item.dataset.key !== select.value;
    }
  };
  select.addEventListener('change', show);
  show();
}
`;

export async function renderReportHtml(data: ReportData): Promise<string> {
  const body = [overview(data), await history(data), await partitions(data), await quality(data), await lineage(data), runs(data), await diagrams(data)].join('\n');
  const nav = ['overview', 'history', 'partitions', 'quality', 'lineage', 'runs', 'diagrams'].map((s) => `<a href="#${s}">${s}</a>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>lake report · ${esc(data.lake_root)}</title><style>${STYLE}</style></head>
<body><header><h1>lake report</h1><p>${esc(data.lake_root)} · generated ${time(data.generated_at)} · ${data.tables.length} tables · ${data.runs.length} runs</p><nav>${nav}</nav></header>
<main>
${body}
</main>
<script>${SCRIPT}</script>
</body></html>
`;
}
