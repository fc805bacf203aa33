// Snapshot benchmark, our side: `loadSnapshot` of the latest version or of <version>, in a
// fresh process (DuckDB engine opened before timing). With --profile, the same work is timed
// phase by phase: listing, checkpoint read (DuckDB or the cache → columns), JSON commits read +
// parse, replay, building the active files.
// With --no-stats, the snapshot a read loads (`{ stats: false }`, what `lake sql` does): file
// stats are left out of the checkpoint read.
// With --cache <dir>, checkpoints are read through the parsed-checkpoint cache in <dir> (what a
// lake does: the cache lives in its temp folder); the first run of a checkpoint fills it.
//   node snapshot-ours.js <tableRoot> [version|latest] [--profile] [--no-stats] [--cache <dir>]
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { activeFiles, applyActions, buildSegment, emptyReplayState, fileKey, listLog, loadSnapshot, logRootOf, readCommit } from '../../../dist/delta/index.js';
import { duckdbCheckpointReader, openEngine } from '../../../dist/engine/index.js';
import { args, cpuMsSince, emit } from './emit.js';
import path from 'node:path';

const [tableRoot, versionArg = 'latest'] = args(1, 'snapshot-ours.js <tableRoot> [version|latest] [--profile] [--no-stats]');
const version = versionArg === 'latest' ? undefined : Number(versionArg);
const profile = process.argv.includes('--profile');
const stats = !process.argv.includes('--no-stats');
const engine = await openEngine();
const cacheAt = process.argv.indexOf('--cache');
const reader = duckdbCheckpointReader(engine, cacheAt > 0 ? { cacheDir: process.argv[cacheAt + 1] } : {});

if (!profile) {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const snapshot = await loadSnapshot(tableRoot, reader, version === undefined ? { stats } : { version, stats });
  const ms = performance.now() - started;
  const cpuMs = cpuMsSince(cpu);
  engine.close();
  emit({ ms, cpuMs, version: snapshot.version, files: snapshot.files.length, stats, statsLoaded: snapshot.statsLoaded });
} else {
  const phases = {};
  const cpuPhases = {};
  let t = performance.now();
  let cpu = process.cpuUsage();
  const lap = (name) => {
    cpuPhases[name] = (cpuPhases[name] ?? 0) + cpuMsSince(cpu);
    cpu = process.cpuUsage();
    const now = performance.now();
    phases[name] = (phases[name] ?? 0) + (now - t);
    t = now;
  };
  const listing = await listLog(tableRoot);
  const segment = buildSegment(listing, tableRoot, version);
  lap('listing');
  // The phases of `loadSnapshot` (src/delta/snapshot.ts): the checkpoint's adds stay columns
  // (`readCheckpointColumns`), the commits are replayed on their own, `activeFiles` merges them.
  const state = emptyReplayState();
  const columns = [];
  const touched = new Set();
  let checkpointActions = 0;
  if (segment.checkpoint) {
    const { adds, other } = await reader.readCheckpointColumns(segment.checkpoint.names.map((n) => path.join(logRootOf(tableRoot), n)), { stats });
    columns.push(adds);
    checkpointActions = adds.length + other.length;
    lap('checkpointRead');
    applyActions(state, other, segment.checkpoint.version);
    lap('checkpointReplay');
  }
  const commits = await Promise.all(segment.commits.map((v) => readCommit(tableRoot, v)));
  lap('commitsReadParse');
  commits.forEach((actions, i) => {
    for (const a of actions) if (a.kind === 'add' || a.kind === 'remove') touched.add(fileKey(a.kind === 'add' ? a.add : a.remove));
    applyActions(state, actions, segment.commits[i]);
  });
  lap('commitsReplay');
  const files = activeFiles(columns, touched, state.files.values());
  lap('activeFiles');
  engine.close();
  const total = Object.values(phases).reduce((a, b) => a + b, 0);
  emit({ ms: total, phases, cpuPhases, version: segment.version, files: files.length, checkpoint: segment.checkpoint?.version, checkpointActions, commits: segment.commits.length, listed: listing.commits.size + listing.checkpoints.size });
}
