import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLakeError, type LakeError } from '../../src/core/index.js';
import { listLog, loadSnapshot } from '../../src/delta/index.js';
import { openLake, runQuery, tableHistory, resolveTable, type Lake } from '../../src/table/index.js';
import { GOLDEN, TABLES, loadGolden, project, readVersion, scanOf, sortRows, type Row } from './golden.js';
import { MANIFEST_FACTS, columnsAt } from './manifest-facts.js';

/**
 * The 25 Delta conformance tables (test/fixtures/delta-conformance, MANIFEST.md), read at every
 * commit version through `runQuery(lake, "SELECT * FROM delta_scan('<table>', version => n)")`.
 * Each version is compared with its golden file (rows from independent readers, see
 * generate-goldens.py) and with the MANIFEST.md facts (manifest-facts.ts). Reading writes nothing,
 * so the committed fixtures are read in place.
 */
const TABLE_NAMES = Object.keys(MANIFEST_FACTS).sort();

let lake: Lake;
let root: string;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'lake-conformance-'));
  lake = await openLake({ root });
});
afterAll(() => {
  lake.close();
  rmSync(root, { recursive: true, force: true });
});

function commitVersions(table: string): number[] {
  return readdirSync(path.join(TABLES, table, '_delta_log'))
    .filter((name) => /^\d{20}\.json$/.test(name))
    .map((name) => Number(name.slice(0, 20)))
    .sort((a, b) => a - b);
}

/**
 * The row set on the columns every fact row names; a fact row naming more columns (such as the
 * all-null row of §13) must also match some row on all of its columns.
 */
function expectFactRows(actual: readonly Row[], expected: readonly Row[] | undefined): void {
  if (expected === undefined) return;
  const common = expected.length === 0 ? [] : Object.keys(expected[0]!).filter((k) => expected.every((r) => k in r));
  expect(sortRows(project(actual, common))).toEqual(sortRows(project(expected, common)));
  for (const row of expected) {
    if (Object.keys(row).length === common.length) continue;
    expect(actual.some((a) => Object.entries(row).every(([k, v]) => a[k] === v)), JSON.stringify(row)).toBe(true);
  }
}

describe('the fixture set', () => {
  it('holds the 25 tables of MANIFEST.md, with a golden file for every commit version', () => {
    expect(readdirSync(TABLES).sort()).toEqual(TABLE_NAMES);
    expect(TABLE_NAMES).toHaveLength(25);
    for (const table of TABLE_NAMES) {
      expect(commitVersions(table), table).toEqual(MANIFEST_FACTS[table]!.versions);
      for (const v of MANIFEST_FACTS[table]!.versions) expect(existsSync(path.join(GOLDEN, table, `v${v}.json`)), `${table} v${v}`).toBe(true);
    }
  });

  it.each(TABLE_NAMES.flatMap((t) => MANIFEST_FACTS[t]!.versions.map((v) => [t, v] as const)))('golden %s v%i agrees with the MANIFEST.md facts', (table, version) => {
    const facts = MANIFEST_FACTS[table]!;
    const golden = loadGolden(table, version);
    if ('error' in golden) {
      expect(facts.missingData?.[version], 'MANIFEST says the data of this version is gone').toBeDefined();
      const expectedFiles = facts.missingData?.[version]?.activeFiles;
      if (expectedFiles !== undefined) expect(golden.error.activeFiles).toBe(expectedFiles);
      expect(golden.error.missingFiles.length).toBeGreaterThan(0);
      return;
    }
    expect(facts.missingData?.[version]).toBeUndefined();
    expect(golden.columns.map(([name]) => name)).toEqual(columnsAt(facts, version));
    expect(golden.rowCount).toBe(facts.counts[version]);
    expectFactRows(golden.rows, facts.rows?.[version]);
  });
});

describe.each(TABLE_NAMES)('%s', (table) => {
  const facts = MANIFEST_FACTS[table]!;

  it.each(facts.versions)('reads version %i as the golden file and MANIFEST.md say', async (version) => {
    const golden = loadGolden(table, version);
    if ('error' in golden) {
      const error = await readVersion(lake, table, version).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isLakeError(error, 'DATA_FILE_MISSING'), String(error)).toBe(true);
      const message = (error as LakeError).message;
      expect(golden.error.missingFiles.some((f) => message.includes(f)), message).toBe(true);
      // The log still works: the snapshot lists the files the data of this version needs.
      const snapshot = await loadSnapshot(path.join(TABLES, table), lake.checkpoints, { version });
      expect(snapshot.files).toHaveLength(golden.error.activeFiles);
      return;
    }
    const actual = await readVersion(lake, table, version);
    expect(actual.columns).toEqual(golden.columns.map(([name]) => name));
    expect(actual.types).toEqual(golden.columns.map(([, type]) => type));
    expect(actual.rowCount).toBe(golden.rowCount);
    expect(sortRows(actual.rows)).toEqual(sortRows(golden.rows));
    // And directly against MANIFEST.md, so a wrong golden file cannot hide a wrong read.
    expect(actual.columns).toEqual(columnsAt(facts, version));
    expect(actual.rowCount).toBe(facts.counts[version]);
    expectFactRows(actual.rows, facts.rows?.[version]);
  });
});

