#!/usr/bin/env node
// `npm run bench`: measures our writer, snapshot loader and time-travel reads against named
// baselines in the same run (docs/design.md "Standards") and regenerates BENCHMARKS.md.
//
//   BENCH_SCALE=medium (default) | full | small    size of the write benchmark (see SCALES)
//   BENCH_TMP=/some/dir                            where the temp data goes (default: os.tmpdir())
//   BENCH_KEEP=1                                   keep the temp data (default: removed)
//   BENCH_OUT=path                                 where to write the report (default: BENCHMARKS.md)
//
// Every side of every benchmark runs in its own child process (scripts/bench/workers/), so peak
// RSS is per side; timings are taken inside the child around the measured call only.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { DuckDBInstance } from '@duckdb/node-api';
import { hasGnuTime, interleave, log, markedBlocks, median, pairedRatio, python, repoRoot, runWorker, settle, summarize, worker } from './lib.js';
import { FIRST_SEASON, pbpColumns } from './pbp-schema.js';
import { readerQueries } from './reader-queries.js';
import { renderReport } from './report.js';

/**
 * Full scale (27 seasons × 50,000 rows of 372 columns) takes well over 8 minutes on the 2-core
 * reference machine for the write benchmark alone (staging ~1 min and each writer ~1 min per
 * 270,000 rows), so the default is `medium`: all 27 season partitions, 10,000 rows each. The
 * snapshot benchmark runs at its full size in medium and full.
 */
export const SCALES = {
  small: { seasons: 3, rowsPerSeason: 5_000, writeReps: 2, commits: 1_000, addsPerCommit: 10, checkpointInterval: 100, oldVersion: 500, snapshotReps: 3, travelReps: 3, readerReps: { cold: 3, warm: 3, repeat: 3 } },
  medium: { seasons: 27, rowsPerSeason: 10_000, writeReps: 3, commits: 10_000, addsPerCommit: 10, checkpointInterval: 100, oldVersion: 5_000, snapshotReps: 5, travelReps: 21, readerReps: { cold: 11, warm: 7, repeat: 5 } },
  full: { seasons: 27, rowsPerSeason: 50_000, writeReps: 1, commits: 10_000, addsPerCommit: 10, checkpointInterval: 100, oldVersion: 5_000, snapshotReps: 5, travelReps: 21, readerReps: { cold: 11, warm: 7, repeat: 5 } },
};

const scaleName = process.env.BENCH_SCALE ?? 'medium';
const scale = SCALES[scaleName];
if (!scale) {
  process.stderr.write(`error [USAGE]: BENCH_SCALE must be one of ${Object.keys(SCALES).join(', ')}, got '${scaleName}'\n`);
  process.exit(2);
}

