/** Delta schema model (PROTOCOL.md "Schema Serialization Format"). */
import { LakeError } from '../core/index.js';

export type PrimitiveTypeName =
  | 'string'
  | 'long'
  | 'integer'
  | 'short'
  | 'byte'
  | 'float'
  | 'double'
  | 'boolean'
  | 'binary'
  | 'date'
  | 'timestamp'
  | 'timestamp_ntz'
  | `decimal(${number},${number})`;

export type DataType = PrimitiveTypeName | StructType | ArrayType | MapType | { type: 'variant' } | string;

export interface StructField {
  name: string;
  type: DataType;
  nullable: boolean;
  metadata: Record<string, unknown>;
}

export interface StructType {
  type: 'struct';
  fields: StructField[];
}

export interface ArrayType {
  type: 'array';
  elementType: DataType;
  containsNull: boolean;
}

export interface MapType {
  type: 'map';
  keyType: DataType;
  valueType: DataType;
  valueContainsNull: boolean;
}

export function isStruct(t: DataType): t is StructType {
  return typeof t === 'object' && t.type === 'struct';
}
export function isArray(t: DataType): t is ArrayType {
  return typeof t === 'object' && t.type === 'array';
}
export function isMap(t: DataType): t is MapType {
  return typeof t === 'object' && t.type === 'map';
}

export function parseSchemaString(schemaString: string, where: string): StructType {
  let value: unknown;
  try {
    value = JSON.parse(schemaString);
  } catch (cause) {
    throw new LakeError('DELTA_LOG_CORRUPT', `${where}: metaData.schemaString is not valid JSON`, { cause });
  }
  if (typeof value !== 'object' || value === null || (value as { type?: unknown }).type !== 'struct') {
    throw new LakeError('DELTA_LOG_CORRUPT', `${where}: metaData.schemaString is not a struct type`);
  }
  return value as StructType;
}

export function serializeSchema(schema: StructType): string {
  return JSON.stringify(schema);
}

const DECIMAL = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/;

export function parseDecimal(t: string): { precision: number; scale: number } | undefined {
  const m = DECIMAL.exec(t);
  return m ? { precision: Number(m[1]), scale: Number(m[2]) } : undefined;
}

/** Types a table may hold as partition columns (PROTOCOL.md "Partition Value Serialization"). */
export function isPartitionableType(t: DataType): boolean {
  if (typeof t !== 'string') return false;
  return (
    ['string', 'long', 'integer', 'short', 'byte', 'float', 'double', 'boolean', 'binary', 'date', 'timestamp', 'timestamp_ntz'].includes(t) ||
    parseDecimal(t) !== undefined
  );
}

/** Logical name → physical name for column mapping (`delta.columnMapping.physicalName`); identity otherwise. */
export function physicalName(field: StructField, mode: ColumnMappingMode): string {
  if (mode === 'none') return field.name;
  const physical = field.metadata['delta.columnMapping.physicalName'];
  return typeof physical === 'string' ? physical : field.name;
}

export type ColumnMappingMode = 'none' | 'name' | 'id';

export function columnMappingMode(configuration: Record<string, string>): ColumnMappingMode {
  const mode = configuration['delta.columnMapping.mode'] ?? 'none';
  if (mode === 'none' || mode === 'name' || mode === 'id') return mode;
  throw new LakeError('DELTA_PROTOCOL_UNSUPPORTED', `unknown delta.columnMapping.mode '${mode}'`);
}

/** Same fields in the same order with equal types (nullability and metadata ignored). */
export function sameColumns(a: StructType, b: StructType): boolean {
  if (a.fields.length !== b.fields.length) return false;
  return a.fields.every((f, i) => {
    const g = b.fields[i];
    return g !== undefined && g.name === f.name && typeKey(f.type) === typeKey(g.type);
  });
}

export function typeKey(t: DataType): string {
  if (typeof t === 'string') return t.replace(/\s+/g, '');
  if (isStruct(t)) return `struct<${t.fields.map((f) => `${f.name}:${typeKey(f.type)}`).join(',')}>`;
  if (isArray(t)) return `array<${typeKey(t.elementType)}>`;
  if (isMap(t)) return `map<${typeKey(t.keyType)},${typeKey(t.valueType)}>`;
  return JSON.stringify(t);
}
