import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LakeError, errnoCode, systemClock } from '../core/index.js';
import { resolveLocation } from '../storage/index.js';
import { loadCatalog, newRunId, resolveSettings, type Catalog, type ResolvedSettings, runIngest, type IngestCommand, buildGold, runPromote, startLocalUpstream, type GoldRunResult } from '../pipeline/index.js';
import { openLake, resolveTable, runQuery, tableHistory, writeDuckdbViews, type Lake } from '../table/index.js';
import { plural, renderRows } from './render.js';
import { defaultReportOut } from './report-commands.js';

/**
 * `lake demo`: the whole pipeline on the shipped sample of real nflverse data, offline. The sample
 * is served by the local upstream (pipeline/upstream/local-server.ts: an in-process HTTP server on
 * 127.0.0.1 in the upstream URL layouts, CSV extracts rendered to the Parquet files the catalog
 * asks for), so bootstrap runs the real ingest: download, land, bronze commit. Then promote,
 * build-gold, ready-to-run queries, a stat correction pulled the same way, time travel and history.
 */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The shipped sample (real nflverse extracts, CC-BY-4.0), found relative to the package. */
export function sampleDir(): string {
  const dir = path.join(PACKAGE_ROOT, 'data', 'sample');
  if (!existsSync(dir)) throw new LakeError('USAGE', `the sample data folder ${dir} is missing`, { hint: 'Run the demo from a checkout of the repository.' });
  return dir;
}

/** Bootstrap groups asking only for sampled seasons (a missing past season is an error upstream). */
const PLAN: { datasets: string[]; from: number; to: number }[] = [
  { datasets: ['pbp', 'nextgen_stats', 'schedules', 'officials', 'teams', 'player_ids'], from: 2020, to: 2020 },
  { datasets: ['player_stats_legacy'], from: 2023, to: 2024 },
  { datasets: ['rosters'], from: 2023, to: 2023 },
  { datasets: ['injuries'], from: 2025, to: 2025 },
  { datasets: ['depth_charts'], from: 2025, to: 2026 },
];

const PBP_KEY = 'nflverse/pbp/play_by_play_2020.parquet';

/** One play of a game gets a different EPA: the kind of change a stat correction brings. */
const CORRECTION = {
  timestamp: '2026-02-12 08:24:07 EST',
  sql: `SELECT * REPLACE (CASE WHEN game_id = '2020_01_HOU_KC' AND play_id = (SELECT min(play_id) FROM {source} WHERE game_id = '2020_01_HOU_KC' AND posteam = 'KC' AND "pass" = 1 AND epa IS NOT NULL) THEN epa + 4.0 ELSE epa END AS epa) FROM {source}`,
};

interface DemoContext {
  lake: Lake;
  catalog: Catalog;
  settings: ResolvedSettings;
  reportDir: string;
  out: (text: string) => void;
}

async function ingest(ctx: DemoContext, command: IngestCommand, runId: string, groups: typeof PLAN): Promise<{ commits: number; rows: number; notices: string[] }> {
  let commits = 0;
  let rows = 0;
  const notices: string[] = [];
  for (const group of groups) {
    const result = await runIngest({ catalog: ctx.catalog, settings: ctx.settings, command, datasets: group.datasets, seasons: { from: group.from, to: group.to }, runId, lake: ctx.lake, unconditional: command === 'recache-pbp' });
    const failed = result.datasets.find((d) => d.error);
    if (failed) throw new LakeError('INTERNAL', `demo ingest of ${failed.dataset} failed: [${failed.error!.code}] ${failed.error!.message}`, { hint: failed.error!.hint });
    commits += result.commits;
    rows += result.datasets.reduce((n, d) => n + d.rows, 0);
    notices.push(...result.datasets.flatMap((d) => d.notices.map((n) => `${d.dataset}: ${n}`)));
  }
  return { commits, rows, notices };
}

