/**
 * A local stand-in for the upstreams: a real HTTP server on 127.0.0.1 that serves the shipped
 * sample (data/sample/) in the upstream URL layouts (nflverse-data release assets, raw GitHub
 * files), with ETag / Last-Modified, conditional requests (304) and fault injection. CSV samples
 * are rendered to the Parquet files the catalog asks for, with the nflverse_* key-value metadata
 * nflverse writes, lazily and once per server. Keys are asset keys: `<upstream>/<path>` (e.g.
 * `nflverse/pbp/play_by_play_2020.parquet`). `lake demo` and the tests ingest from it offline.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { LakeError } from '../../core/index.js';
import { literal, openEngine, type Engine } from '../../engine/index.js';

/** Each upstream's URL prefix on the server, and the variable that points the catalog's upstream at it. */
export const UPSTREAM_MOUNTS: Record<string, { prefix: string; env: string }> = {
  nflverse: { prefix: '/nflverse/nflverse-data/releases/download', env: 'NFLVERSE_BASE_URL' },
  nfldata: { prefix: '/nflverse/nfldata/master', env: 'NFLDATA_BASE_URL' },
  dynastyprocess: { prefix: '/dynastyprocess/data/raw/master', env: 'DYNASTYPROCESS_BASE_URL' },
  mrcaseb: { prefix: '/mrcaseb/nfl-data/master', env: 'MRCASEB_BASE_URL' },
};

export interface SampleRoute {
  /** Sample file, relative to the sample folder. */
  file: string;
  /** Render to Parquet (optionally only the rows matching `where`). */
  parquet?: { where?: string };
  gzip?: boolean;
}

