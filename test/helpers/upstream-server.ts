import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { openEngine, type Engine } from '../../src/engine/index.js';
import { REPO_ROOT } from './child.js';

/**
 * A real HTTP server on 127.0.0.1 that serves the shipped sample (data/sample/) in the upstream
 * URL layouts (nflverse-data release assets, raw GitHub files), with ETag / Last-Modified,
 * conditional requests and fault injection. CSV samples are converted to the Parquet files the
 * catalog asks for (with nflverse_* key-value metadata, as nflverse writes them), lazily and
 * once per server. Keys are asset keys: `<upstream>/<path>` (e.g. `nflverse/pbp/play_by_play_2020.parquet`).
 */
export const SAMPLE_DIR = path.join(REPO_ROOT, 'data/sample');

export const MOUNTS: Record<string, { prefix: string; env: string }> = {
  nflverse: { prefix: '/nflverse/nflverse-data/releases/download', env: 'NFLVERSE_BASE_URL' },
  nfldata: { prefix: '/nflverse/nfldata/master', env: 'NFLDATA_BASE_URL' },
  dynastyprocess: { prefix: '/dynastyprocess/data/raw/master', env: 'DYNASTYPROCESS_BASE_URL' },
  mrcaseb: { prefix: '/mrcaseb/nfl-data/master', env: 'MRCASEB_BASE_URL' },
};

interface Route {
  /** Sample file, relative to data/sample. */
  file: string;
  /** Convert to Parquet (optionally only the rows matching `where`). */
  parquet?: { where?: string };
  gzip?: boolean;
}

export const SAMPLE_ROUTES: Record<string, Route> = {
  'nflverse/pbp/play_by_play_2020.parquet': { file: 'pbp/play_by_play_2020_week01.parquet' },
  'nflverse/player_stats/player_stats_2023.parquet': { file: 'player_stats/player_stats_legacy_week_2023_2024.csv', parquet: { where: 'season = 2023' } },
  'nflverse/player_stats/player_stats_2024.parquet': { file: 'player_stats/player_stats_legacy_week_2023_2024.csv', parquet: { where: 'season = 2024' } },
  'nflverse/schedules/games.parquet': { file: 'schedules/games_2023_2024.csv', parquet: {} },
  'nflverse/rosters/roster_2023.parquet': { file: 'rosters/roster_2023.csv', parquet: {} },
  'nflverse/nextgen_stats/ngs_passing.parquet': { file: 'nextgen_stats/ngs_2020_passing.csv.gz', parquet: {} },
  'nflverse/nextgen_stats/ngs_rushing.parquet': { file: 'nextgen_stats/ngs_2020_rushing.csv.gz', parquet: {} },
  'nflverse/nextgen_stats/ngs_receiving.parquet': { file: 'nextgen_stats/ngs_2020_receiving.csv.gz', parquet: {} },
  'nflverse/injuries/injuries_2025.parquet': { file: 'injuries/injuries_2025.csv', parquet: {} },
  'nflverse/depth_charts/depth_charts_2025.parquet': { file: 'depth_charts/depth_charts_2025_2026_subset.csv', parquet: { where: 'season = 2025' } },
  'nflverse/depth_charts/depth_charts_2026.parquet': { file: 'depth_charts/depth_charts_2025_2026_subset.csv', parquet: { where: 'season = 2026' } },
  'nflverse/draft_picks/draft_picks.parquet': { file: 'draft_picks/draft_picks_2022_2025.csv', parquet: {} },
  'nflverse/combine/combine.parquet': { file: 'combine/combine_2022_2026.csv', parquet: {} },
  'nflverse/officials/officials.parquet': { file: 'officials/officials_2023_2024.csv', parquet: {} },
  'nflverse/trades/trades.parquet': { file: 'trades/trades.csv', parquet: {} },
  'nflverse/teams/teams_colors_logos.parquet': { file: 'teams/teams_colors_logos.csv', parquet: {} },
  'nflverse/contracts/historical_contracts.parquet': { file: 'contracts/historical_contracts_2022snapshot_signed_2020plus.csv', parquet: {} },
  'nflverse/espn_data/qbr_season_level.parquet': { file: 'espn_qbr/qbr_nfl_season.csv', parquet: {} },
  'nflverse/espn_data/qbr_week_level.parquet': { file: 'espn_qbr/qbr_nfl_weekly_2023.csv', parquet: {} },
  'dynastyprocess/files/db_playerids.csv': { file: 'ids/db_playerids.csv' },
  'mrcaseb/data/historical_win_totals.csv': { file: 'betting/historical_win_totals.csv' },
  'mrcaseb/data/nfl_lines_odds.csv.gz': { file: 'betting/nfl_lines_odds_2021_week01.csv', gzip: true },
  'nfldata/data/sc_lines.csv': { file: 'betting/sc_lines.csv' },
};