async function promoteAndBuild(ctx: DemoContext, runId: string, datasets?: string[]): Promise<GoldRunResult> {
  const t = Date.now();
  const promote = await runPromote({ catalog: ctx.catalog, lake: ctx.lake, runId, datasets, reportDir: ctx.reportDir, maxWorkers: 4 });
  const failed = promote.datasets.find((d) => d.error);
  if (failed) throw new LakeError('INTERNAL', `demo promote of ${failed.dataset} failed: [${failed.error!.code}] ${failed.error!.message}`, { hint: failed.error!.hint });
  ctx.out(`   promote: ${promote.datasets.filter((d) => d.status === 'committed').map((d) => `silver.${d.dataset} v${d.version}`).join(', ')} · ${seconds(t)}\n`);
  const gold = await buildGold({ catalog: ctx.catalog, lake: ctx.lake, runId });
  const broken = gold.marts.find((m) => m.error);
  if (broken) throw new LakeError('INTERNAL', `demo build-gold of ${broken.mart} failed: [${broken.error!.code}] ${broken.error!.message}`, { hint: broken.error!.hint });
  for (const m of gold.marts) {
    const scope = m.status !== 'committed' ? 'unchanged (no source commit)' : m.mode === 'seasons' ? `replaced season ${m.seasons!.join(', ')} only` : 'built';
    ctx.out(`   ${m.table.padEnd(22)} ${m.status === 'committed' ? `v${m.version}` : '  '} ${scope}${m.status === 'committed' ? ` · ${m.rows} rows` : ''}\n`);
  }
  return gold;
}

