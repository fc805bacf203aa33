import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSnapshot, type Snapshot } from '../../src/delta/index.js';
import { duckdbCheckpointReader, writeCheckpoint } from '../../src/engine/index.js';
import { resolveTable, writeTable } from '../../src/table/index.js';
import { REPO_ROOT } from '../interop/oracle.js';
import { tempLake } from '../helpers/temp-lake.js';

const t = tempLake('lake-cpcache-');
const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'delta-conformance', 'tables');

/** A snapshot's file list in a stable order, everything but timing-free fields. */
function files(snapshot: Snapshot): unknown[] {
  return [...snapshot.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

describe('the parsed-checkpoint cache', () => {
  it.each([
    ['dv-partitioned-with-checkpoint'],
    ['multi-part-checkpoint'],
    ['v2-checkpoint-parquet'],
    ['basic-with-inserts-deletes-checkpoint'],
  ])('%s: a snapshot rebuilt from the cache equals one from the checkpoint, with and without stats', async (name) => {
    const tableRoot = path.join(FIXTURES, name);
    const cacheDir = await t.make(`cache-${name}`);
    const plain = duckdbCheckpointReader(t.lake.engine);
    const cached = duckdbCheckpointReader(t.lake.engine, { cacheDir });
    for (const stats of [false, true]) {
      const want = await loadSnapshot(tableRoot, plain, { stats });
      const miss = await loadSnapshot(tableRoot, cached, { stats });
      const hit = await loadSnapshot(tableRoot, cached, { stats });
      expect(files(miss)).toEqual(files(want));
      expect(files(hit)).toEqual(files(want));
      expect(hit.tombstones).toEqual(want.tombstones);
      expect(hit.metadata).toEqual(want.metadata);
      expect(hit.protocol).toEqual(want.protocol);
      expect(hit.txns).toEqual(want.txns);
    }
    expect(readdirSync(cacheDir).filter((n) => n.endsWith('.cpc')).length).toBeGreaterThanOrEqual(2);
  });

  it('is what a lake reads from on the next load, is ignored when damaged, and misses once the checkpoint changes', async () => {
    const table = resolveTable(t.lake, 'bronze.cached');
    await writeTable(t.lake, { table, source: 'SELECT range::INT id, (range % 3)::INT p FROM range(9)', mode: 'append', partitionBy: ['p'] });
    await writeCheckpoint(t.lake.engine, await loadSnapshot(table.tableRoot, t.lake.checkpoints));
    const cacheDir = path.join(t.root, '.lake-tmp', 'checkpoints');
    const first = await loadSnapshot(table.tableRoot, t.lake.checkpoints, { stats: false });
    const [entry] = readdirSync(cacheDir).filter((n) => n.endsWith('.cpc'));
    expect(entry).toBeDefined();
    const file = path.join(cacheDir, entry!);
    // A marked entry (one path overwritten in place, same length) proves the next load reads the cache, not the checkpoint.
    const original = readFileSync(file);
    const path0 = first.files.map((f) => f.path).sort()[0]!;
    const mark = `marked${'x'.repeat(path0.length - 'marked'.length)}`;
    const at = original.indexOf(path0);
    expect(at).toBeGreaterThan(0);
    const marked0 = Buffer.from(original);
    marked0.write(mark, at, 'utf8');
    writeFileSync(file, marked0);
    const marked = await loadSnapshot(table.tableRoot, t.lake.checkpoints, { stats: false });
    expect(marked.files.map((f) => f.path)).toContain(mark);
    // A damaged entry (a wrong magic, or cut short) is ignored, and rewritten.
    for (const damaged of [Buffer.from('{ not a cache entry'), original.subarray(0, original.length - 3)]) {
      writeFileSync(file, damaged);
      const repaired = await loadSnapshot(table.tableRoot, t.lake.checkpoints, { stats: false });
      expect(files(repaired)).toEqual(files(first));
      expect(readFileSync(file)).toEqual(original);
    }
    // A new checkpoint (a new file name) is a new entry.
    await writeTable(t.lake, { table, source: 'SELECT 100 id, 1 p', mode: 'append' });
    await writeCheckpoint(t.lake.engine, await loadSnapshot(table.tableRoot, t.lake.checkpoints));
    const next = await loadSnapshot(table.tableRoot, t.lake.checkpoints, { stats: false });
    expect(next.files).toHaveLength(first.files.length + 1);
  });
});
