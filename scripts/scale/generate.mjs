#!/usr/bin/env node
/**
 * Deterministic full-size nflverse upstream: writes every file the catalog's enabled datasets ask
 * for, at its asset key (`<out>/nflverse/pbp/play_by_play_1999.parquet`, …), for the seasons of
 * --years, with nflverse's column sets and realistic row counts (--scale 1), and the current
 * season (the last of --years) as of evolution state --state (see lib/world.mjs `Evolution`).
 * Re-running into the same folder rewrites only the files whose bytes change; --only-current
 * skips the per-season files of past seasons (they never change between states), for replays.
 *
 *   node scripts/scale/generate.mjs --out /tmp/release --years 1999-2025 [--scale 1] [--state 0] [--start-week 7] [--threads 2] [--json]
 *
 * Prints a summary (files, changed files, bytes, seconds) and, for a state, the day to pass as
 * LAKE_TODAY to the lake runs that ingest it.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeAsset } from './lib/columns.mjs';
import { buildBase } from './lib/base.mjs';
import { datasetWriters } from './lib/datasets.mjs';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** "1999-2025", "2020-2021,2025" → sorted seasons. */
export function parseSeasons(text) {
  const seasons = new Set();
  for (const part of text.split(',')) {
    const m = /^\s*(\d{4})(?:\s*-\s*(\d{4}))?\s*$/.exec(part);
    if (!m) throw new Error(`--years: expected e.g. 1999-2025 or 2020-2021,2025, got '${text}'`);
    for (let y = Number(m[1]); y <= Number(m[2] ?? m[1]); y++) seasons.add(y);
  }
  return [...seasons].sort((a, b) => a - b);
}

export async function generate({ out, years = '1999-2025', scale = 1, state, startWeek = 7, threads = 2, onlyCurrent = false, log = () => {} }) {
  const started = Date.now();
  const seasons = parseSeasons(years);
  const current = seasons.at(-1);
  const instance = await DuckDBInstance.create(':memory:', { threads: String(threads), preserve_insertion_order: 'true' });
  const con = await instance.connect();
  const rows = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJS();
  const files = [];
  try {
    const { evo, slots } = await buildBase(con, { seasons, current, state, startWeek, scale });
    log(`base tables built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const write = async (key, select, options) => {
      const file = path.join(out, key);
      mkdirSync(path.dirname(file), { recursive: true });
      const result = await writeAsset(con, file, select, options);
      files.push({ key, ...result });
      log(`${result.changed ? 'wrote    ' : 'unchanged'} ${key} (${result.bytes} bytes)`);
      return result;
    };
    const writers = datasetWriters({ con, rows, write, current, seasons, evo, scale, slots, repoRoot: REPO_ROOT });
    // Past seasons never change between states: a replay regenerates only the current season's
    // files and the all-seasons files, which aggregate every season's player lines — those of past
    // seasons come from the cache the full generation leaves beside the release.
    const cache = path.join(out, '.generator-cache', `past-lines-${seasons[0]}-${current}-${scale}-w${startWeek}.parquet`);
    if (onlyCurrent) {
      if (!existsSync(cache)) throw new Error(`--only-current needs a full generation of the same --years/--scale/--start-week into ${out} first (no ${cache})`);
      await con.run(`CREATE TABLE all_lines AS SELECT * FROM read_parquet('${cache.replace(/'/g, "''")}')`);
    }
    for (const season of onlyCurrent ? [current] : seasons) await writers.perSeason(season);
    if (!onlyCurrent) {
      mkdirSync(path.dirname(cache), { recursive: true });
      await con.run(`COPY (SELECT * FROM all_lines WHERE season <> ${current}) TO '${cache.replace(/'/g, "''")}' (FORMAT parquet)`);
    }
    await writers.singles();
    return {
      out,
      seasons: { from: seasons[0], to: current, count: seasons.length },
      scale,
      state: state ?? null,
      today: evo.todayIso ?? null,
      files: files.length,
      changed: files.filter((f) => f.changed).map((f) => f.key),
      bytes: files.reduce((n, f) => n + f.bytes, 0),
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      years: { type: 'string', default: '1999-2025' },
      scale: { type: 'string', default: '1' },
      state: { type: 'string' },
      'start-week': { type: 'string', default: '7' },
      threads: { type: 'string', default: '2' },
      'only-current': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
    },
  });
  if (!values.out) {
    console.error('usage: node scripts/scale/generate.mjs --out DIR [--years 1999-2025] [--scale 1] [--state k] [--start-week 7] [--threads 2] [--json] [--verbose]');
    process.exit(2);
  }
  const summary = await generate({
    out: path.resolve(values.out),
    years: values.years,
    scale: Number(values.scale),
    state: values.state === undefined ? undefined : Number(values.state),
    startWeek: Number(values['start-week']),
    threads: Number(values.threads),
    onlyCurrent: values['only-current'],
    log: values.verbose ? (line) => console.error(line) : () => {},
  });
  if (values.json) console.log(JSON.stringify(summary));
  else {
    console.log(`${summary.files} files (${summary.changed.length} changed), ${(summary.bytes / 1024 ** 2).toFixed(1)} MB in ${summary.out}, ${summary.seconds} s`);
    if (summary.today) console.log(`state ${summary.state}: LAKE_TODAY=${summary.today}`);
  }
}