/**
 * Bootstrap groups that fetch exactly the sampled files (a per-season file that is missing for a
 * past season is an error, so each group asks only for sampled seasons), with the sample's rows.
 */
export const SAMPLE_PLAN: { datasets: string[]; years: string }[] = [
  {
    datasets: ['pbp', 'nextgen_stats', 'schedules', 'draft_picks', 'combine', 'officials', 'win_totals', 'lines', 'scoring_lines', 'trades', 'teams', 'contracts', 'player_ids', 'espn_qbr'],
    years: '2020',
  },
  { datasets: ['player_stats_legacy'], years: '2023-2024' },
  { datasets: ['rosters'], years: '2023' },
  { datasets: ['injuries', 'depth_charts'], years: '2025-2026' },
];

/** Rows per bronze table after SAMPLE_PLAN, from data/sample/MANIFEST.csv. */
export function sampleRowCounts(): Record<string, number> {
  const manifest = readFileSync(path.join(SAMPLE_DIR, 'MANIFEST.csv'), 'utf8').split('\n').slice(1);
  const rows = new Map<string, number>();
  for (const line of manifest) {
    const [file, , , count] = line.split(',');
    if (file && count) rows.set(file, Number(count));
  }
  const r = (f: string): number => rows.get(f) ?? NaN;
  return {
    pbp: r('pbp/play_by_play_2020_week01.parquet'),
    nextgen_stats: r('nextgen_stats/ngs_2020_passing.csv.gz') + r('nextgen_stats/ngs_2020_rushing.csv.gz') + r('nextgen_stats/ngs_2020_receiving.csv.gz'),
    schedules: r('schedules/games_2023_2024.csv'),
    draft_picks: r('draft_picks/draft_picks_2022_2025.csv'),
    combine: r('combine/combine_2022_2026.csv'),
    officials: r('officials/officials_2023_2024.csv'),
    win_totals: r('betting/historical_win_totals.csv'),
    lines: r('betting/nfl_lines_odds_2021_week01.csv'),
    scoring_lines: r('betting/sc_lines.csv'),
    trades: r('trades/trades.csv'),
    teams: r('teams/teams_colors_logos.csv'),
    contracts: r('contracts/historical_contracts_2022snapshot_signed_2020plus.csv'),
    player_ids: r('ids/db_playerids.csv'),
    espn_qbr: r('espn_qbr/qbr_nfl_season.csv') + r('espn_qbr/qbr_nfl_weekly_2023.csv'),
    player_stats_legacy: r('player_stats/player_stats_legacy_week_2023_2024.csv'),
    rosters: r('rosters/roster_2023.csv'),
    injuries: r('injuries/injuries_2025.csv'),
    depth_charts: r('depth_charts/depth_charts_2025_2026_subset.csv'),
  };
}

