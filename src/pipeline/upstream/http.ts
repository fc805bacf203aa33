import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { LakeError, type Clock } from '../../core/index.js';
import { nextRetry, type Failure, type RetryPolicy } from './retry.js';

/**
 * Downloads one upstream file with Node's global fetch (undici): manual redirects (counted,
 * never forwarding credentials — we send none), a per-request timeout that covers the wait for
 * headers and every pause inside the body, conditional requests (ETag / Last-Modified) and a
 * sha256 of the bytes computed while streaming to disk. Retries follow retry.ts; waiting goes
 * through the injected Clock.
 */
export interface DownloadRequest {
  /** The canonical URL (what we record; redirect targets are never recorded as the file's identity). */
  url: string;
  /** Where the body is written (the caller validates and moves it). */
  target: string;
  etag?: string | undefined;
  lastModified?: string | undefined;
  timeoutMs: number;
  userAgent: string;
  policy: RetryPolicy;
  clock: Clock;
  random?: () => number;
  maxRedirects?: number;
  /** Called before each wait, for logs and progress. */
  onRetry?: (info: { attempt: number; delayMs: number; failure: string }) => void;
  /**
   * Bytes of the body received so far, as they stream (0 when a 200 starts; an attempt after a
   * retry starts again from 0), with the size announced by Content-Length when there is one.
   */
  onBytes?: (received: number, expected: number | undefined) => void;
}

export type DownloadResult =
  | { status: 'not-modified'; attempts: number; redirects: number }
  | { status: 'absent'; httpStatus: number; attempts: number; redirects: number }
  | {
      status: 'downloaded';
      size: number;
      sha256: string;
      etag: string | undefined;
      lastModified: string | undefined;
      contentType: string | undefined;
      attempts: number;
      redirects: number;
    };

const REDIRECT = new Set([301, 302, 303, 307, 308]);

type Attempt = { ok: true; result: DownloadResult } | { ok: false; failure: Failure; final?: LakeError };

class TimeoutAbort extends Error {
  constructor(readonly ms: number) {
    super(`no data for ${ms} ms`);
  }
}

function describeFailure(failure: Failure): string {
  return failure.kind === 'status' ? `HTTP ${failure.status}` : failure.message;
}