async function show(ctx: DemoContext, title: string, sql: string, limit = 6): Promise<void> {
  const result = await runQuery(ctx.lake, sql, { exact: true });
  const more = result.rows.length > limit ? ` (first ${limit} of ${result.rows.length})` : '';
  ctx.out(`${title}${more}\n${renderRows(result.columns, result.rows.slice(0, limit), 'table')}\n`);
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function query(name: string): string {
  return readFileSync(path.join(PACKAGE_ROOT, 'sql', 'queries', `${name}.sql`), 'utf8');
}

/** How to run `lake` from the current folder: `lake` when it is on the PATH, else `npx lake` inside the checkout, else node and the entry point. */
export function lakeCommand(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const onPath = (env['PATH'] ?? '').split(path.delimiter).some((dir) => {
    if (!dir) return false;
    try {
      accessSync(path.join(dir, 'lake'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (onPath) return 'lake';
  const inside = !path.relative(PACKAGE_ROOT, cwd).startsWith('..');
  return inside ? 'npx lake' : `node ${path.join(PACKAGE_ROOT, 'dist', 'cli', 'main.js')}`;
}

/** A path as the user can type it from `cwd`: relative when inside it, else absolute. */
function typed(file: string, cwd = process.cwd()): string {
  const rel = path.relative(cwd, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

export interface DemoOptions {
  /** `--root <dir>`: the demo folder; the lake root is `<dir>/tables`, with raw/, logs/ and quality/ beside it. */
  root?: string;
  /** Without `root`: the lake root to build in (the default lake root when it is empty); raw files, logs and reports go to a temp folder removed at the end. */
  lakeRoot?: string;
  /** The lake root `lake` resolves in this folder: when the demo's differs, the next steps export LAKE_ROOT. */
  defaultRoot?: string;
  out: (text: string) => void;
}

export async function runDemo(options: DemoOptions): Promise<string> {
  const started = Date.now();
  const sideDir = options.root === undefined && options.lakeRoot !== undefined;
  const dir = path.resolve(options.root ?? (await mkdtemp(path.join(tmpdir(), 'lake-demo-'))));
  const root = sideDir ? resolveLocation(options.lakeRoot!) : path.join(dir, 'tables');
  const scratch = path.join(dir, '.sample-server');
  await mkdir(scratch, { recursive: true }).catch((cause: unknown) => {
    throw new LakeError('USAGE', `--root ${options.root ?? dir}: cannot create the demo folder there (${errnoCode(cause) ?? String(cause)})`, {
      cause,
      hint: 'Give a folder that exists or can be created (not a file, not read-only), or leave --root out to use a new temp folder.',
    });
  });
  const out = options.out;
  const server = await startLocalUpstream({ sampleDir: sampleDir(), scratchDir: scratch, threads: 2 });
  const catalog = loadCatalog(path.join(PACKAGE_ROOT, 'catalog', 'datasets.yml'));
  const settings = resolveSettings(catalog, { LAKE_ROOT: root, LAKE_RAW_DIR: path.join(dir, 'raw'), LAKE_LOGS_DIR: path.join(dir, 'logs'), ...server.env() });
  const lake = await openLake({ root });
  const ctx: DemoContext = { lake, catalog, settings, reportDir: path.join(dir, 'quality'), out };
  try {
    out(`lake root: ${root}\n`);
    out(`sample upstream: ${server.origin} (data/sample/ in the nflverse release layout; real nflverse data, CC-BY-4.0)\n\n`);
    const run1 = newRunId(systemClock.now());
    let t = Date.now();
    const loaded = await ingest(ctx, 'bootstrap', run1, PLAN);
    out(`1. bootstrap (bronze): ${plural(loaded.commits, 'commit')}, ${loaded.rows.toLocaleString('en-US')} rows from ${PLAN.flatMap((g) => g.datasets).length} datasets (run ${run1}) · ${seconds(t)}\n`);
    for (const notice of loaded.notices) out(`   notice: ${notice}\n`);
    out('2. promote (silver) and build-gold:\n');
    t = Date.now();
    const gold1 = await promoteAndBuild(ctx, run1);
    out(`   · ${seconds(t)}\n`);
    const teamWeek = gold1.marts.find((m) => m.mart === 'fact_team_week')!;
    out('\n3. ready-to-run queries (sql/queries/):\n\n');
    await show(ctx, 'team_epa_rankings.sql: offensive and defensive EPA per play', query('team_epa_rankings'));
    await show(ctx, 'receiving_leaders.sql: receiving leaders through week 8, 2023', query('receiving_leaders'), 5);
    await show(ctx, 'closing_line_results.sql: against the spread and over/under', query('closing_line_results'), 5);

    out('4. a stat correction upstream (one KC play of 2020 week 1 re-graded), pulled with lake recache-pbp:\n');
    server.setFile(PBP_KEY, await server.renderParquet(PBP_KEY, CORRECTION));
    const run2 = newRunId(systemClock.now());
    const recache = await ingest(ctx, 'recache-pbp', run2, [{ datasets: ['pbp'], from: 2020, to: 2020 }]);
    out(`   bronze.pbp: ${recache.commits} commit (run ${run2})\n`);
    const gold2 = await promoteAndBuild(ctx, run2, ['pbp']);
    const after = gold2.marts.find((m) => m.mart === 'fact_team_week')!;

    out(`\n5. time travel: gold.fact_team_week now (v${after.version}) and AT (VERSION => ${teamWeek.version}), before the correction\n`);
    await show(
      ctx,
      '',
      `SELECT now.season, now.week, now.team, round(old.off_epa_per_play, 4) AS epa_per_play_v${teamWeek.version}, round(now.off_epa_per_play, 4) AS epa_per_play_v${after.version}
       FROM gold.fact_team_week AS now JOIN gold.fact_team_week AT (VERSION => ${teamWeek.version}) AS old USING (season, week, team)
       WHERE round(old.off_epa_per_play, 6) IS DISTINCT FROM round(now.off_epa_per_play, 6) ORDER BY ALL`,
    );
    const history = await tableHistory(lake, resolveTable(lake, 'gold.fact_team_week'));
    out(`6. lake history gold.fact_team_week\n${renderRows(['version', 'operation', 'parameters', 'run_id', '+rows', '-rows'], history.map((h) => [h.version, h.operation ?? '', Object.entries(h.operationParameters).filter(([k]) => k !== 'partitionBy').map(([k, v]) => `${k}=${String(v)}`).join(' '), h.runId ?? '', h.rowsAdded ?? '?', h.rowsRemoved ?? '?']), 'table')}\n`);
    const views = await writeDuckdbViews(lake);
    out(`done in ${((Date.now() - started) / 1000).toFixed(1)} s. Lake root: ${root}\n`);
    const lake_ = lakeCommand();
    out('Next, from this folder:\n');
    if (options.defaultRoot === undefined || resolveLocation(options.defaultRoot) !== root) out(`  export LAKE_ROOT=${root}\n`);
    out(`  ${lake_} sql --file ${typed(path.join(PACKAGE_ROOT, 'sql', 'queries', 'qb_cpoe_vs_epa.sql'))}\n`);
    out(`  ${lake_} sql "SELECT * FROM gold.fact_team_week AT (VERSION => ${teamWeek.version}) WHERE team = 'KC'"\n`);
    out(`  ${lake_} diff gold.fact_team_week --from ${teamWeek.version}\n`);
    out(`  ${lake_} history silver.pbp\n`);
    out(`  ${lake_} lineage silver.pbp\n`);
    out(`  duckdb ${views.path} -c "FROM gold.fact_game LIMIT 5"   # with the duckdb CLI installed\n`);
    if (lake_ !== 'lake') out(`(To type plain \`lake\`: \`npm run build && npm link\` in ${PACKAGE_ROOT}; see README "Quick start".)\n`);
    const { writeReport } = await import('../report/index.js');
    const report = await writeReport({ lake, catalog, qualityDir: ctx.reportDir, logsDir: settings.logsDir, now: Date.now(), outDir: defaultReportOut(root) });
    out(`\nReport (history, partitions, quality, lineage; opens offline): ${report.path} · ${(report.bytes / 1024).toFixed(0)} KiB, built in ${(report.ms / 1000).toFixed(1)} s\n`);
    return root;
  } finally {
    lake.close();
    await server.close();
    await rm(sideDir ? dir : scratch, { recursive: true, force: true });
  }
}
