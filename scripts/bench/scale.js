// `npm run bench:scale` (issue 13): the real job at real size, end to end, on a generated
// full-size nflverse release (scripts/scale/generate.mjs) served by the lake's local upstream.
// Every step is a real `lake` child process under /usr/bin/time -v; floors are raw DuckDB in the
// same run. Writes the "Full history" section of BENCHMARKS.md (between the scale markers).
//
//   npm run bench:scale
//   BENCH_SCALE_YEARS=1999-2025  seasons of the full history (default)
//   BENCH_SCALE_SMALL=2017-2025  the smaller history run for "peak does not grow with seasons"
//   BENCH_SCALE_FACTOR=1         row-count scale of the generator (0.02 for a quick check)
//   BENCH_SCALE_NIGHTS=28        nightly states replayed (Thursdays, every 7th, also recache pbp)
//   BENCH_SCALE_FRESH=1          also build a from-scratch lake of the final state and compare (0: skip)
//   BENCH_SCALE_NIGHT=one        a night as one process, `lake update --build-gold` (Thursdays: `lake recache-pbp` first);
//                                `three`: `lake update`, (`lake recache-pbp`,) `lake promote`, `lake build-gold`
//   BENCH_SCALE_OUT=BENCHMARKS.md, BENCH_TMP, BENCH_KEEP=1 as in `npm run bench`
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { generate } from '../scale/generate.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const CLI = path.join(repoRoot, 'dist/cli/main.js');
const { startLocalUpstream } = await import(path.join(repoRoot, 'dist/pipeline/index.js'));
const { listLakeTables, openLake, tableSnapshot } = await import(path.join(repoRoot, 'dist/table/index.js'));

const env = process.env;
const YEARS = env.BENCH_SCALE_YEARS ?? '1999-2025';
const SMALL = env.BENCH_SCALE_SMALL ?? '2017-2025';
const FACTOR = Number(env.BENCH_SCALE_FACTOR ?? 1);
const NIGHTS = Number(env.BENCH_SCALE_NIGHTS ?? 28);
const FRESH = env.BENCH_SCALE_FRESH !== '0';
const NIGHT = env.BENCH_SCALE_NIGHT ?? 'one';
if (NIGHT !== 'one' && NIGHT !== 'three') throw new Error(`BENCH_SCALE_NIGHT must be one or three, got ${NIGHT}`);
const START_WEEK = 7;
const [FIRST, CURRENT] = YEARS.split('-').map(Number);
const OUT = env.BENCH_SCALE_OUT ?? path.join(repoRoot, 'BENCHMARKS.md');

