import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LakeError, systemClock } from '../core/index.js';
import { literal, openEngine } from '../engine/index.js';
import { loadCatalog, newRunId, resolveSettings, type Catalog, type ResolvedSettings, runIngest, type IngestCommand, buildGold, runPromote, type GoldRunResult } from '../pipeline/index.js';
import { openLake, resolveTable, runQuery, tableHistory, writeDuckdbViews, type Lake } from '../table/index.js';
import { renderRows } from './render.js';

/**
 * `lake demo`: the whole pipeline on the shipped sample of real nflverse data, offline. The sample
 * is served by an in-process HTTP server on 127.0.0.1 in the upstream URL layouts (nflverse
 * release assets, DynastyProcess raw files; CSV extracts rendered to the Parquet files the catalog
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

const MOUNTS: Record<string, { prefix: string; env: string }> = {
  nflverse: { prefix: '/nflverse/nflverse-data/releases/download', env: 'NFLVERSE_BASE_URL' },
  dynastyprocess: { prefix: '/dynastyprocess/data/raw/master', env: 'DYNASTYPROCESS_BASE_URL' },
};

/** Upstream asset (`<upstream>/<path>`) → sample file, rendered to Parquet (rows `where`) or served as is. */
const ROUTES: Record<string, { file: string; parquet?: { where?: string } }> = {
  'nflverse/pbp/play_by_play_2020.parquet': { file: 'pbp/play_by_play_2020_week01.parquet' },
  'nflverse/schedules/games.parquet': { file: 'schedules/games_2023_2024.csv', parquet: {} },
  'nflverse/player_stats/player_stats_2023.parquet': { file: 'player_stats/player_stats_legacy_week_2023_2024.csv', parquet: { where: 'season = 2023' } },
  'nflverse/player_stats/player_stats_2024.parquet': { file: 'player_stats/player_stats_legacy_week_2023_2024.csv', parquet: { where: 'season = 2024' } },
  'nflverse/rosters/roster_2023.parquet': { file: 'rosters/roster_2023.csv', parquet: {} },
  'nflverse/nextgen_stats/ngs_passing.parquet': { file: 'nextgen_stats/ngs_2020_passing.csv.gz', parquet: {} },
  'nflverse/nextgen_stats/ngs_rushing.parquet': { file: 'nextgen_stats/ngs_2020_rushing.csv.gz', parquet: {} },
  'nflverse/nextgen_stats/ngs_receiving.parquet': { file: 'nextgen_stats/ngs_2020_receiving.csv.gz', parquet: {} },
  'nflverse/injuries/injuries_2025.parquet': { file: 'injuries/injuries_2025.csv', parquet: {} },
  'nflverse/depth_charts/depth_charts_2025.parquet': { file: 'depth_charts/depth_charts_2025_2026_subset.csv', parquet: { where: 'season = 2025' } },
  'nflverse/depth_charts/depth_charts_2026.parquet': { file: 'depth_charts/depth_charts_2025_2026_subset.csv', parquet: { where: 'season = 2026' } },
  'nflverse/officials/officials.parquet': { file: 'officials/officials_2023_2024.csv', parquet: {} },
  'nflverse/teams/teams_colors_logos.parquet': { file: 'teams/teams_colors_logos.csv', parquet: {} },
  'dynastyprocess/files/db_playerids.csv': { file: 'ids/db_playerids.csv' },
};

/** Bootstrap groups asking only for sampled seasons (a missing past season is an error upstream). */
const PLAN: { datasets: string[]; from: number; to: number }[] = [
  { datasets: ['pbp', 'nextgen_stats', 'schedules', 'officials', 'teams', 'player_ids'], from: 2020, to: 2020 },
  { datasets: ['player_stats_legacy'], from: 2023, to: 2024 },
  { datasets: ['rosters'], from: 2023, to: 2023 },
  { datasets: ['injuries'], from: 2025, to: 2025 },
  { datasets: ['depth_charts'], from: 2025, to: 2026 },
];

const PBP_KEY = 'nflverse/pbp/play_by_play_2020.parquet';

interface SampleServer {
  env: Record<string, string>;
  origin: string;
  setFile(key: string, bytes: Buffer): void;
  close(): Promise<void>;
}