/** Asset key → the sample file that answers it. */
export const SAMPLE_ROUTES: Record<string, SampleRoute> = {
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

export type UpstreamFault =
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

export interface UpstreamRequest {
  key: string;
  /** The status answered; 0 for a request left hanging before its headers. */
  status: number;
  conditional: boolean;
}

export interface LocalUpstreamOptions {
  /** The sample folder (data/sample/ of a checkout). */
  sampleDir: string;
  /**
   * A release folder (e.g. written by scripts/scale/generate.mjs): every file under it answers at
   * its asset key (its path below the folder, `nflverse/pbp/play_by_play_1999.parquet`) instead of
   * the sample routes. Files are read per request, so a file rewritten between requests is served
   * as a new version (new ETag from its bytes, Last-Modified from its mtime).
   */
  releaseDir?: string;
  /** A folder the server owns while it runs: rendered Parquet files go there (the caller removes it). */
  scratchDir: string;
  routes?: Record<string, SampleRoute>;
  /** DuckDB threads for rendering Parquet. */
  threads?: number;
}

export interface LocalUpstream {
  origin: string;
  /** Base URL of every upstream, by upstream name. */
  baseUrls: Record<string, string>;
  /** The settings variables (NFLVERSE_BASE_URL, …) pointing every upstream at this server. */
  env(): Record<string, string>;
  requests: UpstreamRequest[];
  /** Faults answer the next requests of `key`, one each, in order. */
  fault(key: string, ...faults: UpstreamFault[]): void;
  /** Replace a file's bytes (a new upstream version: new ETag and Last-Modified); undefined removes it (404). */
  setFile(key: string, bytes: Buffer | undefined): void;
  /** The current bytes of a served file. */
  content(key: string): Promise<Buffer>;
  /** A Parquet rendering of a sample route with other nflverse_timestamp metadata; `sql` reads the sample as `{source}`. */
  renderParquet(key: string, options: { timestamp: string; sql?: string }): Promise<Buffer>;
  close(): Promise<void>;
}

interface Content {
  bytes: Buffer;
  etag: string;
  lastModified: string;
}

/** Last-Modified of the first version of every file; each new version is a minute later. */
const BASE_TIME = Date.parse('2026-02-11T13:24:07Z');
const SAMPLE_TIMESTAMP = '2026-02-11 08:24:07 EST';

export async function startLocalUpstream(options: LocalUpstreamOptions): Promise<LocalUpstream> {
  const routes = options.routes ?? SAMPLE_ROUTES;
  let engine: Promise<Engine> | undefined;
  const contents = new Map<string, Promise<Content | undefined>>();
  const faults = new Map<string, UpstreamFault[]>();
  const requests: UpstreamRequest[] = [];
  const hanging = new Set<ServerResponse>();
  let versions = 0;
  let renders = 0;

  const makeContent = (bytes: Buffer): Content => {
    versions += 1;
    return { bytes, etag: `"${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}"`, lastModified: new Date(BASE_TIME + versions * 60_000).toUTCString() };
  };

  const toParquet = async (route: SampleRoute, render: { timestamp: string; sql?: string }): Promise<Buffer> => {
    engine ??= openEngine({ threads: options.threads ?? 1 });
    const source = literal(path.join(options.sampleDir, route.file));
    const reader = route.file.endsWith('.parquet') ? `read_parquet(${source})` : `read_csv(${source}, nullstr = ['NA', ''], sample_size = -1)`;
    const target = path.join(options.scratchDir, `render-${++renders}.parquet`);
    const select = render.sql?.replaceAll('{source}', reader) ?? `SELECT * FROM ${reader}${route.parquet?.where ? ` WHERE ${route.parquet.where}` : ''}`;
    const metadata = `KV_METADATA {nflverse_timestamp: ${literal(render.timestamp)}, nflverse_type: ${literal(path.dirname(route.file))}}`;
    await (await engine).run(`COPY (${select}) TO ${literal(target)} (FORMAT parquet, COMPRESSION zstd, ${metadata})`);
    return readFileSync(target);
  };

  const load = async (key: string): Promise<Content | undefined> => {
    const route = routes[key];
    if (!route) return undefined;
    if (route.parquet) return makeContent(await toParquet(route, { timestamp: SAMPLE_TIMESTAMP }));
    const raw = readFileSync(path.join(options.sampleDir, route.file));
    return makeContent(route.gzip ? gzipSync(raw) : raw);
  };

  /** ETags of release files by (mtime, size); the bytes are read per request, not kept (full-size releases are GBs). */
  const releaseTags = new Map<string, { mtimeMs: number; size: number; etag: string }>();
  const releaseContent = (key: string): Content | undefined => {
    if (key.split('/').includes('..')) return undefined;
    const file = path.join(options.releaseDir!, ...key.split('/'));
    let stat;
    try {
      stat = statSync(file);
    } catch {
      return undefined;
    }
    if (!stat.isFile()) return undefined;
    const bytes = readFileSync(file);
    let known = releaseTags.get(key);
    if (!known || known.mtimeMs !== stat.mtimeMs || known.size !== stat.size) {
      known = { mtimeMs: stat.mtimeMs, size: stat.size, etag: `"${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}"` };
      releaseTags.set(key, known);
    }
    return { bytes, etag: known.etag, lastModified: new Date(Math.floor(stat.mtimeMs / 1000) * 1000).toUTCString() };
  };

  const contentOf = (key: string): Promise<Content | undefined> => {
    if (options.releaseDir && !contents.has(key)) return Promise.resolve(releaseContent(key));
    let c = contents.get(key);
    if (!c) {
      c = load(key);
      contents.set(key, c);
    }
    return c;
  };

  const resolveKey = (pathname: string): string | undefined => {
    for (const [name, mount] of Object.entries(UPSTREAM_MOUNTS)) {
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
      res.writeHead(302, { location: `/__hop/${fault.redirects}/${encodeURIComponent(key)}?X-Amz-Expires=300&X-Amz-Signature=${createHash('sha1').update(`${key}${requests.length}`).digest('hex').slice(0, 12)}` });
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
    const ifNoneMatch = req.headers['if-none-match'];
    const ifModifiedSince = req.headers['if-modified-since'];
    const notModified = ifNoneMatch !== undefined ? ifNoneMatch === content.etag : ifModifiedSince !== undefined && Date.parse(ifModifiedSince) >= Date.parse(content.lastModified);
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

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const hop = /^\/__hop\/(\d+)\/(.+)$/.exec(url.pathname);
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

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const baseUrls = Object.fromEntries(Object.entries(UPSTREAM_MOUNTS).map(([name, m]) => [name, `${origin}${m.prefix}`]));

  return {
    origin,
    baseUrls,
    env: () => Object.fromEntries(Object.entries(UPSTREAM_MOUNTS).map(([name, m]) => [m.env, baseUrls[name]!])),
    requests,
    fault(key, ...list) {
      faults.set(key, [...(faults.get(key) ?? []), ...list]);
    },
    setFile(key, bytes) {
      contents.set(key, Promise.resolve(bytes === undefined ? undefined : makeContent(bytes)));
    },
    async content(key) {
      const c = await contentOf(key);
      if (!c) throw new LakeError('USAGE', `the local upstream serves no file ${key}`, { hint: `Serve it with setFile(${JSON.stringify(key)}, bytes) or add a sample route.` });
      return c.bytes;
    },
    renderParquet(key, render) {
      const route = routes[key];
      if (!route) throw new LakeError('USAGE', `the local upstream has no sample route ${key}`, { hint: `Routes: ${Object.keys(routes).join(', ')}` });
      return toParquet(route, render);
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (engine) (await engine).close();
    },
  };
}
