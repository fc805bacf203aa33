import { ident, literal } from '../../engine/index.js';

/**
 * The identity of an upstream file as bronze records it in `source`: its URL without scheme and
 * host (`/nflverse/nflverse-data/releases/download/pbp/play_by_play_2024.parquet`). The same file
 * served from another host or port (a mirror, a changed `NFLVERSE_BASE_URL`, a local upstream on
 * another port) is the same source: its newer batch supersedes the older one (silver's
 * `latest_batch` dedupe) and counts among that source's batches (bronze GC retention). A source
 * without a scheme (a local path) is its own identity. One pattern serves SQL and TypeScript.
 */
const SCHEME_AND_HOST = '^[A-Za-z][A-Za-z0-9+.-]*://[^/]*';
const SCHEME_AND_HOST_RE = new RegExp(SCHEME_AND_HOST);

/** `sourceId` in SQL, over a column (default `source`); NULL stays NULL. */
export function sourceIdSql(column = ident('source')): string {
  return `regexp_replace(${column}, ${literal(SCHEME_AND_HOST)}, '')`;
}

/** The source identity of one `source` value (null stays null). */
export function sourceId(source: string): string;
export function sourceId(source: string | null): string | null;
export function sourceId(source: string | null): string | null {
  return source === null ? null : source.replace(SCHEME_AND_HOST_RE, '');
}
