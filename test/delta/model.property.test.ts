import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCheckpoint } from '../../src/engine/index.js';
import { openLake, tableSnapshot, writeTable, type Lake, type TableRef, type WriteMode } from '../../src/table/index.js';
import { canonicalRows } from '../helpers/rows.js';
import { checkpointVersions, commitVersions, readRows, valuesSource } from '../helpers/lake.js';
import { tempDirs } from '../helpers/temp-dir.js';

/**
 * Model-based property test of the whole write/read path: random sequences of writes (create,
 * append, overwrite, replace-partitions) and checkpoints against an in-memory model of the
 * table, then at EVERY version our reader must return exactly the model's multiset of rows.
 */

interface ModelRow {
  id: number;
  v: string | null;
  p: string | null;
  q: number | null;
}
type RowSpec = Omit<ModelRow, 'id'>;
type PartitionSpec = { p: string | null; q: number | null };

type Op =
  | { kind: 'write'; mode: WriteMode; rows: RowSpec[]; extra: PartitionSpec[] }
  | { kind: 'checkpoint'; parts: number };

interface Scenario {
  partitionBy: string[];
  checkpointInterval: boolean;
  create: { mode: WriteMode; rows: RowSpec[] };
  ops: Op[];
}

const COLUMNS = [
  { name: 'id', type: 'BIGINT' },
  { name: 'v', type: 'VARCHAR' },
  { name: 'p', type: 'VARCHAR' },
  { name: 'q', type: 'INTEGER' },
];

// Partition values that stress Hive folder names, path encoding and NULL handling. The writer
// stores '' as NULL in partition columns (like Spark); data columns keep ''.
const COMMON_P = [null, '', 'a', 'São Paulo', 'k=v'];
const NASTY_P = [' ', '  lead', 'trail ', '=', '%', '50%', '%20', '%2F', '/', 'x/y', '+', 'a+b', '🏈', 'emoji 🏈=%/', "it's", '"q"', '__HIVE_DEFAULT_PARTITION__', 'A', '.', '..', '#?&', 'a\\b', 'tab\there'];
const pValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...COMMON_P) },
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_P) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('a', ' ', '=', '%', '/', '+', 'ã', '🏈', "'", ':', '.', '-'), minLength: 1, maxLength: 4 }) },
);
const qValue = fc.option(fc.integer({ min: -2, max: 2 }), { nil: null, freq: 4 });
const vValue = fc.option(fc.constantFrom('', 'x', 'São', '🏈', "'q'", 'a=b/c'), { nil: null, freq: 4 });
const rowSpec: fc.Arbitrary<RowSpec> = fc.record({ v: vValue, p: pValue, q: qValue });
const rows = fc.array(rowSpec, { minLength: 0, maxLength: 6 });
const mode = fc.constantFrom<WriteMode>('append', 'overwrite', 'replace');

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('write' as const), mode: fc.constant<WriteMode>('append'), rows, extra: fc.constant<PartitionSpec[]>([]) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('write' as const), mode: fc.constant<WriteMode>('overwrite'), rows, extra: fc.constant<PartitionSpec[]>([]) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('write' as const),
      mode: fc.constant<WriteMode>('replace'),
      rows,
      extra: fc.array(fc.record({ p: pValue, q: qValue }), { maxLength: 2 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('checkpoint' as const), parts: fc.constantFrom(1, 1, 2) }) },
);

const scenario: fc.Arbitrary<Scenario> = fc.record({
  partitionBy: fc.constantFrom(['p'], ['p', 'q'], ['q'], []),
  checkpointInterval: fc.boolean(),
  create: fc.record({ mode, rows }),
  ops: fc.array(op, { minLength: 1, maxLength: 7 }),
});

/** What the writer stores in a partition column: '' becomes NULL. */
function stored(row: RowSpec, partitionBy: readonly string[]): RowSpec {
  return partitionBy.includes('p') && row.p === '' ? { ...row, p: null } : row;
}

