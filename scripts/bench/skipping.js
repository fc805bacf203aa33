#!/usr/bin/env node
// Data skipping by file stats (issue 17): point lookups and ranges on non-partition columns of a
// pbp-shaped table, read by our native reader with skipping, the same reader without it
// (BENCH_DATA_SKIPPING=off), and DuckDB's delta extension (delta-kernel's own skipping). Each side
// runs in fresh processes through scripts/bench/workers/readers-ours.js, interleaved; every run
// must return the same rows. Writes only the `<!-- skipping:begin -->` block of BENCHMARKS.md.
// Run after a build: `npx tsc -p tsconfig.build.json && node scripts/bench/skipping.js`.
//
//   BENCH_SKIPPING_SEASONS=6  BENCH_SKIPPING_ROWS=50000    staged seasons × rows per season (a full-size pbp season, 18 weeks)
//   BENCH_SKIPPING_FILE_ROWS=2800                          rows per data file: a week of plays, as weekly appends write
//   BENCH_SKIPPING_REPS=15                                 interleaved rounds (cold and warm each)
//   BENCH_SKIPPING_TABLE=<path>                            reuse a table an earlier run kept (BENCH_KEEP=1): no staging, no write
//   BENCH_TMP, BENCH_OUT, BENCH_KEEP=1                     as for run.js
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { interleave, log, pairedRatio, pairedText, repoRoot, replaceMarkedBlock, runWorker, settle, summarize, worker } from './lib.js';
import { FIRST_SEASON } from './pbp-schema.js';
import { skippingQueries } from './reader-queries.js';

const SEASONS = Number(process.env.BENCH_SKIPPING_SEASONS ?? 6);
const ROWS = Number(process.env.BENCH_SKIPPING_ROWS ?? 50_000);
const FILE_ROWS = Number(process.env.BENCH_SKIPPING_FILE_ROWS ?? 2_800);
const REPS = Number(process.env.BENCH_SKIPPING_REPS ?? 15);
const WARM_REPEAT = 5;
const OUT = process.env.BENCH_OUT ?? path.join(repoRoot, 'BENCHMARKS.md');

const SIDES = [
  ['skipping', 'native', 'on'],
  ['no skipping', 'native', 'off'],
  ['extension', 'extension', 'on'],
];

const ms = (x) => `${Math.round(x)} ms`;
const ratio = (a, b) => `${(a / b).toFixed(2)}×`;

