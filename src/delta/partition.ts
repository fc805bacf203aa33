/**
 * Partition values and data-file paths (PROTOCOL.md "Partition Value Serialization", "Add File").
 * Values in `add.partitionValues` are strings, `null` for NULL. `add.path` is a relative URI:
 * each path segment is percent-encoded (RFC 3986 unreserved characters stay as they are).
 */

/** Hive's directory name for a NULL partition value. */
export const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';

/** Percent-encodes a relative file path for `add.path`, segment by segment. */
export function encodeAddPath(relativePath: string): string {
  return relativePath
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment)
        .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
        .replace(/%3D/g, '='), // '=' is legal in a URI path segment; Hive folders read `col=value`
    )
    .join('/');
}

/** Decodes `add.path`. Paths written by other tools may contain literal `%` that is not an escape. */
export function decodeAddPath(addPath: string): string {
  if (!addPath.includes('%')) return addPath; // the common case, and hot: once per file in replay
  try {
    return decodeURIComponent(addPath);
  } catch {
    return addPath;
  }
}

/** True when `add.path` is an absolute URI (`file:/…`, `s3://…`) rather than a table-relative path. */
export function isAbsoluteUri(addPath: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(addPath);
}

/** Escapes one partition value for a Hive-style directory name (`col=value`), as DuckDB and Spark do. */
export function hiveEscape(value: string | null): string {
  if (value === null) return HIVE_NULL;
  return encodeURIComponent(value);
}

/** The canonical key of a partition: its values in partition-column order, JSON-encoded. */
export function partitionKey(partitionColumns: readonly string[], values: Record<string, string | null>): string {
  return JSON.stringify(partitionColumns.map((c) => values[c] ?? null));
}