describe('log edge cases', () => {
  it('ignores the uncommitted _delta_log/.tmp/ file of simple_table: the latest version is 4', async () => {
    const snapshot = await loadSnapshot(path.join(TABLES, 'simple_table'), lake.checkpoints);
    expect(snapshot.version).toBe(4);
    const latest = await runQuery(lake, `SELECT count(*)::INTEGER AS n FROM delta_scan('${path.join(TABLES, 'simple_table')}')`);
    expect(latest.rows).toEqual([[3]]);
  });

  it('reads checkpoints_vacuumed from its checkpoints: history and file lists work from version 5, reading rows fails clearly', async () => {
    const tableRoot = path.join(TABLES, 'checkpoints_vacuumed');
    const listing = await listLog(tableRoot);
    expect(listing.minCommit).toBe(5);
    expect([...listing.checkpoints.keys()].sort((a, b) => a - b)).toEqual([5, 10]);
    for (let v = 5; v <= 12; v++) {
      const snapshot = await loadSnapshot(tableRoot, lake.checkpoints, { version: v });
      expect(snapshot.files, `version ${v}`).toHaveLength(v);
      expect(snapshot.partitionColumns).toEqual(['date']);
    }
    // delta-rs test_read_vacuumed_log_history: the last 5 entries are 5 entries, asking for 10 gives the 8 left.
    expect(await tableHistory(lake, resolveTable(lake, tableRoot), { limit: 5 })).toHaveLength(5);
    const history = await tableHistory(lake, resolveTable(lake, tableRoot), { limit: 10 });
    expect(history.map((h) => h.version)).toEqual([12, 11, 10, 9, 8, 7, 6, 5]);
    await expect(loadSnapshot(tableRoot, lake.checkpoints, { version: 4 })).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND' });
    await expect(runQuery(lake, `SELECT * FROM ${scanOf('checkpoints_vacuumed', 12)}`)).rejects.toMatchObject({ code: 'DATA_FILE_MISSING' });
  });

  it('keeps snapshot-vacuumed readable at version 5 (2 files, as LogReplaySuite says) and refuses older versions with DATA_FILE_MISSING', async () => {
    const snapshot = await loadSnapshot(path.join(TABLES, 'snapshot-vacuumed'), lake.checkpoints);
    expect(snapshot.version).toBe(5);
    expect(snapshot.files).toHaveLength(2);
    const error = await runQuery(lake, `SELECT count(*) FROM ${scanOf('snapshot-vacuumed', 3)}`).catch((e: unknown) => e);
    expect(isLakeError(error, 'DATA_FILE_MISSING')).toBe(true);
    expect((error as LakeError).message).toMatch(/snapshot-vacuumed version 3: data file part-.*\.parquet is missing/);
    expect((error as LakeError).hint).toBeTruthy();
  });

  it('answers filtered and aggregated queries over deletion vectors and nested column-mapped columns exactly', async () => {
    const dv = await runQuery(lake, `SELECT count(*)::INTEGER, sum(col1)::INTEGER FROM ${scanOf('dv-partitioned-with-checkpoint', 15)} WHERE part = 8`);
    // part 8 holds x = 8, 18, 28, 38, 48; versions 1…15 deleted the even col1 < 30 (8, 18 and 28).
    expect(dv.rows).toEqual([[2, 38 + 48]]);
    const nested = await runQuery(lake, `SELECT nested_struct.ac.aca AS aca, map_of_rows[3].ab AS ab FROM ${scanOf('table-with-columnmapping-mode-name', 0)} WHERE IntegerType = 2`);
    expect(nested.rows).toEqual([[2, 40n]]);
  });

  // Column-mapped tables key partitionValues by physical name (PROTOCOL.md "Column Mapping"):
  // partition pruning must translate them to logical names first.
  it('filters a column-mapped table on its partition column (pruning by physical name)', async () => {
    const cm = await runQuery(lake, `SELECT "Super Name" FROM ${scanOf('table_with_column_mapping', 0)} WHERE "Company Very Short" = 'BME'`);
    expect(cm.rows).toEqual([['Timothy Lamb']]);
  });
});
