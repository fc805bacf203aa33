#!/usr/bin/env node
// Reads at Parquet speed (issue 17): the snapshot load of the 10,000-commit / 100,000-file log
// and the time-travel count + sum, the two read benchmarks of `npm run bench`, run on their own
// with the sides interleaved, plus what the full bench leaves out: the checkpoint cache a lake
// keeps (src/engine/checkpoint-cache.ts) and warm time travel (the lake's read cache,
// src/table/read-cache.ts). Writes only the `<!-- reads:begin -->` block of BENCHMARKS.md.
// Run after a build: `npx tsc -p tsconfig.build.json && node scripts/bench/reads.js`.
//
//   BENCH_READS_REPS=11                  interleaved rounds per benchmark
//   BENCH_READS_LOG=<table root>        reuse a generated 10,000-commit log (else generated, ~20 s)
//   BENCH_READS_TRAVEL=<dir>            reuse a time-travel table + travel-files.json kept in <dir>/travel (else staged and written, ~1 min)
//   BENCH_READS_ONLY=travel             run only the time-travel benchmark and print its rows (BENCHMARKS.md untouched)
//   BENCH_TMP, BENCH_OUT, BENCH_KEEP=1  as for run.js
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { interleave, log, pairedRatio, pairedText, repoRoot, replaceMarkedBlock, runWorker, settle, summarize, worker } from './lib.js';
import { FIRST_SEASON } from './pbp-schema.js';

const REPS = Number(process.env.BENCH_READS_REPS ?? 11);
const WARM_REPEAT = 5;
const OUT = process.env.BENCH_OUT ?? path.join(repoRoot, 'BENCHMARKS.md');
// The sizes of `npm run bench` at its default (medium) scale (SCALES in run.js, which runs when imported).
const scale = { commits: 10_000, addsPerCommit: 10, checkpointInterval: 100, oldVersion: 5_000, seasons: 27, rowsPerSeason: 10_000 };

const ms = (x) => `${Math.round(x)} ms`;
const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
const verdict = (ok) => (ok ? '**met**' : '**missed**');

async function snapshotLog(tmp) {
  if (process.env.BENCH_READS_LOG) return { table: path.resolve(process.env.BENCH_READS_LOG), generated: false };
  const table = path.join(tmp, 'snapshot-table');
  log(`reads: generating ${scale.commits} commits × ${scale.addsPerCommit} adds`);
  await runWorker(worker('log-gen.js', table, scale.commits, scale.addsPerCommit, scale.checkpointInterval, scale.oldVersion));
  return { table, generated: true };
}

async function travelTable(tmp) {
  const dir = process.env.BENCH_READS_TRAVEL ? path.resolve(process.env.BENCH_READS_TRAVEL) : tmp;
  const table = path.join(dir, 'travel');
  const filesJson = path.join(dir, 'travel-files.json');
  if (existsSync(filesJson)) return { table, filesJson, version: 1 };
  const staging = path.join(dir, 'staging.parquet');
  log(`reads: staging ${scale.seasons} seasons × ${scale.rowsPerSeason} rows, writing the time-travel table`);
  await runWorker(worker('stage.js', staging, scale.seasons, scale.rowsPerSeason));
  await runWorker(worker('write-ours.js', table, staging));
  const setup = await runWorker(worker('travel-setup.js', table, staging, filesJson, FIRST_SEASON, FIRST_SEASON + scale.seasons - 1));
  rmSync(staging, { force: true });
  return { table, filesJson, version: setup.queriedVersion };
}

async function snapshotBench(table, cacheDir) {
  await settle();
  const out = {};
  for (const version of ['latest', String(scale.oldVersion)]) {
    // The cache a lake keeps is filled by the first load of a checkpoint: fill it untimed.
    await runWorker(worker('snapshot-ours.js', table, version, '--no-stats', '--cache', cacheDir));
    await runWorker(worker('snapshot-ours.js', table, version, '--cache', cacheDir));
    const sides = {
      'ours, read (no stats), cached': () => runWorker(worker('snapshot-ours.js', table, version, '--no-stats', '--cache', cacheDir)),
      'ours, with stats, cached': () => runWorker(worker('snapshot-ours.js', table, version, '--cache', cacheDir)),
      'ours, read (no stats), first load (no cache)': () => runWorker(worker('snapshot-ours.js', table, version, '--no-stats')),
      'delta-rs': () => runWorker(worker('snapshot-deltars.py', table, version)),
    };
    const runs = await interleave(REPS, sides, (side, rep, r) => log(`snapshot ${version} ${side} #${rep + 1}: ${ms(r.ms)}`));
    const files = new Set(Object.values(runs).flatMap((list) => list.map((r) => r.files ?? r.count ?? r.fileCount)).filter((n) => n !== undefined));
    out[version] = { runs, files: [...files] };
  }
  return out;
}

