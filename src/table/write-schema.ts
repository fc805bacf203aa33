import type { DuckDBType } from '@duckdb/node-api';
import { LakeError } from '../core/index.js';
import { parseDecimal, sameColumns, typeKey, type DataType, type Snapshot, type StructField, type StructType } from '../delta/index.js';
import { DuckDBTypeId, toDeltaType } from '../engine/index.js';
import type { Lake } from './lake.js';
import type { WriteOptions } from './write.js';

/** The schema side of a write: what the input query produces, and the schema the commit leaves. */
const WIDENING: Record<string, string[]> = {
  byte: ['short', 'integer', 'long', 'float', 'double'],
  short: ['integer', 'long', 'float', 'double'],
  integer: ['long', 'double'],
  long: [],
  float: ['double'],
};

function assignable(from: DataType, to: DataType): boolean {
  if (typeKey(from) === typeKey(to)) return true;
  if (typeof from !== 'string' || typeof to !== 'string') return false;
  if ((WIDENING[from] ?? []).includes(to)) return true;
  // Decimals widen when neither the integer digits nor the scale shrink.
  const target = parseDecimal(to);
  const INTEGER_DIGITS: Record<string, number> = { byte: 3, short: 5, integer: 10, long: 19 };
  const source = parseDecimal(from) ?? (INTEGER_DIGITS[from] ? { precision: INTEGER_DIGITS[from]!, scale: 0 } : undefined);
  return target !== undefined && source !== undefined && target.scale >= source.scale && target.precision - target.scale >= source.precision - source.scale;
}

export interface InputColumn {
  name: string;
  type: DataType;
  isNull: boolean;
}

export async function describeSource(lake: Lake, source: string): Promise<InputColumn[]> {
  let names: string[];
  let types: DuckDBType[];
  try {
    const result = await lake.engine.connection.run(`SELECT * FROM (${source}) AS src LIMIT 0`);
    names = result.columnNames();
    types = result.columnTypes();
  } catch (cause) {
    throw new LakeError('SQL_ERROR', `the input query failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause, hint: 'Check the --from query or file.' });
  }
  return names.map((name, i) => ({ name, type: toDeltaType(types[i]!, name), isNull: types[i]!.typeId === DuckDBTypeId.SQLNULL }));
}

/** The schema the commit leaves the table with, and whether it changed. */
export function targetSchema(table: string, input: InputColumn[], snapshot: Snapshot | undefined, options: WriteOptions): { schema: StructType; changed: boolean } {
  const inputSchema: StructType = { type: 'struct', fields: input.map((c) => ({ name: c.name, type: c.type, nullable: true, metadata: {} })) };
  if (!snapshot) return { schema: inputSchema, changed: true };
  const mode = options.schemaMode ?? 'strict';
  if (mode === 'overwrite') {
    if (options.mode !== 'overwrite') throw new LakeError('USAGE', `schema mode 'overwrite' needs --mode overwrite (table ${table})`);
    return { schema: inputSchema, changed: !sameColumns(inputSchema, snapshot.schema) };
  }
  const byName = new Map(snapshot.schema.fields.map((f) => [f.name.toLowerCase(), f]));
  const added: StructField[] = [];
  for (const column of input) {
    const field = byName.get(column.name.toLowerCase());
    if (!field) {
      if (mode === 'merge') added.push({ name: column.name, type: column.type, nullable: true, metadata: {} });
      else
        throw new LakeError('SCHEMA_MISMATCH', `${table}: the input has column ${column.name}, which the table does not have`, {
          hint: 'Drop the column from the input, or add it to the table with --schema-mode merge.',
          details: { column: column.name },
        });
      continue;
    }
    if (!column.isNull && !assignable(column.type, field.type)) {
      throw new LakeError('SCHEMA_MISMATCH', `${table}: column ${field.name} is ${typeKey(field.type)} in the table but ${typeKey(column.type)} in the input`, {
        hint: 'Cast the column in the input query, or rewrite the table with --mode overwrite --schema-mode overwrite.',
        details: { column: field.name, tableType: typeKey(field.type), inputType: typeKey(column.type) },
      });
    }
  }
  if (added.length === 0) return { schema: snapshot.schema, changed: false };
  return { schema: { type: 'struct', fields: [...snapshot.schema.fields, ...added] }, changed: true };
}
