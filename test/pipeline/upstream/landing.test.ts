import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { assetFor, loadCatalog, validateRawFile } from '../../../src/pipeline/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'landing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const catalog = loadCatalog('catalog/datasets.yml');
const pbp = assetFor(catalog.datasets.find((d) => d.name === 'pbp')!, 'http://x', 2020, undefined);
const lines = assetFor(catalog.datasets.find((d) => d.name === 'lines')!, 'http://x', undefined, undefined);
const wins = assetFor(catalog.datasets.find((d) => d.name === 'win_totals')!, 'http://x', undefined, undefined);
const PBP = 'data/sample/pbp/play_by_play_2020_week01.parquet';

function file(name: string, bytes: Buffer | string): string {
  const p = path.join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

describe('raw file validation before the manifest names a file', () => {
  it('accepts real sample files', async () => {
    copyFileSync(PBP, path.join(dir, 'ok.parquet'));
    await validateRawFile(path.join(dir, 'ok.parquet'), 'parquet', pbp);
    await validateRawFile(file('ok.csv.gz', gzipSync(readFileSync('data/sample/betting/nfl_lines_odds_2021_week01.csv'))), 'csv.gz', lines);
    await validateRawFile('data/sample/betting/historical_win_totals.csv', 'csv', wins);
  });

  it.each([
    ['an HTML page', 'parquet', '<!DOCTYPE html><html><body>rate limited</body></html>', /HTML page instead of parquet data/],
    ['an empty body', 'parquet', '', /empty file/],
    ['a truncated Parquet file', 'parquet', readFileSync(PBP).subarray(0, 5000), /truncated Parquet file: 5000 bytes and no footer/],
    ['JSON instead of Parquet', 'parquet', '{"message":"Not Found"}', /not a Parquet file \(starts with "\{\\"message/],
    ['a plain CSV served as .csv.gz', 'csv.gz', 'a,b\n1,2\n', /not a gzip file/],
    ['an HTML page served as CSV', 'csv', '\n  <html><head><title>502</title></head></html>', /HTML page instead of csv data/],
  ] as const)('refuses %s with DATA_INVALID', async (_name, format, bytes, message) => {
    const asset = format === 'parquet' ? pbp : format === 'csv.gz' ? lines : wins;
    await expect(validateRawFile(file(`bad.${format}`, Buffer.from(bytes)), format, asset)).rejects.toMatchObject({ code: 'DATA_INVALID', exitCode: 3, message: expect.stringMatching(message) });
  });
});