/** Our time-travel runs, each judged against the read_parquet side `travelBaseline` names. */
const TRAVEL_KINDS = ['cold', 'cold, first read', 'warm'];
const travelBaseline = (kind) => `read_parquet, ${kind === 'warm' ? 'warm' : 'cold'}`;

async function travelBench({ table, filesJson, version }) {
  await settle();
  const sides = {
    'ours (native), cold': () => runWorker(worker('travel-ours.js', table, version), { env: { LAKE_READER: 'native' } }),
    'ours (native), cold, first read': () => runWorker(worker('travel-ours.js', table, version, '--first-read'), { env: { LAKE_READER: 'native' } }),
    'read_parquet, cold': () => runWorker(worker('travel-duckdb.js', filesJson)),
    'ours (native), warm': () => runWorker(worker('travel-ours.js', table, version, '--warm', WARM_REPEAT), { env: { LAKE_READER: 'native' } }),
    'read_parquet, warm': () => runWorker(worker('travel-duckdb.js', filesJson, '--warm', WARM_REPEAT)),
    'read_parquet with footer cache, warm': () => runWorker(worker('travel-duckdb.js', filesJson, '--warm', WARM_REPEAT, '--footer-cache')),
  };
  const runs = await interleave(REPS, sides, (side, rep, r) => log(`time travel ${side} #${rep + 1}: ${ms(r.ms)}`));
  const answers = new Set(Object.values(runs).flatMap((list) => list.map((r) => `${r.count}/${r.sum}`)));
  if (answers.size !== 1) throw new Error(`time travel: the sides disagree: ${[...answers].join(', ')}`);
  return { runs, answer: [...answers][0], files: runs['read_parquet, cold'][0].filesRead };
}

