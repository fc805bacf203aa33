import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLakeError, type LakeError } from '../../src/core/index.js';
import { openLake, resolveTable, runQuery, writeTable, type Lake, type WriteMode } from '../../src/table/index.js';
import { TABLES } from './golden.js';

/** What we must refuse rather than get wrong: writes into tables with features our writer lacks, reads of unknown reader features. */
let root: string;
let lake: Lake;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'lake-refuse-'));
  lake = await openLake({ root });
});
afterAll(() => {
  lake.close();
  rmSync(root, { recursive: true, force: true });
});

/** Every file under `dir` (hidden ones included) with its SHA-256. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[path.relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

let copies = 0;
function copyTable(name: string): string {
  const copy = path.join(root, `${name}-${copies++}`);
  cpSync(path.join(TABLES, name), copy, { recursive: true });
  return copy;
}

describe('writing into tables with features our writer does not implement', () => {
  it.each([
    ['table-with-dv-small', 'deletionVectors', 'append', 'SELECT 42 AS value'],
    ['with-short-dv', 'deletionVectors', 'overwrite', "SELECT 1::BIGINT AS id, 'x' AS value, now() AS timestamp, 0.5 AS rand"],
    ['dv-partitioned-with-checkpoint', 'deletionVectors', 'replace', "SELECT 1 AS part, 1 AS col1, 'foo1' AS col2"],
    ['compacted-log-files-table', 'deletionVectors', 'append', "SELECT 99 AS id, 'x' AS comment"],
    ['table-with-columnmapping-mode-name', 'columnMapping', 'append', 'SELECT 1::TINYINT AS ByteType'],
    ['table_with_column_mapping', 'columnMapping', 'append', `SELECT 'BME' AS "Company Very Short", 'Someone' AS "Super Name"`],
  ] as const)('refuses a write into %s (%s, mode %s) with DELTA_WRITE_UNSUPPORTED and leaves it byte-identical', async (name, feature, mode, source) => {
    const copy = copyTable(name);
    const before = fingerprint(copy);
    const error = await writeTable(lake, { table: resolveTable(lake, copy), source, mode: mode as WriteMode }).catch((e: unknown) => e);
    expect(isLakeError(error, 'DELTA_WRITE_UNSUPPORTED'), String(error)).toBe(true);
    expect((error as LakeError).message).toContain(feature);
    expect(fingerprint(copy)).toEqual(before);
  });
});

describe('reading tables with reader features we do not support', () => {
  it('refuses an unknown reader feature with DELTA_PROTOCOL_UNSUPPORTED naming it, rather than reading rows', async () => {
    const copy = copyTable('with-short-dv');
    const commit = path.join(copy, '_delta_log', '00000000000000000000.json');
    const text = readFileSync(commit, 'utf8');
    const changed = text.replace('"readerFeatures": ["deletionVectors"]', '"readerFeatures": ["deletionVectors", "futureFeature"]');
    expect(changed).not.toBe(text);
    writeFileSync(commit, changed);
    const error = await runQuery(lake, `SELECT * FROM delta_scan('${copy}')`).catch((e: unknown) => e);
    expect(isLakeError(error, 'DELTA_PROTOCOL_UNSUPPORTED'), String(error)).toBe(true);
    expect((error as LakeError).message).toContain('futureFeature');
    expect((error as LakeError).message).not.toContain('deletionVectors,');
  });

  it('refuses reader version 4', async () => {
    const copy = copyTable('simple_table');
    const commit = path.join(copy, '_delta_log', '00000000000000000000.json');
    writeFileSync(commit, readFileSync(commit, 'utf8').replace('"minReaderVersion":1', '"minReaderVersion":4'));
    await expect(runQuery(lake, `SELECT * FROM delta_scan('${copy}', version => 0)`)).rejects.toMatchObject({ code: 'DELTA_PROTOCOL_UNSUPPORTED' });
  });
});
