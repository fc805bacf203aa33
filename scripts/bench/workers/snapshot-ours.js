// Snapshot benchmark, our side: `loadSnapshot` of the latest version or of <version>, in a
// fresh process (DuckDB engine opened before timing). With --profile, the same work is timed
// phase by phase: listing, checkpoint read (DuckDB → actions), JSON commits read + parse, replay.
// With --no-stats, the snapshot a read loads (`{ stats: false }`, what `lake sql` does): file
// stats are left out of the checkpoint read.
// With --cache <dir>, checkpoints are read through the parsed-checkpoint cache in <dir> (what a
// lake does: the cache lives in its temp folder); the first run of a checkpoint fills it.
//   node snapshot-ours.js <tableRoot> [version|latest] [--profile] [--no-stats] [--cache <dir>]
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { applyActions, buildSegment, emptyReplayState, listLog, loadSnapshot, logRootOf, readCommit } from '../../../dist/delta/index.js';
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
  const state = emptyReplayState();
  let checkpointActions = 0;
  if (segment.checkpoint) {
    const actions = await reader.readCheckpoint(segment.checkpoint.names.map((n) => path.join(logRootOf(tableRoot), n)), { stats });
    checkpointActions = actions.length;
    lap('checkpointRead');
    applyActions(state, actions, segment.checkpoint.version);
    lap('checkpointReplay');
  }
  const commits = await Promise.all(segment.commits.map((v) => readCommit(tableRoot, v)));
  lap('commitsReadParse');
  commits.forEach((actions, i) => applyActions(state, actions, segment.commits[i]));
  lap('commitsReplay');
  engine.close();
  const total = Object.values(phases).reduce((a, b) => a + b, 0);
  emit({ ms: total, phases, cpuPhases, version: segment.version, files: state.files.size, checkpoint: segment.checkpoint?.version, checkpointActions, commits: segment.commits.length, listed: listing.commits.size + listing.checkpoints.size });
}
