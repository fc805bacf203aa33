/**
 * Locations: where a table, a log entry or a data file lives, as one string. A local location is
 * an absolute path; a remote one is a URL (`s3://bucket/prefix/…`). Everything that builds a
 * location from a table root goes through these helpers, never `path.join` (which collapses
 * `s3://b/x` to `s3:/b/x`), so the Delta code never knows which store it talks to.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

const REMOTE = /^s3:\/\//i;

/** True for `s3://…` locations (the S3 store), false for local paths. */
export function isRemote(location: string): boolean {
  return REMOTE.test(location);
}

/** The scheme of a remote location (`s3`), or `file` for a local path. */
export function schemeOf(location: string): 's3' | 'file' {
  return isRemote(location) ? 's3' : 'file';
}

function trimSlashes(part: string): string {
  return part.replace(/^\/+|\/+$/g, '');
}

/** `path.join` for locations: `/` separators and no collapsing of `s3://` on a remote base. */
export function joinLocation(base: string, ...parts: string[]): string {
  if (!isRemote(base)) return path.join(base, ...parts);
  const rest = parts.map(trimSlashes).filter((p) => p !== '' && p !== '.');
  const head = base.replace(/\/+$/, '');
  return rest.length === 0 ? head : `${head}/${rest.join('/')}`;
}

/** `path.dirname` for locations (the bucket root stays `s3://bucket`). */
export function dirnameLocation(location: string): string {
  if (!isRemote(location)) return path.dirname(location);
  const trimmed = location.replace(/\/+$/, '');
  const cut = trimmed.lastIndexOf('/');
  return cut <= 'S3://'.length ? trimmed : trimmed.slice(0, cut);
}

/** `path.basename` for locations. */
export function basenameLocation(location: string): string {
  if (!isRemote(location)) return path.basename(location);
  const trimmed = location.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** `path.relative(base, location)` with `/` separators, for a location under `base`. */
export function relativeLocation(base: string, location: string): string {
  if (!isRemote(base)) return path.relative(base, location).split(path.sep).join('/');
  const prefix = `${base.replace(/\/+$/, '')}/`;
  return location.startsWith(prefix) ? location.slice(prefix.length) : location;
}

/** Makes a user-given root a location: a URL stays as written (less a trailing `/`), a path becomes absolute. */
export function resolveLocation(location: string): string {
  return isRemote(location) ? location.replace(/\/+$/, '') : path.resolve(location);
}

/** `s3://bucket/key/prefix` → bucket and key (no leading `/`). */
export function parseS3Location(location: string): { bucket: string; key: string } {
  const rest = location.replace(REMOTE, '');
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  return { bucket, key };
}

/**
 * The local folder that holds what cannot live on an object store for the lake at `root` (run
 * lock, spill folders, checkpoint cache): `<LAKE_TEMP_DIR or the OS temp folder>/nfl-lakehouse-s3/<hash of root>`.
 * For a local root, undefined (those live under the root itself).
 */
export function localStateDir(root: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!isRemote(root)) return undefined;
  const base = env['LAKE_TEMP_DIR']?.trim() || os.tmpdir();
  return path.join(base, 'nfl-lakehouse-s3', createHash('sha256').update(resolveLocation(root)).digest('hex').slice(0, 16));
}
