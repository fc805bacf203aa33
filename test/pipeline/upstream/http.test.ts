import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/core/index.js';
import { download, type DownloadRequest } from '../../../src/pipeline/index.js';
import { startUpstreamServer, type UpstreamServer } from '../../helpers/upstream-server.js';

const KEY = 'mrcaseb/data/historical_win_totals.csv';
let server: UpstreamServer;
let dir: string;

function fakeClock(): Clock & { sleeps: number[] } {
  const sleeps: number[] = [];
  let now = Date.parse('2026-11-25T12:00:00Z');
  return { sleeps, now: () => now, sleep: async (ms) => { sleeps.push(ms); now += ms; } };
}

function request(clock: Clock, extra: Partial<DownloadRequest> = {}): DownloadRequest {
  return {
    url: `${server.baseUrls['mrcaseb']}/data/historical_win_totals.csv`,
    target: path.join(dir, `${Math.random()}.part`),
    timeoutMs: 1000,
    userAgent: 'nfl-lakehouse-test',
    policy: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 60_000 },
    clock,
    random: () => 0,
    ...extra,
  };
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; exitCode: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; exitCode: number; message: string };
  }
  throw new Error('expected a failure');
}

beforeAll(async () => {
  server = await startUpstreamServer();
  dir = mkdtempSync(path.join(tmpdir(), 'http-'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('download against a real local HTTP server', () => {
  it('downloads with sha256, ETag and Last-Modified; a conditional request for the same ETag is a 304', async () => {
    const clock = fakeClock();
    const first = await download(request(clock, { target: path.join(dir, 'a.csv') }));
    const bytes = readFileSync(path.join(dir, 'a.csv'));
    expect(first).toMatchObject({ status: 'downloaded', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), attempts: 1 });
    if (first.status !== 'downloaded') throw new Error('unreachable');
    expect(first.etag).toMatch(/^".+"$/);
    const second = await download(request(clock, { etag: first.etag, lastModified: first.lastModified }));
    expect(second).toMatchObject({ status: 'not-modified', attempts: 1 });
    expect(server.requests.at(-1)).toMatchObject({ key: KEY, status: 304, conditional: true });
  });

  it('retries a 500 and succeeds, waiting through the injected clock', async () => {
    const clock = fakeClock();
    server.fault(KEY, { status: 500 });
    expect(await download(request(clock))).toMatchObject({ status: 'downloaded', attempts: 2 });
    expect(clock.sleeps).toEqual([50]);
  });

  it('honours Retry-After on 429', async () => {
    const clock = fakeClock();
    server.fault(KEY, { status: 429, retryAfter: '7' }, { status: 503, retryAfter: '2' });
    expect(await download(request(clock))).toMatchObject({ status: 'downloaded', attempts: 3 });
    expect(clock.sleeps).toEqual([7000, 2000]);
  });

  it('times out a hanging response (no headers, then a stalled body) and retries', async () => {
    const clock = fakeClock();
    server.fault(KEY, { hang: 'headers' }, { hang: 'body' });
    expect(await download(request(clock, { timeoutMs: 400 }))).toMatchObject({ status: 'downloaded', attempts: 3 });
    expect(clock.sleeps).toEqual([50, 100]);
  });

  it('reports bytes as they stream with the Content-Length, starting again from 0 when a stalled body is retried', async () => {
    server.fault(KEY, { hang: 'body' });
    const calls: [number, number | undefined][] = [];
    const result = await download(request(fakeClock(), { timeoutMs: 400, onBytes: (received, expected) => calls.push([received, expected]) }));
    if (result.status !== 'downloaded') throw new Error(`expected a download, got ${result.status}`);
    const starts = calls.flatMap(([received], i) => (received === 0 ? [i] : []));
    expect(starts).toHaveLength(2); // the stalled attempt, then the retry
    const [stalled, retried] = [calls.slice(0, starts[1]), calls.slice(starts[1])];
    expect(stalled.at(-1)![0]).toBeGreaterThan(0);
    expect(stalled.at(-1)![0]).toBeLessThan(result.size);
    expect(retried.at(-1)).toEqual([result.size, result.size]);
    for (const attempt of [stalled, retried]) {
      expect(attempt.every(([, expected]) => expected === result.size)).toBe(true);
      expect(attempt.every(([received], i) => i === 0 || received > attempt[i - 1]![0])).toBe(true);
    }
  });

  it('gives up on a response that always hangs with INGEST_UNREACHABLE (exit 5)', async () => {
    server.fault(KEY, { hang: 'headers' }, { hang: 'headers' }, { hang: 'headers' });
    const error = await failure(download(request(fakeClock(), { timeoutMs: 100 })));
    expect(error).toMatchObject({ code: 'INGEST_UNREACHABLE', exitCode: 5 });
    expect(error.message).toMatch(/timed out \(no data for 100 ms\); gave up after 3 attempts/);
  });

  it('follows a redirect chain to the storage host', async () => {
    server.fault(KEY, { redirects: 3 });
    expect(await download(request(fakeClock()))).toMatchObject({ status: 'downloaded', redirects: 3 });
  });

  it('stops a redirect loop with INGEST_HTTP_STATUS, without retrying', async () => {
    server.fault(KEY, { redirects: 50 });
    const error = await failure(download(request(fakeClock(), { maxRedirects: 5 })));
    expect(error).toMatchObject({ code: 'INGEST_HTTP_STATUS', exitCode: 5 });
    expect(error.message).toMatch(/more than 5 redirects/);
  });

  it('does not retry a 403; a 404 is reported as absent', async () => {
    const clock = fakeClock();
    server.fault(KEY, { status: 403 });
    const error = await failure(download(request(clock)));
    expect(error).toMatchObject({ code: 'INGEST_HTTP_STATUS' });
    expect(error.message).toMatch(/HTTP 403; HTTP 403 is not retried/);
    expect(clock.sleeps).toEqual([]);
    expect(await download(request(clock, { url: `${server.baseUrls['nflverse']}/injuries/injuries_2031.parquet` }))).toMatchObject({ status: 'absent', httpStatus: 404 });
  });

  it('gives up after the attempts run out on repeated 5xx', async () => {
    server.fault(KEY, { status: 502 }, { status: 502 }, { status: 502 });
    const error = await failure(download(request(fakeClock())));
    expect(error).toMatchObject({ code: 'INGEST_HTTP_STATUS', exitCode: 5 });
    expect(error.message).toMatch(/HTTP 502; gave up after 3 attempts/);
  });
});
