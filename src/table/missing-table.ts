import { LakeError } from '../core/index.js';
import { hasEntries } from '../storage/index.js';
import type { Lake } from './lake.js';
import { listLakeTables } from './vacuum.js';

/**
 * What to say when a table is not in the lake: the lake root that was searched and the tables it
 * holds (with the nearest names to the one asked for), or, for an empty lake, how to fill it.
 */

/** How the user fills an empty lake or points the CLI at an existing one. */
export const FILL_THE_LAKE =
  'Fill it with `lake demo --root .` (the shipped sample, into ./tables), or `lake bootstrap --years 2024` then `lake promote` and `lake build-gold`; or point LAKE_ROOT (environment or .env) at an existing lake root.';

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next.push(Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    row = next;
  }
  return row[b.length]!;
}

/** The known names closest to `name` (a typo, or the same dataset in another layer), best first. */
export function nearestNames(name: string, known: readonly string[], max = 3): string[] {
  const dataset = name.split('.').at(-1) ?? name;
  const scored = known.map((k) => {
    const d = distance(name, k);
    const sameDataset = (k.split('.').at(-1) ?? k) === dataset;
    return { k, score: sameDataset ? Math.min(d, 1) : d };
  });
  const limit = Math.max(2, Math.floor(name.length / 3));
  return scored
    .filter((s) => s.score <= limit)
    .sort((a, b) => a.score - b.score || (a.k < b.k ? -1 : 1))
    .slice(0, max)
    .map((s) => s.k);
}

/** One sentence on what the lake at `lake.root` holds: its tables, or that it is empty (and how to fill it). */
export async function lakeContents(lake: Pick<Lake, 'root'>): Promise<{ tables: string[]; text: string }> {
  const rootExists = await hasEntries(lake.root);
  const tables = rootExists ? (await listLakeTables(lake)).map((t) => t.name) : [];
  if (tables.length === 0) {
    const where = rootExists ? `The lake at ${lake.root} has no tables yet.` : `The lake root ${lake.root} does not exist.`;
    return { tables, text: `${where} ${FILL_THE_LAKE}` };
  }
  const shown = tables.length > 40 ? [...tables.slice(0, 40), `… (${tables.length - 40} more)`] : tables;
  return { tables, text: `Tables in the lake at ${lake.root}: ${shown.join(', ')}.` };
}

/** TABLE_NOT_FOUND for lake tables (`layer.dataset`) the lake does not hold, naming the root, the nearest names and what is there. */
export async function missingTableError(lake: Pick<Lake, 'root'>, names: readonly string[], cause?: unknown): Promise<LakeError> {
  const contents = await lakeContents(lake);
  const near = [...new Set(names.flatMap((n) => nearestNames(n, contents.tables)))];
  const list = names.join(', ');
  const message = `${names.length === 1 ? `no table ${list}` : `no tables ${list}`} in the lake at ${lake.root}${near.length > 0 ? `; did you mean ${near.join(' or ')}?` : ''}`;
  return new LakeError('TABLE_NOT_FOUND', message, { cause, hint: contents.text, details: { root: lake.root, tables: names } });
}

/** A TABLE_NOT_FOUND error with the lake's contents as its hint (its own hint kept first), for errors raised where the lake was not at hand. */
export async function withLakeContents(lake: Pick<Lake, 'root'>, error: LakeError): Promise<LakeError> {
  const contents = await lakeContents(lake);
  if (error.hint?.includes(contents.text)) return error;
  return new LakeError(error.code, error.message, { cause: error, hint: [error.hint, contents.text].filter(Boolean).join(' '), details: { ...error.details, root: lake.root } });
}