/** Renders the routes once (nflverse_* key-value metadata as nflverse writes it), then serves them with ETags. */
async function startSampleServer(scratch: string): Promise<SampleServer> {
  const engine = await openEngine({ threads: 2 });
  const files = new Map<string, { bytes: Buffer; etag: string; lastModified: string }>();
  const put = (key: string, bytes: Buffer): void => {
    files.set(key, { bytes, etag: `"${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}"`, lastModified: new Date(Math.floor(Date.now() / 1000) * 1000).toUTCString() });
  };
  try {
    for (const [key, route] of Object.entries(ROUTES)) {
      const source = path.join(sampleDir(), route.file);
      if (!route.parquet) {
        put(key, readFileSync(source));
        continue;
      }
      const target = path.join(scratch, `${createHash('sha1').update(key).digest('hex')}.parquet`);
      const reader = `read_csv(${literal(source)}, nullstr = ['NA', ''], sample_size = -1)`;
      await engine.run(
        `COPY (SELECT * FROM ${reader}${route.parquet.where ? ` WHERE ${route.parquet.where}` : ''}) TO ${literal(target)} (FORMAT parquet, COMPRESSION zstd, KV_METADATA {nflverse_timestamp: '2026-02-11 08:24:07 EST', nflverse_type: ${literal(path.dirname(route.file))}})`,
      );
      put(key, await readFile(target));
    }
  } finally {
    engine.close();
  }
  const server: Server = createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    const mount = Object.entries(MOUNTS).find(([, m]) => pathname.startsWith(`${m.prefix}/`));
    const file = mount ? files.get(`${mount[0]}/${pathname.slice(mount[1].prefix.length + 1)}`) : undefined;
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    if (req.headers['if-none-match'] === file.etag) {
      res.writeHead(304, { etag: file.etag, 'last-modified': file.lastModified }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(file.bytes.length), etag: file.etag, 'last-modified': file.lastModified }).end(file.bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    env: Object.fromEntries(Object.values(MOUNTS).map((m) => [m.env, `${origin}${m.prefix}`])),
    setFile: put,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

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

/** One play of a game gets a different EPA: the kind of change a stat correction brings. */
async function correctedPbp(scratch: string): Promise<Buffer> {
  const engine = await openEngine({ threads: 2 });
  try {
    const source = literal(path.join(sampleDir(), 'pbp', 'play_by_play_2020_week01.parquet'));
    const target = path.join(scratch, 'pbp-corrected.parquet');
    await engine.run(
      `COPY (SELECT * REPLACE (CASE WHEN game_id = '2020_01_HOU_KC' AND play_id = (SELECT min(play_id) FROM read_parquet(${source}) WHERE game_id = '2020_01_HOU_KC' AND posteam = 'KC' AND "pass" = 1 AND epa IS NOT NULL) THEN epa + 4.0 ELSE epa END AS epa) FROM read_parquet(${source})) TO ${literal(target)} (FORMAT parquet, COMPRESSION zstd, KV_METADATA {nflverse_timestamp: '2026-02-12 08:24:07 EST', nflverse_type: 'pbp'})`,
    );
    return await readFile(target);
  } finally {
    engine.close();
  }
}

export async function runDemo(options: { root?: string; out: (text: string) => void }): Promise<string> {
  const started = Date.now();
  const dir = path.resolve(options.root ?? (await mkdtemp(path.join(tmpdir(), 'lake-demo-'))));
  const root = path.join(dir, 'tables');
  const scratch = path.join(dir, '.sample-server');
  await mkdir(scratch, { recursive: true });
  const out = options.out;
  const server = await startSampleServer(scratch);
  const catalog = loadCatalog(path.join(PACKAGE_ROOT, 'catalog', 'datasets.yml'));
  const settings = resolveSettings(catalog, { LAKE_ROOT: root, LAKE_RAW_DIR: path.join(dir, 'raw'), LAKE_LOGS_DIR: path.join(dir, 'logs'), ...server.env });
  const lake = await openLake({ root });
  const ctx: DemoContext = { lake, catalog, settings, reportDir: path.join(dir, 'quality'), out };
  try {
    out(`lake root: ${root}\n`);
    out(`sample upstream: ${server.origin} (data/sample/ in the nflverse release layout; real nflverse data, CC-BY-4.0)\n\n`);
    const run1 = newRunId(systemClock.now());
    let t = Date.now();
    const loaded = await ingest(ctx, 'bootstrap', run1, PLAN);
    out(`1. bootstrap (bronze): ${loaded.commits} commits, ${loaded.rows.toLocaleString('en-US')} rows from ${PLAN.flatMap((g) => g.datasets).length} datasets (run ${run1}) · ${seconds(t)}\n`);
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
    server.setFile(PBP_KEY, await correctedPbp(scratch));
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
    out('Next:\n');
    out(`  export LAKE_ROOT=${root}\n`);
    out('  lake sql --file sql/queries/qb_cpoe_vs_epa.sql\n');
    out(`  lake sql "SELECT * FROM gold.fact_team_week AT (VERSION => ${teamWeek.version}) WHERE team = 'KC'"\n`);
    out(`  lake diff gold.fact_team_week --from ${teamWeek.version}\n`);
    out('  lake history silver.pbp · lake lineage silver.pbp\n');
    out(`  duckdb ${views.path} -c "FROM gold.fact_game LIMIT 5"\n`);
    return root;
  } finally {
    lake.close();
    await server.close();
    await rm(scratch, { recursive: true, force: true });
  }
}
