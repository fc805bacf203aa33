/**
 * Schema drift between an upstream file and what bronze already holds (pure). Types are Delta
 * type keys (`string`, `long`, `double`, `timestamp`, …). The rule (docs/ingest.md):
 * - a new column is additive: the bronze schema evolves (files written before read it as NULL);
 * - a missing column is written as NULL, unless it is a business-key or partition column;
 * - a retyped column is cast to the bronze type when that loses nothing (anything → string,
 *   narrower → wider integer, integer/float → double, date → timestamp); otherwise the change is
 *   incompatible and that dataset stops with SCHEMA_MISMATCH while the others continue.
 */
export interface ColumnType {
  name: string;
  type: string;
}

export interface RetypedColumn {
  name: string;
  from: string;
  to: string;
  resolution: 'cast' | 'incompatible';
}

export interface SchemaDrift {
  added: ColumnType[];
  missing: string[];
  retyped: RetypedColumn[];
}

export interface DriftReport {
  drift: SchemaDrift;
  /** Human descriptions of what cannot be written; empty when the file can be committed. */
  incompatible: string[];
}

const INTEGERS = ['byte', 'short', 'integer', 'long'];
const PRIMITIVE = /^(string|long|integer|short|byte|double|float|boolean|date|timestamp|timestamp_ntz|binary|decimal\(\d+,\d+\))$/;

export function castRule(incoming: string, table: string): 'same' | 'cast' | 'incompatible' {
  if (incoming === table) return 'same';
  if (table === 'string') return PRIMITIVE.test(incoming) ? 'cast' : 'incompatible';
  const from = INTEGERS.indexOf(incoming);
  const to = INTEGERS.indexOf(table);
  if (from >= 0 && to >= 0) return from < to ? 'cast' : 'incompatible';
  if (table === 'double' && (from >= 0 || incoming === 'float' || incoming.startsWith('decimal('))) return 'cast';
  if (table === 'float' && (incoming === 'byte' || incoming === 'short')) return 'cast';
  if (table === 'timestamp' && incoming === 'date') return 'cast';
  return 'incompatible';
}

export function isEmptyDrift(drift: SchemaDrift): boolean {
  return drift.added.length === 0 && drift.missing.length === 0 && drift.retyped.length === 0;
}

/**
 * `previous`: this file's columns when it was last committed (its own history: a missing column
 * is judged against it, since variants and eras of one dataset legitimately differ);
 * `table`: the bronze table's columns (undefined before the first commit);
 * `required`: business-key and partition columns.
 */
export function compareSchemas(incoming: readonly ColumnType[], table: ReadonlyMap<string, string> | undefined, previous: Readonly<Record<string, string>> | undefined, required: readonly string[]): DriftReport {
  const drift: SchemaDrift = { added: [], missing: [], retyped: [] };
  const incompatible: string[] = [];
  const present = new Set(incoming.map((c) => c.name));
  for (const column of required) if (!present.has(column)) incompatible.push(`required column ${column} (business key or partition) is missing`);
  if (previous) for (const name of Object.keys(previous)) if (!present.has(name)) drift.missing.push(name);
  if (!table) return { drift, incompatible };
  for (const column of incoming) {
    const existing = table.get(column.name);
    if (existing === undefined) {
      drift.added.push(column);
      continue;
    }
    const rule = castRule(column.type, existing);
    if (rule === 'same') continue;
    drift.retyped.push({ name: column.name, from: existing, to: column.type, resolution: rule });
    if (rule === 'incompatible') incompatible.push(`column ${column.name} is ${existing} in bronze but ${column.type} upstream`);
  }
  return { drift, incompatible };
}
