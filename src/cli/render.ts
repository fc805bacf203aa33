/** Turns query values into text for the three output formats. Pure. */
export type OutputFormat = 'table' | 'csv' | 'json';

export function jsonValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(jsonValue);
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    // DuckDB values (exact mode): lists/arrays, structs, maps, blobs; others print exactly via toString.
    if (Array.isArray(obj['items'])) return (obj['items'] as unknown[]).map(jsonValue);
    if (obj['bytes'] instanceof Uint8Array) return Buffer.from(obj['bytes']).toString('base64');
    if (Array.isArray(obj['entries'])) return Object.fromEntries((obj['entries'] as { key: unknown; value: unknown }[]).map((e) => [String(jsonValue(e.key)), jsonValue(e.value)]));
    if (typeof obj['entries'] === 'object' && obj['entries'] !== null && obj.constructor !== Object) {
      return Object.fromEntries(Object.entries(obj['entries'] as Record<string, unknown>).map(([k, v]) => [k, jsonValue(v)]));
    }
    if (typeof obj['toString'] === 'function' && obj.constructor !== Object) {
      const text = String(value);
      if (text !== '[object Object]') return text;
    }
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, jsonValue(v)]));
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value;
}

export function textValue(value: unknown): string {
  const v = jsonValue(value);
  if (v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function renderRows(columns: string[], rows: unknown[][], format: OutputFormat): string {
  if (format === 'json') {
    return rows.map((row) => JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, jsonValue(row[i])])))).join('\n') + (rows.length > 0 ? '\n' : '');
  }
  if (format === 'csv') {
    return [columns.map(csvField).join(','), ...rows.map((row) => row.map((v) => (v === null || v === undefined ? '' : csvField(textValue(v)))).join(','))].join('\n') + '\n';
  }
  const cells = rows.map((row) => row.map((v) => (v === null || v === undefined ? 'NULL' : textValue(v))));
  const widths = columns.map((c, i) => Math.min(60, Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length))));
  const clip = (s: string, w: number): string => (s.length > w ? `${s.slice(0, w - 1)}…` : s.padEnd(w));
  const line = (values: string[]): string => values.map((v, i) => clip(v, widths[i]!)).join(' │ ').trimEnd();
  const out = [line(columns), widths.map((w) => '─'.repeat(w)).join('─┼─'), ...cells.map(line)];
  out.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return out.join('\n') + '\n';
}

/** `n noun`, the noun in the plural unless n is 1 ("1 file", "2 files", "0 rows"); `nouns` for irregular plurals. */
export function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : nouns}`;
}