function render({ startedAt, finishedAt, loadStart, loadEnd, snapshot, travel }) {
  const load = (l) => l.map((x) => x.toFixed(1)).join(' ');
  const lines = ['<!-- reads:begin -->', '## Reads at Parquet speed: snapshot load and time travel (issue 17)', ''];
  lines.push(
    `Generated by \`node scripts/bench/reads.js\` on ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC (${((finishedAt - startedAt) / 60000).toFixed(1)} min), ` +
      `load average ${load(loadStart)} at the start and ${load(loadEnd)} at the end, on ${os.availableParallelism()} cores. ` +
      `${REPS} interleaved rounds; each run is a fresh process; wall median (min–max) / CPU median; the time is taken inside the process around the measured call only.`,
    '',
    '### Snapshot load of the 10,000-commit / 100,000-file log',
    '',
    'The log of `npm run bench` section 2 (`scripts/bench/workers/log-gen.js`). *cached*: the checkpoint read from the parsed-checkpoint cache a lake keeps in its temp folder ' +
      '(filled by one untimed load first; adds kept as columns, one object built per active file); *first load*: the checkpoint read by DuckDB (what the first read of a new checkpoint pays). ' +
      '*read (no stats)* is what `lake sql` loads; *with stats* what a writer loads.',
    '',
    '| version | side | wall | CPU | peak RSS | vs delta-rs (wall) | vs delta-rs (CPU) | < 300 ms | ≤ 0.5× delta-rs |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const [version, { runs }] of Object.entries(snapshot)) {
    const base = summarize(runs['delta-rs']);
    for (const [side, list] of Object.entries(runs)) {
      const s = summarize(list);
      const ours = side !== 'delta-rs';
      lines.push(
        `| ${version === 'latest' ? 'latest (v9999)' : `v${version}`} | ${side} | ${ms(s.ms)} (${ms(s.minMs)}–${ms(s.maxMs)}) | ${ms(s.cpuMs)} | ${Math.round(s.peakRssKb / 1024)} MB | ` +
          `${ours ? ratio(s.ms, base.ms) : '1.00×'} | ${ours ? ratio(s.cpuMs, base.cpuMs) : '1.00×'} | ${ours ? verdict(s.ms < 300) : ''} | ${ours ? verdict(s.ms <= 0.5 * base.ms) : ''} |`,
      );
    }
  }
  const files = Object.entries(snapshot).map(([v, r]) => `${v}: ${r.files.join('/')} files`).join('; ');
  lines.push('', `Every side returned the same file count per version (${files}).`, '');
  lines.push(
    '### Time travel: count + sum at an old version',
    '',
    `The time-travel table of \`npm run bench\` section 3 (27 seasons × 10,000 pbp-shaped rows, 372 columns, now at version 3), queried at version 1 (${travel.files} files): ` +
      "`runQuery(lake, \"SELECT count(*), sum(epa) FROM delta_scan('<table>', version => 1)\")` against DuckDB's `read_parquet([<the same files>])`, both timed up to the rows as JS values. " +
      "*cold*: the process's first query, the query prepared by an earlier process (the lake keeps prepared queries in its temp folder, keyed by the query and each version's commit file: this process stats one commit file, reads the SQL and runs it); " +
      "*cold, first read*: the same with the lake's folder of prepared queries emptied first (the log replayed, the SQL analysed and the scan planned in this process); " +
      `*warm*: the median of ${WARM_REPEAT} repeats after one untimed run in the same process (ours then reads from the lake's read cache: a version-pinned query finds its snapshot and SQL there without listing the log, one stat of its commit file; ` +
      "and DuckDB keeps the data files' Parquet footers, `parquet_metadata_cache`, which the lake's engines turn on because a Delta table's files are never rewritten in place). " +
      "*read_parquet* is DuckDB with its defaults (footer cache off); the last row gives the warm baseline the same footer cache, to show what of the warm ratio is that setting. " +
      "*ratio* is of the two medians; *paired ratio* takes ours / read_parquet within each round (every round runs each side once), then the median and quartiles of those: it cancels load that changes between rounds.",
    '',
    '| run | ours (native) | read_parquet | ratio (wall) | ratio (CPU) | ≤ 1.05× | paired ratio (wall), per round |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  );
  const row = (label, oursRuns, baseRuns) => {
    const [o, d] = [summarize(oursRuns), summarize(baseRuns)];
    const paired = pairedText(pairedRatio(oursRuns, baseRuns, { limit: 1.05 }), 1.05);
    lines.push(`| ${label} | ${ms(o.ms)} (${ms(o.minMs)}–${ms(o.maxMs)}) / ${ms(o.cpuMs)} | ${ms(d.ms)} (${ms(d.minMs)}–${ms(d.maxMs)}) / ${ms(d.cpuMs)} | ${ratio(o.ms, d.ms)} | ${ratio(o.cpuMs, d.cpuMs)} | ${verdict(o.ms <= 1.05 * d.ms)} | ${paired} |`);
  };
  for (const kind of TRAVEL_KINDS) row(kind, travel.runs[`ours (native), ${kind}`], travel.runs[travelBaseline(kind)]);
  row('warm, against read_parquet with the footer cache on', travel.runs['ours (native), warm'], travel.runs['read_parquet with footer cache, warm']);
  lines.push('', `Same answer (count/sum) from every run of every side: ${travel.answer}.`, '<!-- reads:end -->');
  return lines.join('\n');
}

async function main() {
  const tmp = mkdtempSync(path.join(process.env.BENCH_TMP ?? os.tmpdir(), 'nfl-lakehouse-reads-'));
  const startedAt = new Date();
  const loadStart = os.loadavg();
  try {
    if (process.env.BENCH_READS_ONLY === 'travel') {
      const travel = await travelBench(await travelTable(tmp));
      for (const [side, list] of Object.entries(travel.runs)) {
        const s = summarize(list);
        const main = list.every((r) => typeof r.mainCpuMs === 'number') ? ` / main thread CPU ${summarize(list, 'mainCpuMs').ms.toFixed(1)} ms` : '';
        process.stdout.write(`${side}: ${ms(s.ms)} (${ms(s.minMs)}–${ms(s.maxMs)}) / CPU ${ms(s.cpuMs)}${main}\n`);
      }
      for (const kind of TRAVEL_KINDS) {
        const p = pairedRatio(travel.runs[`ours (native), ${kind}`], travel.runs[travelBaseline(kind)], { limit: 1.05 });
        process.stdout.write(`paired ${kind}: ${pairedText(p, 1.05)}\n`);
      }
      process.stdout.write(`answer ${travel.answer}, ${travel.files} files\n`);
      return;
    }
    const { table } = await snapshotLog(tmp);
    const cacheDir = path.join(tmp, 'checkpoint-cache');
    mkdirSync(cacheDir, { recursive: true });
    const snapshot = await snapshotBench(table, cacheDir);
    const travel = await travelBench(await travelTable(tmp));
    const finishedAt = new Date();
    const block = render({ startedAt, finishedAt, loadStart, loadEnd: os.loadavg(), snapshot, travel });
    let previous = '';
    try {
      previous = readFileSync(OUT, 'utf8');
    } catch {
      // a new file
    }
    writeFileSync(OUT, replaceMarkedBlock(previous, 'reads', block));
    process.stdout.write(`${block}\n`);
  } finally {
    if (!process.env.BENCH_KEEP) rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