function partitionKeyOf(row: PartitionSpec, partitionBy: readonly string[]): string {
  return JSON.stringify(partitionBy.map((c) => (c === 'p' ? (row.p === '' ? null : row.p) : row.q)));
}

/** The model's next state after one write. */
function applyWrite(table: ModelRow[], mode: WriteMode, input: ModelRow[], extra: PartitionSpec[], partitionBy: readonly string[]): ModelRow[] {
  if (mode === 'append') return [...table, ...input];
  if (mode === 'overwrite' || partitionBy.length === 0) return input;
  const replaced = new Set([...input, ...extra].map((r) => partitionKeyOf(r, partitionBy)));
  return [...table.filter((r) => !replaced.has(partitionKeyOf(r, partitionBy))), ...input];
}

function extraPartitions(extra: PartitionSpec[], partitionBy: readonly string[]): Record<string, string | null>[] {
  return extra.map((e) => Object.fromEntries(partitionBy.map((c) => [c, c === 'p' ? e.p : e.q === null ? null : String(e.q)])));
}

/** MODEL_RUNS=500 for a longer hunt; the default keeps the test well under a minute. */
const RUNS = Number(process.env['MODEL_RUNS'] ?? 20);

describe('Delta write/read model', () => {
  const dirs = tempDirs('lake-model');
  let lake: Lake;

  beforeAll(async () => {
    lake = await openLake({ root: await dirs.make('lake'), threads: 1 });
  });
  afterAll(async () => {
    lake.close();
    await dirs.cleanup();
  });

  it('random writes and checkpoints: every version reads back exactly as the model', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const root = path.join(await dirs.make(`run${runs++}`), 'table');
        const table: TableRef = { name: root, tableRoot: root };
        let nextId = 0;
        const withIds = (specs: RowSpec[]): ModelRow[] => specs.map((r) => ({ id: nextId++, ...stored(r, s.partitionBy) }));

        const models: ModelRow[][] = [];
        const createRows = withIds(s.create.rows);
        const created = await writeTable(lake, {
          table,
          source: valuesSource(COLUMNS, createRows),
          mode: s.create.mode,
          partitionBy: s.partitionBy,
          configuration: s.checkpointInterval ? { 'delta.checkpointInterval': '3' } : undefined,
        });
        expect(created).toMatchObject({ status: 'committed', version: 0 });
        models.push(createRows);

        for (const step of s.ops) {
          if (step.kind === 'checkpoint') {
            await writeCheckpoint(lake.engine, await tableSnapshot(lake, table), { parts: step.parts });
            continue;
          }
          const input = withIds(step.rows);
          const result = await writeTable(lake, {
            table,
            source: valuesSource(COLUMNS, input),
            mode: step.mode,
            replacePartitions: step.mode === 'replace' && s.partitionBy.length > 0 ? extraPartitions(step.extra, s.partitionBy) : undefined,
          });
          expect(result).toMatchObject({ status: 'committed', version: models.length });
          models.push(applyWrite(models.at(-1)!, step.mode, input, step.extra, s.partitionBy));
        }

        expect(await commitVersions(root)).toEqual(models.map((_, v) => v));
        if (s.checkpointInterval) {
          // Automatic checkpoints at every third version (others may exist from on-demand ones).
          const automatic = models.map((_, v) => v).filter((v) => v > 0 && v % 3 === 0);
          expect(await checkpointVersions(root)).toEqual(expect.arrayContaining(automatic));
        }
        for (const [version, model] of models.entries()) {
          const actual = await readRows(lake, root, version);
          expect(canonicalRows(actual), `version ${version}`).toEqual(canonicalRows(model));
        }
        expect(canonicalRows(await readRows(lake, root))).toEqual(canonicalRows(models.at(-1)!));
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  }, Math.max(120_000, RUNS * 2_000));
});
