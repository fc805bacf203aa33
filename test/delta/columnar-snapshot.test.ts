import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { earliestVersion, latestVersion, listLog, loadSnapshot, toColumnarCheckpoint, addAt, activeFiles, type AddAction, type CheckpointReader, type Snapshot } from '../../src/delta/index.js';
import { duckdbCheckpointReader } from '../../src/engine/index.js';
import { REPO_ROOT } from '../interop/oracle.js';
import { tempLake } from '../helpers/temp-lake.js';

const t = tempLake('lake-columnar-');
const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');
const TABLES = [
  ...readdirSync(path.join(FIXTURES, 'delta-conformance', 'tables')).map((n) => path.join(FIXTURES, 'delta-conformance', 'tables', n)),
  ...readdirSync(path.join(FIXTURES, 'spark-written'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => path.join(FIXTURES, 'spark-written', d.name)),
];

const byPath = (a: AddAction, b: AddAction): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** Everything a snapshot says about its files and state, in a stable order. */
function state(snapshot: Snapshot): unknown {
  return {
    version: snapshot.version,
    files: [...snapshot.files].sort(byPath).map((f) => ({ ...f })),
    tombstones: [...snapshot.tombstones].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    metadata: snapshot.metadata,
    protocol: snapshot.protocol,
    txns: [...snapshot.txns],
    statsLoaded: snapshot.statsLoaded,
  };
}

/** A reader limited to the object path (`readCheckpoint` only), as before columnar snapshots. */
function objectsOnly(reader: CheckpointReader): CheckpointReader {
  return { readCheckpoint: (files, options) => reader.readCheckpoint(files, options) };
}

describe('columnar snapshots (checkpoint adds kept as columns)', () => {
  it('give the same files, stats, partition values, tombstones and state as the object path at every version of every fixture table, with and without the cache', async () => {
    const cacheDir = await t.make('cache');
    const columnar = duckdbCheckpointReader(t.lake.engine);
    const cached = duckdbCheckpointReader(t.lake.engine, { cacheDir });
    const objects = objectsOnly(duckdbCheckpointReader(t.lake.engine));
    let compared = 0;
    let fromCheckpoints = 0;
    for (const tableRoot of TABLES) {
      const listing = await listLog(tableRoot);
      const first = earliestVersion(listing);
      const last = latestVersion(listing);
      if (first === undefined || last === undefined) continue;
      for (let version = first; version <= last; version++) {
        for (const stats of [true, false]) {
          const load = (reader: CheckpointReader): Promise<unknown> =>
            loadSnapshot(tableRoot, reader, { version, stats, skipReadCheck: true }).then(state, (e: unknown) => `error: ${String(e)}`);
          const want = await load(objects);
          expect(await load(columnar), `${path.basename(tableRoot)} v${version} stats ${stats}`).toEqual(want);
          expect(await load(cached), `${path.basename(tableRoot)} v${version} stats ${stats}, cache miss or hit`).toEqual(want);
          expect(await load(cached), `${path.basename(tableRoot)} v${version} stats ${stats}, cache hit`).toEqual(want);
          compared++;
          if ([...listing.checkpoints.keys()].some((v) => v <= version)) fromCheckpoints++;
        }
      }
    }
    // The comparison covered many versions, many of them rebuilt from a checkpoint (the columnar path).
    expect(compared).toBeGreaterThan(100);
    expect(fromCheckpoints).toBeGreaterThan(20);
  });

  it('activeFiles drops checkpoint files a later commit removed or re-added, and keeps the rest', () => {
    const add = (p: string, extra: Partial<AddAction> = {}): AddAction => ({ path: p, partitionValues: { s: p.slice(0, 1) }, size: 1, modificationTime: 2, dataChange: true, ...extra });
    const dv = { storageType: 'u', pathOrInlineDv: 'ab', offset: 1, sizeInBytes: 3, cardinality: 1 };
    const { adds, other } = toColumnarCheckpoint([
      { kind: 'add', add: add('a1', { stats: '{"numRecords":1}' }) },
      { kind: 'add', add: add('a%202', { tags: { k: 'v' } }) },
      { kind: 'add', add: add('b3', { deletionVector: dv }) },
      { kind: 'txn', txn: { appId: 'x', version: 1 } },
    ]);
    expect(other).toHaveLength(1);
    expect(addAt(adds, 0)).toEqual(add('a1', { stats: '{"numRecords":1}' }));
    expect(addAt(adds, 1)).toEqual(add('a%202', { tags: { k: 'v' } }));
    expect(addAt(adds, 2)).toEqual(add('b3', { deletionVector: dv }));
    // Shared dictionary entries are frozen: a mutation throws instead of changing other files.
    expect(() => {
      addAt(adds, 0).partitionValues['s'] = 'z';
    }).toThrow(TypeError);
    const later = add('c4');
    // 'a 2' is the decoded key of 'a%202'; 'b3' with its DV is a different key from 'b3' without.
    const files = activeFiles([adds], new Set(['a 2', 'b3', 'c4']), [later]);
    expect(files.map((f) => f.path).sort()).toEqual(['a1', 'b3', 'c4']);
    expect(activeFiles([adds], new Set([`b3\u0000uab@1`]), []).map((f) => f.path)).toEqual(['a1', 'a%202']);
  });
});
