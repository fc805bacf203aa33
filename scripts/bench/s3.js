#!/usr/bin/env node
// The lake on an S3-compatible server beside local disk (issue 18): the same writes, commits,
// snapshot loads and reads through the same code, once with the table in a temp folder and once on
// a moto server (.venv/bin/moto_server, started here on 127.0.0.1 at a free port). moto is a
// Python server on this machine, so the S3 figures measure the protocol's round trips and the
// server's own cost, not a network: read them as a floor for what a real bucket costs.
// Writes only the `<!-- s3:begin -->` block of BENCHMARKS.md. Run after a build:
//   node scripts/bench/s3.js
//   BENCH_S3_REPS=5         rounds (the sides interleaved in each)
//   BENCH_S3_ROWS=500000    rows of the partitioned write
//   BENCH_S3_COMMITS=30     small appends before the snapshot loads
//   BENCH_OUT=path          the report file (default: BENCHMARKS.md)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { log, median, repoRoot, replaceMarkedBlock } from './lib.js';

const REPS = Number(process.env.BENCH_S3_REPS ?? 5);
const ROWS = Number(process.env.BENCH_S3_ROWS ?? 500_000);
const COMMITS = Number(process.env.BENCH_S3_COMMITS ?? 30);
const OUT = process.env.BENCH_OUT ?? path.join(repoRoot, 'BENCHMARKS.md');
const MOTO = path.join(repoRoot, '.venv', 'bin', 'moto_server');
const DIST = path.join(repoRoot, 'dist', 'table', 'index.js');

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startMoto() {
  if (!existsSync(MOTO)) throw new Error(`${MOTO} is missing: run bash scripts/setup-oracles.sh`);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(MOTO, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`${endpoint}/bench`, { method: 'PUT' });
      if (res.status === 200) break;
    } catch {
      // not up yet
    }
    if (i > 300) throw new Error(`moto did not start on ${endpoint}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { endpoint, stop: () => child.kill('SIGTERM') };
}

const time = async (fn) => {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
};

async function main() {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: build first (npx tsc -p tsconfig.build.json)`);
  const loadStart = os.loadavg()[0].toFixed(2);
  const moto = await startMoto();
  Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', LAKE_READER: 'native' });
  const { openLake, writeTable, tableSnapshot, runQuery } = await import(DIST);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'lake-s3-bench-'));
  const sides = { local: path.join(tmp, 'lake'), s3: 's3://bench/lake' };
  const lakes = {};
  for (const [side, root] of Object.entries(sides)) lakes[side] = await openLake({ root, create: true });
  const results = { write: { local: [], s3: [] }, commit: { local: [], s3: [] }, load: { local: [], s3: [] }, loadOld: { local: [], s3: [] }, query: { local: [], s3: [] } };
  const source = `SELECT i % 10 AS p, i AS id, i * 0.5 AS x, 'row ' || i AS s FROM range(${ROWS}) AS t(i)`;
  try {
    for (let r = 0; r < REPS; r++) {
      const order = r % 2 === 0 ? ['local', 's3'] : ['s3', 'local'];
      for (const side of order) {
        const lake = lakes[side];
        const root = sides[side];
        const table = (name) => ({ name, tableRoot: side === 's3' ? `${root}/bench/${name}-${r}` : path.join(root, 'bench', `${name}-${r}`) });
        // A partitioned write of ROWS rows (10 partitions): data files plus one commit.
        const big = table('big');
        results.write[side].push((await time(() => writeTable(lake, { table: big, source, mode: 'append', partitionBy: ['p'] }))).ms);
        // COMMITS small appends (one row each), then snapshot loads of the log they made.
        const small = table('small');
        for (let c = 0; c < COMMITS; c++) {
          const { ms } = await time(() => writeTable(lake, { table: small, source: `SELECT ${c} AS c`, mode: 'append', configuration: { 'delta.checkpointInterval': '10' } }));
          if (c > 0) results.commit[side].push(ms);
        }
        results.load[side].push((await time(() => tableSnapshot(lake, small))).ms);
        results.loadOld[side].push((await time(() => tableSnapshot(lake, small, { version: 5 }))).ms);
        results.query[side].push((await time(() => runQuery(lake, `SELECT count(*), sum(x) FROM delta_scan('${big.tableRoot}')`))).ms);
      }
      log(`round ${r + 1}/${REPS} done`);
    }
  } finally {
    for (const lake of Object.values(lakes)) lake.close();
    moto.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
  const row = (label, key) => {
    const local = median(results[key].local);
    const s3 = median(results[key].s3);
    return `| ${label} | ${fmt(local)} | ${fmt(s3)} | ${(s3 / local).toFixed(2)}× |`;
  };
  const block = [
    '<!-- s3:begin -->',
    '## The lake on S3-compatible storage (issue 18)',
    '',
    '<!-- Generated by `node scripts/bench/s3.js`; only this block is rewritten. -->',
    '',
    `The same operations through the same code with the table on local disk and on a moto server (S3-compatible, on`,
    `127.0.0.1, so no network: the S3 column is the protocol's round trips plus moto's own cost, a floor for a real`,
    `bucket). Medians of ${REPS} rounds, the sides alternating in each round; one process, engines opened once.`,
    '',
    '| operation | local disk | S3 (moto) | S3 / local |',
    '|---|---|---|---|',
    row(`partitioned write, ${ROWS.toLocaleString('en-US')} rows in 10 partitions (COPY + commit)`, 'write'),
    row('one small append commit (1 row: data file + conditional PUT)', 'commit'),
    row(`snapshot load, latest of ${COMMITS} commits (checkpoint every 10)`, 'load'),
    row('snapshot load at version 5 (time travel)', 'loadOld'),
    row('count + sum over the partitioned table', 'query'),
    '',
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadStart} at the start and ${os.loadavg()[0].toFixed(2)} at the end (${new Date().toISOString().slice(0, 10)}).`,
    '<!-- s3:end -->',
    '',
  ].join('\n');
  const previous = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '';
  writeFileSync(OUT, replaceMarkedBlock(previous, 's3', block));
  process.stdout.write(block);
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