function capture(file, argv) {
  try {
    return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

async function environment() {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const duckdbVersion = (await connection.runAndReadAll('SELECT version()')).getRowsJS()[0][0];
  connection.closeSync();
  instance.closeSync();
  const nodeApi = JSON.parse(readFileSync(path.join(repoRoot, 'node_modules', '@duckdb', 'node-api', 'package.json'), 'utf8')).version;
  const py = capture(python, ['-c', 'import deltalake, pyarrow, sys; print(deltalake.__version__, pyarrow.__version__, sys.version.split()[0])'])?.split(' ') ?? [];
  const commit = capture('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD']);
  const dirty = capture('git', ['-C', repoRoot, 'status', '--porcelain', '--untracked-files=no', 'src']) ? ' (src/ has uncommitted changes)' : '';
  return {
    nproc: capture('nproc', []) ?? String(os.availableParallelism()),
    memTotalGb: os.totalmem() / 1024 ** 3,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    nodeApi,
    duckdb: String(duckdbVersion),
    deltalake: py[0] ?? 'missing',
    pyarrow: py[1] ?? 'missing',
    python: py[2] ?? 'missing',
    commit: `${commit ?? 'unknown'}${dirty}`,
    gnuTime: hasGnuTime,
  };
}

const progress = (bench) => (side, rep, result) => log(`${bench} ${side} #${rep + 1}: ${result.ms.toFixed(0)} ms, peak RSS ${(result.peakRssKb / 1024).toFixed(0)} MB`);

async function writeBench(tmp) {
  const staging = path.join(tmp, 'staging.parquet');
  log(`write: staging ${scale.seasons} seasons × ${scale.rowsPerSeason} rows`);
  const stage = await runWorker(worker('stage.js', staging, scale.seasons, scale.rowsPerSeason));
  log(`write: staged ${stage.rows} rows × ${stage.columns} columns in ${(stage.ms / 1000).toFixed(1)} s`);
  const target = (side, rep) => path.join(tmp, `write-${side}-${rep}`);
  const sides = {
    ours: (rep) => runWorker(worker('write-ours.js', target('ours', rep), staging)),
    duckdb: (rep) => runWorker(worker('write-duckdb.js', target('duckdb', rep), staging)),
    deltars: (rep) => runWorker(worker('write-deltars.py', target('deltars', rep), staging)),
  };
  const runs = await interleave(scale.writeReps, sides, progress('write'));
  // Keep one table of ours for the time-travel benchmark, drop the rest now (disk).
  for (let rep = 0; rep < scale.writeReps; rep++) {
    for (const side of ['duckdb', 'deltars']) rmSync(target(side, rep), { recursive: true, force: true });
    if (rep > 0) rmSync(target('ours', rep), { recursive: true, force: true });
  }
  return { stage, runs, table: target('ours', 0), staging };
}

/** LAKE_READER values our side of the time-travel benchmark runs with (docs/design.md decision 5). */
const READERS = ['native', 'extension'];

async function travelBench(tmp, table, staging) {
  const lastSeason = FIRST_SEASON + scale.seasons - 1;
  const filesJson = path.join(tmp, 'travel-files.json');
  const setup = await runWorker(worker('travel-setup.js', table, staging, filesJson, FIRST_SEASON, lastSeason));
  log(`time travel: table now at version ${setup.latestVersion}; querying version ${setup.queriedVersion} (${setup.files} files)`);
  const ours = (reader, ...extra) => runWorker(worker('travel-ours.js', table, setup.queriedVersion, ...extra), { env: { LAKE_READER: reader } });
  const sides = { duckdb: () => runWorker(worker('travel-duckdb.js', filesJson)) };
  const unavailable = {};
  for (const reader of READERS) {
    try {
      await ours(reader);
      sides[reader] = () => ours(reader);
    } catch (error) {
      unavailable[reader] = String(error instanceof Error ? error.message : error).split('\n').find((l) => /error|Error/.test(l)) ?? 'failed';
      log(`time travel: reader ${reader} unavailable: ${unavailable[reader]}`);
    }
  }
  await settle();
  const runs = await interleave(scale.travelReps, sides, progress('time travel'));
  const profiles = {};
  for (const reader of READERS.filter((r) => sides[r])) {
    profiles[reader] = [];
    for (let i = 0; i < 3; i++) profiles[reader].push(await ours(reader, '--profile'));
  }
  return { setup, runs, profiles, unavailable };
}

/**
 * Readers (issue 8): each query of reader-queries.js through runQuery with reader native,
 * extension and auto, cold (the process's first query) and warm (after an untimed first query
 * through the same reader; median of `repeat` timed queries in that process), plus auto in a
 * process whose first query loaded the extension.
 * Every run of every side must return the same rows, else the bench fails.
 */
const READER_SIDES = [
  ['native', 'cold'],
  ['extension', 'cold'],
  ['auto', 'cold'],
  ['native', 'warm'],
  ['extension', 'warm'],
  ['auto', 'warm'],
  ['auto', 'warm-loaded'],
];

async function readersBench(table, setup) {
  const at = { version: setup.queriedVersion, season: FIRST_SEASON + Math.floor(scale.seasons / 2) };
  const queries = readerQueries(table, at);
  const run = (id, reader, mode) => runWorker(worker('readers-ours.js', table, id, reader, mode, at.version, at.season, scale.readerReps.repeat));
  let unavailable;
  try {
    await run('pruned', 'extension', 'cold');
  } catch (error) {
    unavailable = String(error instanceof Error ? error.message : error).split('\n').find((l) => /error|Error/.test(l)) ?? 'failed';
    log(`readers: extension reader unavailable (${unavailable}); measuring native and auto only`);
  }
  await settle();
  const result = {};
  for (const [id, query] of Object.entries(queries)) {
    // Cold and warm sides interleaved separately: a cold run is one sample per process, so it gets more runs.
    const runs = {};
    for (const kind of ['cold', 'warm']) {
      const sides = {};
      for (const [reader, mode] of READER_SIDES) {
        if (mode.startsWith('warm') !== (kind === 'warm')) continue;
        if (unavailable && (reader === 'extension' || mode === 'warm-loaded')) continue;
        sides[`${reader}/${mode}`] = () => run(id, reader, mode);
      }
      Object.assign(runs, await interleave(scale.readerReps[kind], sides, progress(`readers ${id}`)));
    }
    // Same rows from every reader, cold or warm, every run: a difference is a bug, not noise.
    const expected = JSON.stringify(runs['native/cold'][0].rows);
    for (const [side, list] of Object.entries(runs)) {
      list.forEach((r, i) => {
        if (JSON.stringify(r.rows) !== expected) {
          throw new Error(`readers: ${query.label}: ${side} run ${i + 1} returned different rows than native/cold:\n  native/cold: ${expected.slice(0, 500)}\n  ${side}: ${JSON.stringify(r.rows).slice(0, 500)}`);
        }
      });
    }
    result[id] = {
      label: query.label,
      sql: query.sql.replaceAll(table, '<table>'),
      rows: runs['native/cold'][0].rows,
      columns: runs['native/cold'][0].columns,
      sides: Object.fromEntries(
        Object.entries(runs).map(([side, list]) => [
          side,
          { ...summarize(list), servedBy: [...new Set(list.flatMap((r) => r.servedBy))], filesRead: list[0].filesRead },
        ]),
      ),
    };
  }
  return { at, queries: result, unavailable, sides: READER_SIDES.map(([r, m]) => `${r}/${m}`) };
}

async function snapshotBench(tmp) {
  const table = path.join(tmp, 'snapshot-table');
  log(`snapshot: generating ${scale.commits} commits × ${scale.addsPerCommit} adds, checkpoint every ${scale.checkpointInterval}`);
  const gen = await runWorker(worker('log-gen.js', table, scale.commits, scale.addsPerCommit, scale.checkpointInterval, scale.oldVersion));
  log(`snapshot: log generated in ${(gen.ms / 1000).toFixed(1)} s`);
  await settle();
  const result = {};
  // Our sides read checkpoints through the parsed-checkpoint cache, as a lake does (it lives in the
  // lake's temp folder); one untimed load per version and mode fills it. `node scripts/bench/reads.js`
  // also times the first load, without the cache.
  const cache = path.join(tmp, 'checkpoint-cache');
  for (const version of ['latest', String(scale.oldVersion)]) {
    for (const mode of [[], ['--no-stats']]) await runWorker(worker('snapshot-ours.js', table, version, ...mode, '--cache', cache));
    const sides = {
      ours: () => runWorker(worker('snapshot-ours.js', table, version, '--cache', cache)),
      oursNoStats: () => runWorker(worker('snapshot-ours.js', table, version, '--no-stats', '--cache', cache)),
      deltars: () => runWorker(worker('snapshot-deltars.py', table, version)),
    };
    const runs = await interleave(scale.snapshotReps, sides, progress(`snapshot ${version}`));
    // The read path's snapshot must name the same files; only the stats are left out.
    for (const r of runs.oursNoStats) {
      if (r.files !== runs.ours[0].files || r.version !== runs.ours[0].version || r.statsLoaded !== false) {
        throw new Error(`snapshot ${version}: the no-stats load returned ${r.files} files at v${r.version} (statsLoaded ${r.statsLoaded}), the full load ${runs.ours[0].files} files at v${runs.ours[0].version}`);
      }
    }
    const profiles = [];
    const profilesNoStats = [];
    for (let i = 0; i < 3; i++) {
      profiles.push(await runWorker(worker('snapshot-ours.js', table, version, '--profile', '--cache', cache)));
      profilesNoStats.push(await runWorker(worker('snapshot-ours.js', table, version, '--profile', '--no-stats', '--cache', cache)));
    }
    result[version] = { runs, profiles, profilesNoStats };
  }
  return { gen, versions: result };
}

/** Per phase: median wall ms and median CPU ms over the profiled runs. */
function medianPhases(profiles) {
  const names = Object.keys(profiles[0]?.phases ?? {});
  return Object.fromEntries(names.map((n) => [n, { ms: median(profiles.map((p) => p.phases[n] ?? 0)), cpuMs: median(profiles.map((p) => p.cpuPhases?.[n] ?? 0)) }]));
}

async function main() {
  const tmpRoot = process.env.BENCH_TMP ?? os.tmpdir();
  mkdirSync(tmpRoot, { recursive: true });
  const tmp = mkdtempSync(path.join(tmpRoot, 'nfl-lakehouse-bench-'));
  const startedAt = new Date();
  const loadStart = os.loadavg();
  log(`scale ${scaleName}; temp data in ${tmp}`);
  try {
    const env = await environment();
    const write = await writeBench(tmp);
    const travel = await travelBench(tmp, write.table, write.staging);
    const readers = await readersBench(write.table, travel.setup);
    rmSync(write.staging, { force: true });
    rmSync(write.table, { recursive: true, force: true });
    const snapshot = await snapshotBench(tmp);
    const finishedAt = new Date();
    const report = renderReport({
      scaleName,
      scale,
      columns: pbpColumns(),
      env,
      startedAt,
      finishedAt,
      load: { start: loadStart, end: os.loadavg() },
      write: {
        stage: write.stage,
        sides: Object.fromEntries(Object.entries(write.runs).map(([k, runs]) => [k, { ...summarize(runs), last: runs.at(-1) }])),
      },
      snapshot: {
        gen: snapshot.gen,
        versions: Object.fromEntries(
          Object.entries(snapshot.versions).map(([v, r]) => [
            v,
            {
              ours: { ...summarize(r.runs.ours), last: r.runs.ours.at(-1) },
              oursNoStats: { ...summarize(r.runs.oursNoStats), last: r.runs.oursNoStats.at(-1) },
              deltars: { ...summarize(r.runs.deltars), last: r.runs.deltars.at(-1) },
              deltarsOpenMs: median(r.runs.deltars.map((x) => x.openMs)),
              phases: medianPhases(r.profiles),
              profile: r.profiles[0],
              phasesNoStats: medianPhases(r.profilesNoStats),
              profileNoStats: r.profilesNoStats[0],
            },
          ]),
        ),
      },
      travel: {
        setup: travel.setup,
        duckdb: { ...summarize(travel.runs.duckdb), last: travel.runs.duckdb.at(-1) },
        readers: Object.fromEntries(
          Object.keys(travel.profiles).map((reader) => [
            reader,
            {
              ...summarize(travel.runs[reader]),
              last: travel.runs[reader].at(-1),
              phases: medianPhases(travel.profiles[reader]),
              paired: pairedRatio(travel.runs[reader], travel.runs.duckdb, { limit: 1.05 }),
              sameAnswer: travel.runs[reader].every((o) => travel.runs.duckdb.every((d) => o.count === d.count && Math.abs(o.sum - d.sum) <= 1e-6 * Math.max(1, Math.abs(d.sum)))),
            },
          ]),
        ),
        unavailable: travel.unavailable,
      },
      readers,
    });
    const out = process.env.BENCH_OUT ?? path.join(repoRoot, 'BENCHMARKS.md');
    // Marked blocks belong to other bench scripts (`<!-- scale:begin -->` to `npm run bench:scale`,
    // `<!-- startup:begin -->` to scripts/bench/startup.js, …): kept as they are, in their order.
    const previous = (() => {
      try {
        return readFileSync(out, 'utf8');
      } catch {
        return '';
      }
    })();
    const kept = markedBlocks(previous).filter((b) => !report.includes(`<!-- ${b.name}:begin -->`));
    writeFileSync(out, kept.length > 0 ? `${report.trimEnd()}\n\n${kept.map((b) => b.text).join('\n')}` : report);
    process.stdout.write(report);
    log(`wrote ${out} (${((finishedAt - startedAt) / 60000).toFixed(1)} min)`);
  } finally {
    if (process.env.BENCH_KEEP === '1') log(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
