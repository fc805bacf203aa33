import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGold } from '../../src/pipeline/index.js';
import { writeReport, type ReportData, type WriteReportResult } from '../../src/report/index.js';
import { describeChild, requireBuild, runCliProcess } from '../helpers/child.js';
import { catalog, routeKey, sampleLake, TODAY, type SampleLake } from '../helpers/sample-lake.js';
import { startUpstreamServer, type UpstreamServer } from '../helpers/upstream-server.js';

/**
 * `lake report` opened in headless Chromium (Debian's `chromium`, installed by .ci/run) from
 * file:// with every non-file request refused: a sample lake with pbp and schedules promoted,
 * three gold marts built, then a bad pull (16 plays without game_id) whose promote the not_null
 * gate stops. The rendered DOM must list every table, draw one timeline mark per version, link
 * the gold mart to its silver and bronze versions, and show the failed gate in red with its
 * example rows, without a console error. A screenshot is left in the lake's temp folder.
 */
const CHROMIUM = process.env['LAKE_CHROMIUM'] ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`report-page.test.ts: skipped: no Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);

let server: UpstreamServer;
let env: SampleLake;
let report: WriteReportResult;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
const refused: string[] = [];

beforeAll(async () => {
  server = await startUpstreamServer();
  env = await sampleLake(server, 'report-page');
  await env.ingest(['pbp', 'schedules']);
  expect((await env.promote({ datasets: ['pbp', 'schedules'], runId: 'run-good' })).failures).toBe(0);
  const gold = await buildGold({ catalog, lake: env.lake, runId: 'run-gold', marts: ['dim_game', 'fact_game', 'fact_team_week'], clock: env.clock });
  expect(gold.failures).toBe(0);
  // The bad pull: the same file with game_id NULL on the first plays.
  const key = routeKey('pbp', 2020);
  server.setFile(key, await server.renderParquet(key, { timestamp: '2026-11-24 09:00:00 EST', sql: 'SELECT * REPLACE (CASE WHEN play_id < 40 THEN NULL ELSE game_id END AS game_id) FROM {source}' }));
  await env.ingest(['pbp']);
  const bad = await env.promote({ datasets: ['pbp'], runId: 'run-bad' });
  expect(bad.datasets[0]!.error?.code).toBe('QUALITY_GATE_FAILED');

  report = await writeReport({ lake: env.lake, catalog, qualityDir: env.reportDir, logsDir: env.settings.logsDir, now: TODAY.getTime() + 3_600_000, outDir: path.join(env.dir, 'report') });
  if (!hasChromium) return;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const context = await browser.newContext({ offline: true, viewport: { width: 1280, height: 900 } });
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    refused.push(url);
    return route.abort();
  });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(pathToFileURL(report.path).href);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  env?.close();
  await server?.close();
});

/** Tables on disk, independently of the report: `<root>/<layer>/<dataset>/_delta_log` with commit files. */
function tablesOnDisk(): Map<string, number> {
  const out = new Map<string, number>();
  for (const layer of ['bronze', 'silver', 'gold']) {
    const dir = path.join(env.lake.root, layer);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const log = path.join(dir, name, '_delta_log');
      if (existsSync(log)) out.set(`${layer}.${name}`, readdirSync(log).filter((f) => /^\d{20}\.json$/.test(f)).length);
    }
  }
  return out;
}

describe.skipIf(!hasChromium)('lake report in headless Chromium (file://, network refused)', () => {
  it('lists every table of the lake in the overview, with the version report.json gives', async () => {
    const disk = tablesOnDisk();
    expect(disk.size).toBeGreaterThanOrEqual(7);
    const listed = await page.locator('#overview tr[data-table]').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-table'), r.children[1]!.textContent]));
    expect(new Set(listed.map(([t]) => t))).toEqual(new Set(disk.keys()));
    const json = JSON.parse(readFileSync(report.json, 'utf8')) as ReportData;
    for (const [table, version] of listed) expect(Number(version), table!).toBe(json.tables.find((t) => t.table === table)!.version);
  });

  it('draws one timeline mark per version of each table', async () => {
    for (const [table, commits] of tablesOnDisk()) {
      const marks = page.locator(`.table-history[data-table="${table}"] [data-chart="timeline"] g.mark-symbol.role-mark path`);
      expect(await marks.count(), table).toBe(commits);
      expect(await marks.first().getAttribute('aria-label'), table).toMatch(new RegExp(`^${table.replace('.', '\\.')} v0 create`));
    }
    // bronze.pbp: the good pull, then the bad pull appended as version 1.
    await expect.poll(() => page.locator('.table-history[data-table="bronze.pbp"] g.mark-symbol.role-mark path[aria-label^="bronze.pbp v1 append"]').count()).toBe(1);
  });

  it('links the gold mart to the silver and bronze versions it was built from, for the run that built it', async () => {
    await page.selectOption('select[data-group="lineage"]', 'run-gold');
    const run = page.locator('.lineage-run[data-run="run-gold"]');
    await expect.poll(() => run.isVisible()).toBe(true);
    expect(await page.locator('.lineage-run[data-run="run-good"]').isVisible()).toBe(false);
    for (const link of ['silver.pbp v0 → gold.fact_team_week v0', 'gold.fact_game v0 → gold.fact_team_week v0', 'silver.schedules v0 → gold.fact_game v0', 'bronze.pbp v0 → silver.pbp v0', 'bronze.schedules v0 → silver.schedules v0']) {
      const edge = run.locator(`[data-chart="lineage"] [aria-label="${link}"]`);
      // Rules of a hidden section would count too: the section is visible (above), the rule has a stroke.
      expect(await edge.count(), link).toBe(1);
      expect(await edge.getAttribute('stroke'), link).toBeTruthy();
    }
    expect(await run.locator('[data-chart="lineage"] [aria-label^="pbp/play_by_play_2020.parquet"][aria-label$="→ bronze.pbp v0"]').count()).toBe(1);
  });

  it('shows the failed not_null gate of the bad pull in red, with its example rows', async () => {
    const row = page.locator('#quality .dataset-quality[data-dataset="pbp"] tr.gate-fail[data-gate="not_null game_id"][data-run="run-bad"]');
    expect(await row.count()).toBe(1);
    expect(await row.locator('td').first().evaluate((td) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(td).backgroundColor)).toBe('rgb(253, 224, 224)');
    const examples = row.locator('table.examples tbody tr');
    expect(await examples.count()).toBeGreaterThan(0);
    const header = await row.locator('table.examples thead th').allTextContents();
    const gameId = header.indexOf('game_id');
    expect(gameId).toBeGreaterThanOrEqual(0);
    for (const cells of await examples.evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => c.textContent)))) expect(cells[gameId]).toBe('NULL');
    const point = page.locator('#quality .dataset-quality[data-dataset="pbp"] [data-chart="quality"] [aria-label^="pbp not_null game_id run run-bad: fail"]');
    expect(await point.count()).toBe(1);
    expect(await point.getAttribute('fill')).toBe('#d62728');
  });

  it('gives each run a page with its rollback command', async () => {
    expect(await page.locator('#runs .run[data-run="run-gold"] code.rollback').textContent()).toBe('lake rollback --run run-gold');
    // run-good's silver versions were read by run-gold: undoing it needs --cascade.
    expect(await page.locator('#runs .run[data-run="run-good"] code.rollback').textContent()).toBe('lake rollback --run run-good --cascade');
  });

  it('loads without a console error or a network request, and leaves a screenshot', async () => {
    expect(consoleErrors).toEqual([]);
    expect(refused).toEqual([]);
    const shot = path.join(env.dir, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
  });
});

describe('lake report --json (child process of dist/cli/main.js)', () => {
  it('prints the data the page was built from', async () => {
    requireBuild();
    const out = path.join(env.dir, 'report-cli');
    const child = await runCliProcess(['report', '--json', '--out', out, '--quality-dir', env.reportDir], { env: { LAKE_ROOT: env.lake.root, LAKE_LOGS_DIR: env.settings.logsDir } });
    expect(child.code, describeChild(child)).toBe(0);
    const data = JSON.parse(child.stdout) as ReportData;
    expect(data.tables.map((t) => [t.table, t.version, t.rows])).toEqual(report.data.tables.map((t) => [t.table, t.version, t.rows]));
    expect(data.quality.find((q) => q.dataset === 'pbp')!.gates.find((g) => g.gate === 'not_null game_id')!.runs.map((r) => r.status)).toEqual(['pass', 'fail']);
    expect(existsSync(path.join(out, 'index.html'))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'))).toEqual(data);
  });
});