async function main() {
  const tmp = mkdtempSync(path.join(process.env.BENCH_TMP ?? os.tmpdir(), 'nfl-lakehouse-skipping-'));
  const startedAt = new Date();
  try {
    const staging = path.join(tmp, 'staging.parquet');
    const reuse = process.env.BENCH_SKIPPING_TABLE;
    if (!reuse) {
      log(`skipping: staging ${SEASONS} seasons × ${ROWS} rows`);
      await runWorker(worker('stage.js', staging, SEASONS, ROWS));
    }
    const season = FIRST_SEASON + Math.floor(SEASONS / 2);
    const table = reuse ? path.resolve(reuse) : path.join(tmp, 'pbp');
    const setup = await runWorker(worker('skipping-setup.js', table, reuse ? '-' : staging, FILE_ROWS, season));
    rmSync(staging, { force: true });
    log(`skipping: table of ${setup.files} files; files with matches ${JSON.stringify(setup.matching)}`);
    await settle();
    const results = {};
    for (const [id, query] of Object.entries(skippingQueries(table, { season }))) {
      const runs = {};
      for (const mode of ['cold', 'warm']) {
        const sides = {};
        for (const [name, reader, skipping] of SIDES) {
          sides[`${name}/${mode}`] = () => runWorker(worker('readers-ours.js', table, id, reader, mode, setup.version, season, WARM_REPEAT), { env: { BENCH_DATA_SKIPPING: skipping } });
        }
        Object.assign(runs, await interleave(REPS, sides, (side, rep, r) => log(`skipping ${id} ${side} #${rep + 1}: ${r.ms.toFixed(0)} ms, files read ${r.filesRead}`)));
      }
      const expected = JSON.stringify(runs['no skipping/cold'][0].rows);
      for (const [side, list] of Object.entries(runs)) {
        for (const r of list) if (JSON.stringify(r.rows) !== expected) throw new Error(`skipping: ${query.label}: ${side} returned ${JSON.stringify(r.rows)}, no skipping ${expected}`);
      }
      const paired = Object.fromEntries(['cold', 'warm'].map((mode) => [mode, pairedRatio(runs[`skipping/${mode}`], runs[`no skipping/${mode}`], { limit: 0.5 })]));
      results[id] = { query, paired, rows: runs['no skipping/cold'][0].rows, sides: Object.fromEntries(Object.entries(runs).map(([side, list]) => [side, { ...summarize(list), filesRead: list[0].filesRead[0] }])) };
    }
    const block = render({ setup, results, season, startedAt, finishedAt: new Date() });
    const previous = (() => {
      try {
        return readFileSync(OUT, 'utf8');
      } catch {
        return '';
      }
    })();
    writeFileSync(OUT, replaceMarkedBlock(previous, 'skipping', block));
    process.stdout.write(block);
    log(`wrote the skipping block of ${OUT}`);
  } finally {
    if (process.env.BENCH_KEEP === '1') log(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}

function render({ setup, results, startedAt, finishedAt }) {
  const lines = ['<!-- skipping:begin -->', '## Data skipping by file stats (issue 17)', ''];
  lines.push(
    `Generated by \`node scripts/bench/skipping.js\` on ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC (${((finishedAt - startedAt) / 60000).toFixed(1)} min), load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.availableParallelism()} cores. ` +
      `Table: the bench's pbp-shaped rows (${SEASONS} seasons × ${ROWS.toLocaleString('en-US')} rows, 372 columns), partitioned by season, sorted by game_id, files of ≤ ${FILE_ROWS.toLocaleString('en-US')} rows: ${setup.files} files. ` +
      `Wall median (min–max) / CPU median of ${REPS} interleaved fresh processes per side; cold = the process's first query, warm = median of ${WARM_REPEAT} repeats after a warm-up query. "no skipping" is the native reader with \`dataSkipping: false\` (partition pruning still on). ` +
      'The ratios are of the medians; the last column takes skipping / no skipping within each interleaved round (every round runs each side once), then the median and quartiles of those, which cancels load that changes between rounds.',
    '',
  );
  lines.push('| query | run | files with matches | files read (skipping) | skipping | no skipping | delta extension | skipping / no skipping | skipping / extension | CPU skipping / no skipping | skipping / no skipping, paired per round |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [id, r] of Object.entries(results)) {
    for (const mode of ['cold', 'warm']) {
      const [on, off, ext] = ['skipping', 'no skipping', 'extension'].map((s) => r.sides[`${s}/${mode}`]);
      const cell = (s) => `${ms(s.ms)} (${ms(s.minMs)}–${ms(s.maxMs)}) / ${ms(s.cpuMs)}`;
      lines.push(`| ${r.query.label} | ${mode} | ${setup.matching[id]} | ${on.filesRead} of ${off.filesRead} | ${cell(on)} | ${cell(off)} | ${cell(ext)} | **${ratio(on.ms, off.ms)}** | **${ratio(on.ms, ext.ms)}** | ${ratio(on.cpuMs, off.cpuMs)} | ${pairedText(r.paired[mode], 0.5)} |`);
    }
  }
  lines.push('');
  lines.push(`Same answer from every run of every side: ${Object.values(results).map((r) => `${r.query.label.split(' ')[0]} ${JSON.stringify(r.rows[0])}`).join('; ')}. Targets (issue 17): files read ≤ files with matches, ≤ 0.5× the time without skipping, faster than the delta extension.`);
  lines.push('<!-- skipping:end -->', '');
  return lines.join('\n');
}

main().catch((error) => {
  process.stderr.write(`skipping bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
