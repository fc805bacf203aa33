import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/core/index.js';
import { BATCH_TAGS, loadCatalog, resolveSettings, rollbackRun, runIngest, runPromote, type Catalog, type IngestRunResult } from '../../../src/pipeline/index.js';
import { openLake, resolveTable, runQuery, tableSnapshot, type Lake } from '../../../src/table/index.js';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';

/**
 * nflverse re-publishes an all-seasons file when one season changes (and sometimes with no change
 * at all, only new bytes). Bronze commits every new version of the file, but writes rows only for
 * the partitions whose rows differ from the newest batch this same file left there (a digest per
 * partition, kept in the data files' tags): so the promote and gold after it see one season, and
 * bronze does not grow by a whole history every night. Real ingest runs against the local
 * upstream server, with the real win-totals CSV (1989–2020 in one file, partitioned by season).
 */
const TODAY = new Date('2026-11-25T12:00:00Z');
const WINS = 'mrcaseb/data/historical_win_totals.csv';
const catalog: Catalog = loadCatalog('catalog/datasets.yml');
const csv = readFileSync('data/sample/betting/historical_win_totals.csv', 'utf8');
const [header, ...lines] = csv.trimEnd().split('\n');
const seasons = [...new Set(lines.map((l) => l.split(',')[1]!))].sort();

let server: UpstreamServer;
let dir: string;
let lake: Lake;
let minutes = 0;
const clock: Clock = { now: () => TODAY.getTime() + minutes * 60_000, sleep: async () => undefined };

async function pull(body: string): Promise<IngestRunResult> {
  server.setFile(WINS, Buffer.from(body));
  minutes++;
  const settings = resolveSettings(catalog, { LAKE_ROOT: path.join(dir, 'tables'), LAKE_RAW_DIR: path.join(dir, 'raw'), LAKE_LOGS_DIR: path.join(dir, 'logs'), ...server.env() });
  const result = await runIngest({ catalog, settings, command: 'update', today: TODAY, clock, lake, datasets: ['win_totals'], seasons: { from: 1989, to: 2020 } });
  expect(result.failures, JSON.stringify(result.datasets.map((d) => d.error))).toBe(0);
  return result;
}

/** The newest commit of a table: its add actions' seasons and its commitInfo. */
function newestCommit(table: string): { seasons: string[]; info: Record<string, unknown> } {
  const log = path.join(resolveTable(lake, table).tableRoot, '_delta_log');
  const name = readdirSync(log).filter((n) => n.endsWith('.json')).sort().pop()!;
  const actions = readFileSync(path.join(log, name), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, Record<string, unknown>>);
  const seasonsOf = actions.filter((a) => a['add']).map((a) => (a['add']!['partitionValues'] as Record<string, string>)['season']!);
  return { seasons: [...new Set(seasonsOf)].sort(), info: actions.find((a) => a['commitInfo'])!['commitInfo']! };
}

const bronzeRows = async (): Promise<number> => Number((await runQuery(lake, 'SELECT count(*) FROM bronze.win_totals')).rows[0]![0]);
const shifted2020 = (text: string): string => text.replace(/\n(\w+),2020,(\d+)\.5,/g, (_m, team: string, wins: string) => `\n${team},2020,${Number(wins) + 3}.5,`);

