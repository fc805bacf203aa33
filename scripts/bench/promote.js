// Promote memory benchmark (issue 5, "Memory"): peak RSS and time of `lake promote` for pbp at
// full size, a full promote of every season and then an incremental promote of one season.
//   node scripts/bench/promote.js            (BENCH_SCALE=small for 3 seasons × 5,000 rows)
// Steps, each a fresh child process under /usr/bin/time -v (peak RSS = "Maximum resident set size"):
//   1. bronze.pbp: pbp-shaped rows (pbp-schema.js) with bronze stamps, appended in batches of seasons;
//   2. full promote (no silver yet: every season rebuilt);
//   3. bronze: the newest season appended again whole (a nightly re-publish: same keys, newer ingested_at);
//   4. incremental promote (only that season merged and replaced).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeScale, FIRST_SEASON } from './pbp-schema.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const scale = writeScale();
const seasonsPerBatch = Number(process.env.BENCH_BRONZE_BATCH ?? 9);
const dir = mkdtempSync(path.join(os.tmpdir(), 'promote-bench-'));
const lakeRoot = path.join(dir, 'lake');
const reportDir = path.join(dir, 'quality');

/** Runs a worker under /usr/bin/time -v; its JSON result plus wall seconds and peak RSS. */
function run(label, script, argv) {
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, path.join(here, 'workers', script), ...argv], { encoding: 'utf8', maxBuffer: 1 << 26, cwd: path.resolve(here, '../..') });
  if (r.status !== 0) throw new Error(`${script} exited ${r.status}: ${r.stderr}`);
  const maxRssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(r.stderr)?.[1] ?? 'NaN';
  const wallS = wall.split(':').reduce((s, part) => s * 60 + Number(part), 0);
  const result = { ...JSON.parse(r.stdout.trim().split('\n').pop()), wallS, maxRssKb };
  console.log(`${label}: ${JSON.stringify(result)}`);
  return result;
}

/** Bytes of the live data files per season of a Delta table (replayed from its JSON commits; no checkpoints here). */
function partitionBytes(tableRoot) {
  const log = path.join(tableRoot, '_delta_log');
  const live = new Map();
  for (const name of readdirSync(log).filter((n) => n.endsWith('.json')).sort()) {
    for (const line of readFileSync(path.join(log, name), 'utf8').split('\n').filter(Boolean)) {
      const action = JSON.parse(line);
      if (action.add) live.set(action.add.path, action.add);
      if (action.remove) live.delete(action.remove.path);
    }
  }
  const sizes = {};
  for (const add of live.values()) {
    const key = `season=${add.partitionValues.season}`;
    sizes[key] = (sizes[key] ?? 0) + add.size;
  }
  return sizes;
}

function largest(sizes) {
  return Object.entries(sizes).sort((a, b) => b[1] - a[1])[0];
}

console.log(`promote benchmark: ${scale.seasons} seasons × ${scale.rowsPerSeason} rows in ${dir}`);
console.log(`uptime: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
try {
  const stage = [];
  for (let first = 0; first < scale.seasons; first += seasonsPerBatch) {
    const n = Math.min(seasonsPerBatch, scale.seasons - first);
    stage.push(run(`bronze seasons ${FIRST_SEASON + first}-${FIRST_SEASON + first + n - 1}`, 'promote-bronze.js', [lakeRoot, String(first), String(n), String(scale.rowsPerSeason), 'bench-full', '2026-11-01T00:00:00Z']));
  }
  const full = run('full promote', 'promote-run.js', [lakeRoot, reportDir]);
  const last = scale.seasons - 1;
  run(`bronze re-append season ${FIRST_SEASON + last}`, 'promote-bronze.js', [lakeRoot, String(last), '1', String(scale.rowsPerSeason), 'bench-incr', '2026-11-02T00:00:00Z']);
  const incremental = run('incremental promote', 'promote-run.js', [lakeRoot, reportDir]);
  const silver = largest(partitionBytes(path.join(lakeRoot, 'silver', 'pbp')));
  const bronze = largest(partitionBytes(path.join(lakeRoot, 'bronze', 'pbp')));
  const gib = (kb) => (kb / 1024 / 1024).toFixed(2);
  console.log(JSON.stringify({
    rows: scale.seasons * scale.rowsPerSeason,
    seasons: scale.seasons,
    bronzeStageS: stage.reduce((s, r) => s + r.wallS, 0),
    full: { status: full.status, mode: full.mode, partitions: full.partitions, rowsAfter: full.rowsAfter, wallS: full.wallS, promoteMs: Math.round(full.ms), maxRssGiB: gib(full.maxRssKb) },
    incremental: { status: incremental.status, mode: incremental.mode, partitions: incremental.partitions, rowsInBatch: incremental.rowsInBatch, rowsAfter: incremental.rowsAfter, wallS: incremental.wallS, promoteMs: Math.round(incremental.ms), maxRssGiB: gib(incremental.maxRssKb) },
    largestSilverPartition: { partition: silver[0], mib: (silver[1] / 2 ** 20).toFixed(1) },
    largestBronzePartition: { partition: bronze[0], mib: (bronze[1] / 2 ** 20).toFixed(1) },
    under1_5GiB: Math.max(full.maxRssKb, incremental.maxRssKb) < 1.5 * 1024 * 1024,
  }, null, 2));
} finally {
  if (process.env.BENCH_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
}