const dir = mkdtempSync(path.join(env.BENCH_TMP ?? os.tmpdir(), 'scale-bench-'));
const release = path.join(dir, 'release');
const log = (line) => process.stderr.write(`[scale ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const startedAt = new Date();
const commit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
const loadStart = os.loadavg();

/** Runs `lake …` (or a worker script) under /usr/bin/time -v; wall, CPU, peak RSS and its JSON result. */
function timed(label, script, argv, childEnv) {
  return new Promise((resolve, reject) => {
    const logFile = path.join(dir, 'logs', `${label.replace(/[^a-z0-9]+/gi, '-')}.stderr`);
    mkdirSync(path.dirname(logFile), { recursive: true });
    const child = spawn('/usr/bin/time', ['-v', process.execPath, script, ...argv], { cwd: repoRoot, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const sink = createWriteStream(logFile);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      sink.write(d);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      sink.end();
      const num = (re) => Number(re.exec(stderr)?.[1]);
      const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(stderr)?.[1] ?? 'NaN';
      const record = {
        label,
        code,
        wallS: wall.split(':').reduce((s, part) => s * 60 + Number(part), 0),
        cpuS: num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/),
        maxRssKb: num(/Maximum resident set size \(kbytes\): (\d+)/),
        result: parseJson(stdout),
        logFile,
      };
      log(`${label}: exit ${code}, ${record.wallS.toFixed(1)} s wall, ${record.cpuS.toFixed(1)} s CPU, ${(record.maxRssKb / 1024).toFixed(0)} MiB peak`);
      if (code !== 0) {
        reject(new Error(`${label} exited ${code}; stderr in ${logFile}\n${stderr.slice(-3000)}\n${stdout.slice(-2000)}`));
        return;
      }
      resolve(record);
    });
  });
}

function parseJson(stdout) {
  const text = stdout.trim();
  try {
    return JSON.parse(text);
  } catch {
    const last = text.split('\n').filter((l) => l.startsWith('{')).pop();
    try {
      return last ? JSON.parse(last) : undefined;
    } catch {
      return undefined;
    }
  }
}

function lakeEnv(name, today, serverEnv) {
  const base = path.join(dir, name);
  return {
    ...env,
    ...serverEnv,
    LAKE_ROOT: path.join(base, 'tables'),
    LAKE_RAW_DIR: path.join(base, 'raw'),
    LAKE_LOGS_DIR: path.join(base, 'logs'),
    LAKE_TODAY: today,
    LAKE_PROGRESS: 'plain',
    LAKE_READER: 'native',
  };
}

function lake(label, args, childEnv) {
  const quality = args[0] === 'promote' || args.includes('--build-gold') ? ['--quality-dir', path.join(childEnv.LAKE_ROOT, '..', 'quality')] : [];
  return timed(label, CLI, [...args, ...quality, '--json'], childEnv);
}

function worker(label, name, argv, childEnv = env) {
  return timed(label, path.join(here, 'workers', name), argv, childEnv);
}

function du(target) {
  if (!existsSync(target)) return 0;
  const info = statSync(target);
  if (!info.isDirectory()) return info.size;
  return readdirSync(target).reduce((n, name) => n + du(path.join(target, name)), 0);
}

/** Bytes of the release's files whose asset key `match`es. */
function releaseBytes(root, match, rel = '') {
  let total = 0;
  for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const key = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.name.startsWith('.')) continue;
    if (entry.isDirectory()) total += releaseBytes(root, match, key);
    else if (match(key)) total += statSync(path.join(root, key)).size;
  }
  return total;
}

/** Per table: live files, rows and bytes (from the log), bytes on disk; per layer: totals. */
async function measureLake(root) {
  const handle = await openLake({ root, threads: 1 });
  try {
    const tables = [];
    for (const ref of await listLakeTables(handle)) {
      const snapshot = await tableSnapshot(handle, ref, { stats: true });
      let rows = 0;
      let bytes = 0;
      let currentBytes = 0;
      const perPartition = new Map();
      for (const f of snapshot.files) {
        const n = f.stats ? JSON.parse(f.stats).numRecords ?? 0 : 0;
        rows += n;
        bytes += f.size;
        if (String(f.partitionValues?.season) === String(CURRENT)) currentBytes += f.size;
        const key = JSON.stringify(f.partitionValues ?? {});
        perPartition.set(key, (perPartition.get(key) ?? 0) + 1);
      }
      tables.push({
        table: `${ref.layer}.${ref.dataset}`,
        layer: ref.layer,
        version: snapshot.version,
        files: snapshot.files.length,
        maxFilesPerPartition: Math.max(0, ...perPartition.values()),
        rows,
        bytes,
        currentSeasonBytes: currentBytes,
        diskBytes: du(ref.tableRoot),
      });
    }
    const layers = {};
    for (const t of tables) {
      const l = (layers[t.layer] ??= { tables: 0, files: 0, rows: 0, bytes: 0, diskBytes: 0, currentSeasonBytes: 0 });
      l.tables += 1;
      l.files += t.files;
      l.rows += t.rows;
      l.bytes += t.bytes;
      l.diskBytes += t.diskBytes;
      l.currentSeasonBytes += t.currentSeasonBytes;
    }
    return { tables, layers };
  } finally {
    handle.close();
  }
}

/** Table versions now, to find the commits a step made. */
async function versions(root) {
  const handle = await openLake({ root, threads: 1 });
  try {
    const out = {};
    for (const ref of await listLakeTables(handle)) out[`${ref.layer}.${ref.dataset}`] = { version: (await tableSnapshot(handle, ref, { stats: false })).version, root: ref.tableRoot };
    return out;
  } finally {
    handle.close();
  }
}

/**
 * The seasons touched by the commits made since `before`: every add/remove's partition season,
 * per layer, with the tables that touched a season other than the current one.
 */
async function touched(root, before) {
  const after = await versions(root);
  const layers = { bronze: new Set(), silver: new Set(), gold: new Set() };
  const outside = new Set();
  let commits = 0;
  let unpartitioned = 0;
  for (const [table, { version, root: tableRoot }] of Object.entries(after)) {
    const layer = table.split('.')[0];
    const from = (before[table]?.version ?? -1) + 1;
    for (let v = from; v <= version; v++) {
      const file = path.join(tableRoot, '_delta_log', `${String(v).padStart(20, '0')}.json`);
      if (!existsSync(file)) continue;
      commits += 1;
      for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
        const action = JSON.parse(line);
        const f = action.add ?? action.remove;
        if (!f) continue;
        const season = f.partitionValues?.season;
        if (season === undefined) unpartitioned += 1;
        else {
          layers[layer]?.add(season);
          if (String(season) !== String(CURRENT)) outside.add(table);
        }
      }
    }
  }
  const sorted = (set) => [...set].sort();
  return { commits, bronze: sorted(layers.bronze), silver: sorted(layers.silver), gold: sorted(layers.gold), outside: sorted(outside), unpartitionedFileActions: unpartitioned };
}

async function fullQuery(label, childEnv) {
  const sql = 'SELECT season, count(*) AS plays, sum(epa) AS epa FROM silver.pbp GROUP BY season ORDER BY season';
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await timed(`${label} ${i + 1}`, CLI, ['sql', sql, '--format', 'json'], childEnv));
  runs.sort((x, y) => x.wallS - y.wallS);
  return runs[1];
}

const steps = [];
const nights = [];
let server;
try {
  log(`generating ${YEARS} at scale ${FACTOR}, state 0 into ${release}`);
  const gen0 = await generate({ out: release, years: YEARS, scale: FACTOR, state: 0, startWeek: START_WEEK, threads: 2 });
  log(`generated ${gen0.files} files, ${(gen0.bytes / 2 ** 20).toFixed(1)} MiB in ${gen0.seconds} s; today ${gen0.today}`);
  server = await startLocalUpstream({ sampleDir: path.join(repoRoot, 'data/sample'), scratchDir: path.join(dir, 'server'), releaseDir: release });
  mkdirSync(path.join(dir, 'server'), { recursive: true });
  const serverEnv = server.env();
  const today0 = gen0.today;
  const full = lakeEnv('full', today0, serverEnv);
  const small = lakeEnv('small', today0, serverEnv);

  // 1. The full history, with its floors.
  steps.push({ group: 'full', ...(await lake(`bootstrap ${YEARS}`, ['bootstrap', '--years', YEARS], full)) });
  steps.push({ group: 'full', floor: true, ...(await worker('floor: raw DuckDB read + partitioned zstd write of the same upstream files', 'scale-floor-bronze.js', [release, path.join(dir, 'floor-bronze'), String(FIRST), String(CURRENT), today0])) });
  steps.push({ group: 'full', ...(await lake('promote (full, every dataset)', ['promote'], full)) });
  steps.push({ group: 'full', floor: true, ...(await worker('floor: raw DuckDB dedupe + partitioned zstd write of the same bronze rows', 'scale-floor-silver.js', [full.LAKE_ROOT, path.join(dir, 'floor-silver')])) });
  rmSync(path.join(dir, 'floor-bronze'), { recursive: true, force: true });
  rmSync(path.join(dir, 'floor-silver'), { recursive: true, force: true });
  steps.push({ group: 'full', ...(await lake('build-gold (full)', ['build-gold'], full)) });
  // lake report of the full lake (issue 19): build time and page size.
  const reportDir = path.join(dir, 'report-full');
  const reportRun = await timed('report (full lake)', CLI, ['report', '--out', reportDir, '--quality-dir', path.join(full.LAKE_ROOT, '..', 'quality'), '--json'], full);
  steps.push({ group: 'full', ...reportRun, label: `report (full lake; page ${(statSync(path.join(reportDir, 'index.html')).size / 2 ** 20).toFixed(1)} MiB)` });
  const afterFull = await measureLake(full.LAKE_ROOT);

  // 2. A shorter history, to show that no step's peak grows with the number of seasons.
  steps.push({ group: 'small', ...(await lake(`bootstrap ${SMALL}`, ['bootstrap', '--years', SMALL], small)) });
  steps.push({ group: 'small', ...(await lake(`promote (${SMALL})`, ['promote'], small)) });
  steps.push({ group: 'small', ...(await lake(`build-gold (${SMALL})`, ['build-gold'], small)) });
  rmSync(path.join(dir, 'small'), { recursive: true, force: true });

  // 3. A season of nights: update (and on Thursdays recache-pbp), promote, build-gold.
  for (let k = 1; k <= NIGHTS; k++) {
    const gen = await generate({ out: release, years: YEARS, scale: FACTOR, state: k, startWeek: START_WEEK, threads: 2, onlyCurrent: true });
    const nightEnv = { ...full, LAKE_TODAY: gen.today };
    const before = await versions(full.LAKE_ROOT);
    const thursday = k % 7 === 0;
    const night = { k, today: gen.today, thursday, changedFiles: gen.changed.length, runs: [] };
    if (NIGHT === 'one') {
      // The recache first: the update's promote then takes its pbp batch too (and the update finds pbp unchanged).
      if (thursday) night.runs.push(await lake(`night ${k} recache-pbp`, ['recache-pbp'], nightEnv));
      night.runs.push(await lake(`night ${k} update --build-gold`, ['update', '--build-gold'], nightEnv));
    } else {
      night.runs.push(await lake(`night ${k} update`, ['update'], nightEnv));
      if (thursday) night.runs.push(await lake(`night ${k} recache-pbp`, ['recache-pbp'], nightEnv));
      night.runs.push(await lake(`night ${k} promote`, ['promote'], nightEnv));
      night.runs.push(await lake(`night ${k} build-gold`, ['build-gold'], nightEnv));
    }
    night.touched = await touched(full.LAKE_ROOT, before);
    nights.push(night);
  }
  const afterSeason = await measureLake(full.LAKE_ROOT);
  const lastToday = nights.at(-1)?.today ?? today0;
  const finalEnv = { ...full, LAKE_TODAY: lastToday };

  // 4. Maintenance: bronze GC (every dataset at bronze_retention latest_batches: 1, in a copy of
  // the catalog), then a full-table query before and after OPTIMIZE.
  const gcCatalog = path.join(dir, 'catalog-gc.yml');
  const doc = parseDocument(readFileSync(path.join(repoRoot, 'catalog/datasets.yml'), 'utf8'));
  for (const item of doc.get('datasets').items) item.value.set('bronze_retention', doc.createNode({ latest_batches: 1 }));
  writeFileSync(gcCatalog, doc.toString());
  steps.push({ group: 'maintenance', ...(await lake('gc (bronze_retention latest_batches: 1 for every dataset)', ['gc', '--catalog', gcCatalog], finalEnv)) });
  const afterGc = await measureLake(full.LAKE_ROOT);
  const upstreamCurrent = releaseBytes(release, (key) => key.includes(`_${CURRENT}.`) || key.includes(`_${CURRENT}_`));
  const queryBefore = await fullQuery('query before optimize', finalEnv);
  steps.push({ group: 'maintenance', ...(await lake('optimize (every table)', ['optimize'], finalEnv)) });
  const queryAfter = await fullQuery('query after optimize', finalEnv);
  const afterOptimize = await measureLake(full.LAKE_ROOT);

  // 5. The incremental path loses nothing: a from-scratch lake of the final upstream state.
  let compare = { result: undefined };
  if (FRESH) {
    const fresh = lakeEnv('fresh', lastToday, serverEnv);
    // The first job users run (issue 13), as they run it: one process, ingest + promote + build-gold.
    steps.push({ group: 'fresh', ...(await lake(`from scratch: \`lake bootstrap --years ${YEARS} --build-gold\` of the final state (one process)`, ['bootstrap', '--years', YEARS, '--build-gold'], fresh)) });
    compare = await worker('compare replayed lake with from-scratch lake', 'scale-compare.js', [full.LAKE_ROOT, fresh.LAKE_ROOT]);
  }

  const finishedAt = new Date();
  const section = report({ gen0, steps, nights, afterFull, afterSeason, afterGc, upstreamCurrent, afterOptimize, queryBefore, queryAfter, compare: compare.result, startedAt, finishedAt, loadEnd: os.loadavg() });
  const previous = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '# Benchmarks\n';
  const marked = /<!-- scale:begin -->[\s\S]*<!-- scale:end -->\n?/;
  writeFileSync(OUT, marked.test(previous) ? previous.replace(marked, section) : `${previous.trimEnd()}\n\n${section}`);
  writeFileSync(path.join(dir, 'scale-result.json'), JSON.stringify({ steps, nights, afterFull, afterSeason, afterGc, upstreamCurrent, afterOptimize, compare: compare.result }, null, 2));
  log(`wrote the Full history section of ${OUT}`);
  if (FRESH && !compare.result?.equal) {
    log('the replayed lake and the from-scratch lake differ: see the report');
    process.exitCode = 1;
  }
} finally {
  await server?.close();
  if (env.BENCH_KEEP === '1') log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

function mib(bytes) {
  return `${(bytes / 2 ** 20).toLocaleString('en-US', { maximumFractionDigits: 1 })} MiB`;
}
function gib(kb) {
  return `${(kb / 2 ** 20).toFixed(2)} GiB`;
}
function secs(s) {
  return `${s.toFixed(1)} s`;
}

function report(r) {
  const lines = [];
  const p = (s = '') => lines.push(s);
  const byLabel = (prefix) => r.steps.find((s) => s.label.startsWith(prefix));
  const bootstrap = byLabel(`bootstrap ${YEARS}`);
  const floorBronze = byLabel('floor: raw DuckDB read');
  const promote = byLabel('promote (full');
  const floorSilver = byLabel('floor: raw DuckDB dedupe');
  const gold = byLabel('build-gold (full');
  const nightWall = r.nights.map((n) => n.runs.reduce((s, x) => s + x.wallS, 0));
  const nightMedian = [...nightWall].sort((a, b) => a - b)[Math.floor(nightWall.length / 2)] ?? NaN;
  const allRuns = [...r.steps, ...r.nights.flatMap((n) => n.runs)];
  const peak = allRuns.filter((s) => !s.floor).reduce((m, s) => (s.maxRssKb > m.maxRssKb ? s : m), { maxRssKb: 0 });
  const pastIn = (n, layer) => n.touched[layer].filter((s) => String(s) !== String(CURRENT));
  const outside = r.nights.filter((n) => pastIn(n, 'silver').length > 0 || pastIn(n, 'gold').length > 0);
  const bronzeOutside = r.nights.filter((n) => pastIn(n, 'bronze').length > 0);
  p('<!-- scale:begin -->');
  p('## Full history (issue 13): bootstrap 1999–2025, a replayed season, maintenance');
  p();
  p('<!-- Generated by `npm run bench:scale` (scripts/bench/scale.js); only this section is rewritten. -->');
  p();
  p(`- **Command**: \`npm run bench:scale\` (years ${YEARS}, generator scale ${FACTOR}, ${r.nights.length} nights${FRESH ? '' : ', BENCH_SCALE_FRESH=0'}${NIGHT === 'one' ? '' : ', BENCH_SCALE_NIGHT=three'}); repo at ${commit}`);
  p(`- **A night**: ${NIGHT === 'one' ? '`lake update --build-gold` — ingest, promote and build-gold in one process (on Thursdays `lake recache-pbp` runs first, a second process)' : 'three processes, `lake update`, `lake promote`, `lake build-gold` (on Thursdays `lake recache-pbp` after the update)'}; its wall is the sum of its processes'.`);
  p(`- **Date**: ${r.startedAt.toISOString()} → ${r.finishedAt.toISOString()} (${((r.finishedAt - r.startedAt) / 60000).toFixed(1)} min)`);
  p(`- **Machine**: \`nproc\` = ${os.cpus().length}, RAM ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; load average (1/5/15 min) at start ${loadStart.map((x) => x.toFixed(2)).join(' / ')}, at end ${r.loadEnd.map((x) => x.toFixed(2)).join(' / ')}`);
  p(`- **Upstream**: \`scripts/scale/generate.mjs\` (deterministic, nflverse column sets and row counts), state 0 = ${r.gen0.today}: ${r.gen0.files} files, ${mib(r.gen0.bytes)}; served by the lake's local upstream server on 127.0.0.1`);
  p(`- **Budget**: every lake step runs with the default memory limit (\`lake.memory_limit\` 1GiB for DuckDB), spilling to \`<root>/.lake-tmp\`; the floors run raw DuckDB with its defaults (no limit). Peak RSS is \`/usr/bin/time -v\`'s maximum resident set size of the step's process (a \`lake\` command runs no child processes).`);
  p();
  p('### Targets');
  p();
  p('| target | measured | result |');
  p('| --- | --- | --- |');
  p(`| peak RSS of every step < 2 GiB | largest: ${peak.label}, ${gib(peak.maxRssKb)} | **${peak.maxRssKb < 2 * 2 ** 20 ? 'met' : 'missed'}** |`);
  if (bootstrap && floorBronze) p(`| bootstrap wall ≤ 1.3× raw-COPY floor | ${secs(bootstrap.wallS)} / ${secs(floorBronze.wallS)} = ${(bootstrap.wallS / floorBronze.wallS).toFixed(2)}× | **${bootstrap.wallS / floorBronze.wallS <= 1.3 ? 'met' : 'missed'}** |`);
  if (promote && floorSilver) p(`| full promote wall ≤ 1.5× raw dedupe+write floor | ${secs(promote.wallS)} / ${secs(floorSilver.wallS)} = ${(promote.wallS / floorSilver.wallS).toFixed(2)}× | **${promote.wallS / floorSilver.wallS <= 1.5 ? 'met' : 'missed'}** |`);
  if (bootstrap && promote && gold) {
    // The full bootstrap is the job the issue names, `lake bootstrap --years … --build-gold`: ingest,
    // promote and build-gold, as a night is update, promote and build-gold. Its wall here is the sum
    // of the three steps of the first build (each its own process); the same job in one process,
    // from scratch at the final state, and the ratio against the ingest step alone are shown beside it.
    const job = bootstrap.wallS + promote.wallS + gold.wallS;
    const oneProcess = byLabel('from scratch: `lake bootstrap');
    const beside = [
      ...(oneProcess ? [`the job in one process, from scratch at the final state: ${secs(oneProcess.wallS)} → ${(nightMedian / oneProcess.wallS).toFixed(3)}×`] : []),
      `against the ingest step alone: ${(nightMedian / bootstrap.wallS).toFixed(3)}×`,
    ];
    p(`| a night (update → promote → build-gold) ≤ 0.05× the full bootstrap's wall (\`lake bootstrap --years ${YEARS} --build-gold\`: ingest → promote → build-gold) | median night ${secs(nightMedian)} / (${secs(bootstrap.wallS)} + ${secs(promote.wallS)} + ${secs(gold.wallS)} = ${secs(job)}) = ${(nightMedian / job).toFixed(3)}× (${beside.join('; ')}) | **${nightMedian / job <= 0.05 ? 'met' : 'missed'}** |`);
  }
  p(`| nights touch only the current season's silver and gold partitions | ${r.nights.length - outside.length} of ${r.nights.length} nights committed only season ${CURRENT} partitions (or unpartitioned tables) in silver and gold${outside.length ? `; others: ${outside.map((n) => `night ${n.k}: ${n.touched.outside.join(', ')}`).join('; ')}` : ''} | **${outside.length === 0 ? 'met' : 'missed'}** |`);
  const gcBronze = r.afterGc.layers.bronze?.currentSeasonBytes ?? 0;
  p(`| bronze bytes of season ${CURRENT} after GC ≤ 2× the season's upstream files | ${mib(gcBronze)} live (before GC ${mib(r.afterSeason.layers.bronze?.currentSeasonBytes ?? 0)}) / ${mib(r.upstreamCurrent)} = ${(gcBronze / r.upstreamCurrent).toFixed(2)}× | **${gcBronze <= 2 * r.upstreamCurrent ? 'met' : 'missed'}** |`);
  if (r.compare) p(`| replayed silver and gold = from-scratch of the final state, row for row | ${r.compare.tables.length} tables, ${r.compare.tables.filter((t) => t.onlyA === 0 && t.onlyB === 0 && !t.missingIn).length} equal | **${r.compare.equal ? 'met' : 'missed'}** |`);
  else p('| replayed silver and gold = from-scratch of the final state, row for row | not run here (BENCH_SCALE_FRESH=0) | — |');
  p();
  p('### Steps');
  p();
  p('| step | wall | CPU | peak RSS |');
  p('| --- | --- | --- | --- |');
  for (const s of r.steps) p(`| ${s.floor ? '*' : ''}${s.label}${s.floor ? '*' : ''} | ${secs(s.wallS)} | ${secs(s.cpuS)} | ${gib(s.maxRssKb)} |`);
  p();
  p(`*Italic* rows are floors: raw DuckDB in the same run. The bronze floor reads the same upstream files from disk (no HTTP, no hashing, no stamps, no Delta log) and writes each once, partitioned like bronze; the silver floor reads the bootstrap's bronze Parquet files and writes each dataset's rows deduplicated like the promote (no silver rule transforms, no quality gates, no Delta log).`);
  p();
  p('### Peak RSS against the number of seasons');
  p();
  p(`| step | ${YEARS} | ${SMALL} |`);
  p('| --- | --- | --- |');
  for (const [name, a, b] of [['bootstrap', bootstrap, byLabel(`bootstrap ${SMALL}`)], ['promote', promote, byLabel(`promote (${SMALL}`)], ['build-gold', gold, byLabel(`build-gold (${SMALL}`)]]) {
    if (a && b) p(`| ${name} | ${gib(a.maxRssKb)} (${secs(a.wallS)}) | ${gib(b.maxRssKb)} (${secs(b.wallS)}) |`);
  }
  p();
  p('### Layers');
  p();
  p('| layer | after | tables | live files | rows | live bytes | on disk | current-season bytes |');
  p('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [when, m] of [['full history', r.afterFull], ['replayed season', r.afterSeason], ['gc', r.afterGc], ['gc + optimize', r.afterOptimize]]) {
    for (const [layer, l] of Object.entries(m.layers)) p(`| ${layer} | ${when} | ${l.tables} | ${l.files.toLocaleString('en-US')} | ${l.rows.toLocaleString('en-US')} | ${mib(l.bytes)} | ${mib(l.diskBytes)} | ${mib(l.currentSeasonBytes)} |`);
  }
  p();
  const worst = (m) => m.tables.filter((t) => t.layer !== 'bronze').reduce((w, t) => (t.maxFilesPerPartition > (w?.maxFilesPerPartition ?? -1) ? t : w), undefined);
  const ws = worst(r.afterSeason);
  const wo = worst(r.afterOptimize);
  p(`Most files in one partition of a silver/gold table: ${ws ? `${ws.table} ${ws.maxFilesPerPartition} after the season` : '—'}, ${wo ? `${wo.table} ${wo.maxFilesPerPartition} after optimize` : '—'}. Bronze bytes of season ${CURRENT} (live files, every bronze table): ${mib(r.afterSeason.layers.bronze?.currentSeasonBytes ?? 0)} after the season, ${mib(r.afterGc.layers.bronze?.currentSeasonBytes ?? 0)} after GC; the season's upstream files (per-season files of ${CURRENT} in the final release) total ${mib(r.upstreamCurrent)}. GC'd files stay on disk ("on disk" above) until \`lake vacuum\` passes the 7-day retention.`);
  p();
  p(`Full-table query (\`lake sql\` GROUP BY season over silver.pbp, median of 3 processes): before optimize ${secs(r.queryBefore.wallS)}, after ${secs(r.queryAfter.wallS)}.`);
  p();
  p('### Nights');
  p();
  p('| night | day | upstream files changed | runs (wall) | peak RSS | commits | seasons touched: bronze / silver / gold |');
  p('| --- | --- | --- | --- | --- | --- | --- |');
  for (const n of r.nights) {
    const runs = n.runs.map((x) => `${x.label.replace(/^night \d+ /, '')} ${secs(x.wallS)}`).join(', ');
    const t = n.touched;
    p(`| ${n.k}${n.thursday ? ' (Thu)' : ''} | ${n.today} | ${n.changedFiles} | ${runs} | ${gib(Math.max(...n.runs.map((x) => x.maxRssKb)))} | ${t.commits} | ${t.bronze.join(',') || '—'} / ${t.silver.join(',') || '—'} / ${t.gold.join(',') || '—'}${t.unpartitionedFileActions ? ` (+${t.unpartitionedFileActions} unpartitioned file actions)` : ''} |`);
  }
  p();
  p(`Bronze partitions of past seasons were written on ${bronzeOutside.length} of ${r.nights.length} nights: nflverse publishes some datasets as one file over every season (schedules, draft picks, officials, NGS, …), and bronze keeps every upstream file whole, so a change to such a file appends all its seasons again; the promote then replaces only the partitions whose rows changed.`);
  p();
  if (!r.compare) {
    p('<!-- scale:end -->');
    return `${lines.join('\n')}\n`;
  }
  p('### Replayed lake against a from-scratch lake of the final state');
  p();
  p('Rows compared as multisets over every column except the lineage stamps (source, ingested_at, pipeline_version, upstream_version, run_id), which name the batch that last changed a row: a streamed digest per table (row count and the sum of the rows\' hashes), and EXCEPT ALL both ways where the digests differ (-1: they differ, but the row-by-row diff did not fit in memory).');
  p();
  p('| table | rows (replayed) | rows (from scratch) | only in replayed | only in from-scratch |');
  p('| --- | --- | --- | --- | --- |');
  for (const t of r.compare?.tables ?? []) p(`| ${t.table} | ${t.rowsA ?? '—'} | ${t.rowsB ?? '—'} | ${t.onlyA ?? (t.missingIn === 'B' ? 'table' : '—')} | ${t.onlyB ?? (t.missingIn === 'A' ? 'table' : '—')} |`);
  p();
  p('<!-- scale:end -->');
  return `${lines.join('\n')}\n`;
}