export type Fault =
  /** Answer with this status (and Retry-After); the body is a short text. */
  | { status: number; retryAfter?: string }
  /** Accept the request and never answer (headers) or stop after half the body (body). */
  | { hang: 'headers' | 'body' }
  /** Redirect this many times (302, to signed-looking storage URLs) before serving. */
  | { redirects: number }
  /** Serve an HTML error page with status 200. */
  | { html: true }
  /** Serve only the first `truncate` bytes (with a matching Content-Length). */
  | { truncate: number }
  /** Wait this long, then answer normally. */
  | { delayMs: number };

export interface RequestRecord {
  key: string;
  status: number;
  conditional: boolean;
}

interface Content {
  bytes: Buffer;
  etag: string;
  lastModified: string;
}

export interface UpstreamServer {
  origin: string;
  baseUrls: Record<string, string>;
  /** The environment pointing every upstream at this server. */
  env(): Record<string, string>;
  requests: RequestRecord[];
  /** Faults answer the next requests of `key`, one each, in order. */
  fault(key: string, ...faults: Fault[]): void;
  /** Replace a file's bytes (a new upstream version: new ETag and Last-Modified); undefined removes it (404). */
  setFile(key: string, bytes: Buffer | undefined): void;
  /** The current bytes of a served file. */
  content(key: string): Promise<Buffer>;
  /** A Parquet rendering of a sample route with other nflverse_timestamp metadata: same rows, new bytes. */
  renderParquet(key: string, options: { timestamp: string; sql?: string }): Promise<Buffer>;
  close(): Promise<void>;
}

const BASE_TIME = Date.parse('2026-02-11T13:24:07Z');