function networkMessage(error: unknown, signal: AbortSignal): string {
  if (signal.aborted && signal.reason instanceof TimeoutAbort) return `timed out (${signal.reason.message})`;
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error instanceof Error ? error.message : String(error)}${cause}`;
}

async function attemptOnce(request: DownloadRequest): Promise<Attempt> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new TimeoutAbort(request.timeoutMs)), request.timeoutMs);
  };
  const headers: Record<string, string> = {
    'user-agent': request.userAgent,
    accept: 'application/octet-stream, text/csv, */*',
  };
  if (request.etag) headers['if-none-match'] = request.etag;
  if (request.lastModified) headers['if-modified-since'] = request.lastModified;
  const maxRedirects = request.maxRedirects ?? 10;
  let url = request.url;
  let redirects = 0;
  arm();
  try {
    for (;;) {
      let response: Response;
      try {
        response = await fetch(url, { redirect: 'manual', headers, signal: controller.signal });
      } catch (error) {
        return { ok: false, failure: { kind: 'network', message: networkMessage(error, controller.signal) } };
      }
      if (REDIRECT.has(response.status)) {
        const location = response.headers.get('location');
        await response.body?.cancel().catch(() => undefined);
        if (!location) return { ok: false, failure: { kind: 'status', status: response.status }, final: statusError(request.url, response.status, 'a redirect without a Location header') };
        redirects += 1;
        if (redirects > maxRedirects) {
          return { ok: false, failure: { kind: 'status', status: response.status }, final: statusError(request.url, response.status, `more than ${maxRedirects} redirects`) };
        }
        url = new URL(location, url).toString();
        arm();
        continue;
      }
      if (response.status === 304) {
        await response.body?.cancel().catch(() => undefined);
        return { ok: true, result: { status: 'not-modified', attempts: 0, redirects } };
      }
      if (response.status === 404 || response.status === 410) {
        await response.body?.cancel().catch(() => undefined);
        return { ok: true, result: { status: 'absent', httpStatus: response.status, attempts: 0, redirects } };
      }
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        return { ok: false, failure: { kind: 'status', status: response.status, retryAfter: response.headers.get('retry-after') } };
      }
      return await streamBody(request, response, controller.signal, arm, redirects);
    }
  } finally {
    if (timer) clearTimeout(timer);
  }
}

async function streamBody(request: DownloadRequest, response: Response, signal: AbortSignal, arm: () => void, redirects: number): Promise<Attempt> {
  const hash = createHash('sha256');
  const file = await open(request.target, 'w');
  const expected = response.headers.get('content-length');
  const announced = expected !== null && /^\d+$/.test(expected) && !response.headers.get('content-encoding') ? Number(expected) : undefined;
  let size = 0;
  try {
    request.onBytes?.(0, announced);
    if (response.body) {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        arm();
        hash.update(chunk);
        size += chunk.byteLength;
        await file.write(chunk);
        request.onBytes?.(size, announced);
      }
    }
    if (announced !== undefined && announced !== size) {
      throw new Error(`connection closed after ${size} of ${expected} bytes`);
    }
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(request.target, { force: true });
    return { ok: false, failure: { kind: 'network', message: networkMessage(error, signal) } };
  }
  await file.close();
  return {
    ok: true,
    result: {
      status: 'downloaded',
      size,
      sha256: hash.digest('hex'),
      etag: response.headers.get('etag') ?? undefined,
      lastModified: response.headers.get('last-modified') ?? undefined,
      contentType: response.headers.get('content-type') ?? undefined,
      attempts: 0,
      redirects,
    },
  };
}

function statusError(url: string, status: number, problem: string): LakeError {
  return new LakeError('INGEST_HTTP_STATUS', `${url}: ${problem} (HTTP ${status})`, {
    hint: 'Check the URL and the base URL setting (NFLVERSE_BASE_URL or the upstream in catalog/datasets.yml).',
    details: { url, status },
  });
}

/** Downloads with retries. Throws a LakeError (INGEST_HTTP_STATUS or INGEST_UNREACHABLE) when it gives up. */
export async function download(request: DownloadRequest): Promise<DownloadResult> {
  for (let attempt = 1; ; attempt++) {
    const outcome = await attemptOnce(request);
    if (outcome.ok) return { ...outcome.result, attempts: attempt };
    if (outcome.final) throw outcome.final;
    const decision = nextRetry(outcome.failure, attempt, request.policy, request.clock.now(), request.random);
    if (!decision.retry) {
      const what = describeFailure(outcome.failure);
      const details = { url: request.url, attempts: attempt, failure: what, ...(outcome.failure.kind === 'status' ? { status: outcome.failure.status } : {}) };
      if (outcome.failure.kind === 'network') {
        throw new LakeError('INGEST_UNREACHABLE', `${request.url}: ${what}; ${decision.reason}`, {
          hint: 'The upstream is unreachable or too slow. Check the network and the base URL, or raise lake.http.timeout_ms; run again later.',
          details,
        });
      }
      throw new LakeError('INGEST_HTTP_STATUS', `${request.url}: ${what}; ${decision.reason}`, {
        hint: outcome.failure.status === 429 || outcome.failure.status >= 500 ? 'The upstream is throttling or failing; run again later (nothing was committed).' : 'Check the URL and the base URL setting.',
        details,
      });
    }
    request.onRetry?.({ attempt, delayMs: decision.delayMs, failure: describeFailure(outcome.failure) });
    await request.clock.sleep(decision.delayMs);
  }
}