beforeAll(async () => {
  server = await startUpstreamServer();
  dir = mkdtempSync(path.join(tmpdir(), 'bronze-republish-'));
  lake = await openLake({ root: path.join(dir, 'tables'), threads: 2 });
  await pull(csv);
});
afterAll(async () => {
  lake.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('bronze: a re-published all-seasons file writes only the partitions whose rows changed', () => {
  it('the first pull writes every season, each file tagged with its file and batch (no digest yet: nothing to compare with)', async () => {
    expect(newestCommit('bronze.win_totals').seasons).toEqual(seasons);
    expect(await bronzeRows()).toBe(lines.length);
    const snapshot = await tableSnapshot(lake, resolveTable(lake, 'bronze.win_totals'));
    for (const file of snapshot.files) {
      expect(file.tags?.[BATCH_TAGS.appId]).toBeTruthy();
      expect(file.tags?.[BATCH_TAGS.ingestedAt]).toMatch(/^2026-11-25T12:01:00/);
      expect(file.tags?.[BATCH_TAGS.rowsDigest]).toBeUndefined();
    }
  });

  it('the first re-publish writes every season again (no digests to compare), now with digests', async () => {
    const result = await pull(`${csv.trimEnd()}\n\n`);
    expect(result.commits).toBe(1);
    expect(newestCommit('bronze.win_totals').seasons).toEqual(seasons);
    expect(await bronzeRows()).toBe(2 * lines.length);
    const snapshot = await tableSnapshot(lake, resolveTable(lake, 'bronze.win_totals'));
    const newest = snapshot.files.filter((f) => f.tags?.[BATCH_TAGS.ingestedAt]?.startsWith('2026-11-25T12:02:00'));
    expect(newest.length).toBeGreaterThanOrEqual(seasons.length);
    for (const file of newest) expect(file.tags?.[BATCH_TAGS.rowsDigest]).toMatch(/^[0-9a-f]{16}:\d+:-?\d+$/);
  });

  it('the same rows in another order (new bytes): one commit naming the file, no rows, every season unchanged', async () => {
    const result = await pull([header, ...[...lines].reverse()].join('\n') + '\n');
    expect(result.commits).toBe(1);
    const { seasons: written, info } = newestCommit('bronze.win_totals');
    expect(written).toEqual([]);
    expect(info['changed_partitions']).toEqual([]);
    expect((info['unchanged_partitions'] as { season: string }[]).map((p) => p.season).sort()).toEqual(seasons);
    expect(await bronzeRows()).toBe(2 * lines.length);
  });

  it('one season changed: only its partition gets a new batch, and the promote after it replaces only that season', async () => {
    await runPromote({ catalog, lake, datasets: ['win_totals'], reportDir: path.join(dir, 'quality'), clock });
    const result = await pull(shifted2020(csv));
    expect(result.commits).toBe(1);
    const { seasons: written, info } = newestCommit('bronze.win_totals');
    expect(written).toEqual(['2020']);
    expect(info['changed_partitions']).toEqual([{ season: '2020' }]);
    expect((info['unchanged_partitions'] as unknown[]).length).toBe(seasons.length - 1);
    const rows2020 = lines.filter((l) => l.split(',')[1] === '2020').length;
    expect(await bronzeRows()).toBe(2 * lines.length + rows2020);

    const promoted = await runPromote({ catalog, lake, datasets: ['win_totals'], reportDir: path.join(dir, 'quality'), clock });
    expect(promoted.datasets[0]!.status, JSON.stringify(promoted.datasets[0]!.error)).toBe('committed');
    expect(newestCommit('silver.win_totals').seasons).toEqual(['2020']);
    const silver = await runQuery(lake, 'SELECT count(*) FROM silver.win_totals');
    expect(Number(silver.rows[0]![0])).toBe(lines.length);
  });

  it('after a rollback of the changed batch, the same changed file is written again (a rolled-back batch is never matched)', async () => {
    const run = String(newestCommit('bronze.win_totals').info['run_id']);
    expect((await rollbackRun(lake, { runId: run, cascade: true })).status).toBe('committed');
    expect(await bronzeRows()).toBe(2 * lines.length);
    // The same shifted rows in new bytes (another order): a new upstream version of the file.
    const [head, ...body] = shifted2020(csv).trimEnd().split('\n');
    expect((await pull([head, ...body.reverse()].join('\n') + '\n')).commits).toBe(1);
    expect(newestCommit('bronze.win_totals').seasons).toEqual(['2020']);
    expect(await bronzeRows()).toBe(2 * lines.length + lines.filter((l) => l.split(',')[1] === '2020').length);
  });

  it('a re-publish with an added column: the drift is reported and every season is written (the partition scan lists them in order)', async () => {
    const before = await bronzeRows();
    const [head, ...body] = shifted2020(csv).trimEnd().split('\n');
    expect((await pull([`${head},note`, ...body.map((l) => `${l},x`)].join('\n') + '\n')).commits).toBe(1);
    const { seasons: written, info } = newestCommit('bronze.win_totals');
    expect(written).toEqual(seasons);
    expect(info['changed_partitions']).toEqual(seasons.map((season) => ({ season })));
    expect(info['unchanged_partitions']).toBeUndefined();
    expect((info['schema_drift'] as { added: { name: string }[] }).added.map((c) => c.name)).toEqual(['note']);
    expect(await bronzeRows()).toBe(before + lines.length);
  });
});