export async function startUpstreamServer(): Promise<UpstreamServer> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'upstream-'));
  let engine: Engine | undefined;
  const contents = new Map<string, Promise<Content | undefined>>();
  const faults = new Map<string, Fault[]>();
  const requests: RequestRecord[] = [];
  const hanging = new Set<ServerResponse>();
  let versions = 0;

  const makeContent = (bytes: Buffer): Content => {
    versions += 1;
    return {
      bytes,
      etag: `"${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}"`,
      lastModified: new Date(BASE_TIME + versions * 60_000).toUTCString(),
    };
  };

  const toParquet = async (route: Route, options: { timestamp: string; sql?: string }): Promise<Buffer> => {
    engine ??= await openEngine({ threads: 1 });
    const source = path.join(SAMPLE_DIR, route.file);
    const reader = route.file.endsWith('.parquet') ? `read_parquet('${source}')` : `read_csv('${source}', nullstr = ['NA', ''], sample_size = -1)`;
    const target = path.join(scratch, `${createHash('sha1').update(`${route.file}${route.parquet?.where ?? ''}${options.timestamp}${options.sql ?? ''}${Math.random()}`).digest('hex')}.parquet`);
    const select = options.sql ?? `SELECT * FROM ${reader}${route.parquet?.where ? ` WHERE ${route.parquet.where}` : ''}`;
    await engine.run(
      `COPY (${select.replace('{source}', reader)}) TO '${target}' (FORMAT parquet, COMPRESSION zstd, KV_METADATA {nflverse_timestamp: '${options.timestamp}', nflverse_type: '${path.dirname(route.file)}'})`,
    );
    return readFileSync(target);
  };

  const load = async (key: string): Promise<Content | undefined> => {
    const route = SAMPLE_ROUTES[key];
    if (!route) return undefined;
    if (route.parquet) return makeContent(await toParquet(route, { timestamp: '2026-02-11 08:24:07 EST' }));
    const raw = readFileSync(path.join(SAMPLE_DIR, route.file));
    return makeContent(route.gzip ? gzipSync(raw) : raw);
  };

  const contentOf = (key: string): Promise<Content | undefined> => {
    let c = contents.get(key);
    if (!c) {
      c = load(key);
      contents.set(key, c);
    }
    return c;
  };

  const resolveKey = (pathname: string): string | undefined => {
    for (const [name, mount] of Object.entries(MOUNTS)) {
      if (pathname.startsWith(`${mount.prefix}/`)) return `${name}/${decodeURIComponent(pathname.slice(mount.prefix.length + 1))}`;
    }
    return undefined;
  };

  const serve = async (req: IncomingMessage, res: ServerResponse, key: string, applyFaults: boolean): Promise<number> => {
    const conditional = req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined;
    let fault = applyFaults ? faults.get(key)?.shift() : undefined;
    if (fault && 'delayMs' in fault) {
      await new Promise((resolve) => setTimeout(resolve, (fault as { delayMs: number }).delayMs));
      fault = undefined;
    }
    const content = await contentOf(key);
    const record = (status: number): number => {
      requests.push({ key, status, conditional });
      return status;
    };
    if (fault && 'status' in fault) {
      res.writeHead(fault.status, { 'content-type': 'text/plain', ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}) });
      res.end(`injected ${fault.status}\n`);
      return record(fault.status);
    }
    if (fault && 'redirects' in fault) {
      res.writeHead(302, { location: `/__hop/${fault.redirects}/${encodeURIComponent(key)}?X-Amz-Expires=300&X-Amz-Signature=${Math.random().toString(16).slice(2)}` });
      res.end();
      return record(302);
    }
    if (fault && 'html' in fault) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html>\n<html><head><title>Unicorn! · GitHub</title></head><body>This page is taking too long to load.</body></html>\n');
      return record(200);
    }
    if (!content) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not Found');
      return record(404);
    }
    if (fault && 'hang' in fault) {
      hanging.add(res);
      if (fault.hang === 'body') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(content.bytes.length), etag: content.etag });
        res.write(content.bytes.subarray(0, Math.floor(content.bytes.length / 2)));
      }
      return record(fault.hang === 'body' ? 200 : 0);
    }
    const notModified = req.headers['if-none-match'] !== undefined ? req.headers['if-none-match'] === content.etag : req.headers['if-modified-since'] !== undefined && Date.parse(req.headers['if-modified-since']) >= Date.parse(content.lastModified);
    if (notModified) {
      res.writeHead(304, { etag: content.etag, 'last-modified': content.lastModified });
      res.end();
      return record(304);
    }
    const bytes = fault && 'truncate' in fault ? content.bytes.subarray(0, fault.truncate) : content.bytes;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length), etag: content.etag, 'last-modified': content.lastModified });
    res.end(bytes);
    return record(200);
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const hop = /^\/__hop\/(\d+)\/(.+)$/.exec(url.pathname);
    const handle = async (): Promise<void> => {
      if (hop) {
        const left = Number(hop[1]) - 1;
        const key = decodeURIComponent(hop[2]!);
        if (left > 0) {
          res.writeHead(302, { location: `/__hop/${left}/${encodeURIComponent(key)}?X-Amz-Expires=300` });
          res.end();
          return;
        }
        await serve(req, res, key, false);
        return;
      }
      const key = resolveKey(url.pathname);
      if (!key) {
        res.writeHead(404);
        res.end('Not Found');
        return;
      }
      await serve(req, res, key, true);
    };
    handle().catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const baseUrls = Object.fromEntries(Object.entries(MOUNTS).map(([name, m]) => [name, `${origin}${m.prefix}`]));

  return {
    origin,
    baseUrls,
    env: () => Object.fromEntries(Object.entries(MOUNTS).map(([name, m]) => [m.env, baseUrls[name]!])),
    requests,
    fault(key, ...list) {
      faults.set(key, [...(faults.get(key) ?? []), ...list]);
    },
    setFile(key, bytes) {
      contents.set(key, Promise.resolve(bytes === undefined ? undefined : makeContent(bytes)));
    },
    async content(key) {
      const c = await contentOf(key);
      if (!c) throw new Error(`no content for ${key}`);
      return c.bytes;
    },
    renderParquet(key, options) {
      const route = SAMPLE_ROUTES[key];
      if (!route) throw new Error(`no sample route ${key}`);
      return toParquet(route, options);
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      engine?.close();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
