/**
 * Column mapping (PROTOCOL.md "Column Mapping", "Reader Requirements for Column Mapping"): how each
 * logical column, nested struct fields included, is found in one Parquet data file.
 * - `none`: by the logical (display) name;
 * - `name`: by `delta.columnMapping.physicalName`;
 * - `id`: by the Parquet `field_id` equal to `delta.columnMapping.id`.
 * A column the file does not hold reads as NULL. Pure: the file's schema tree is handed in.
 */
import { LakeError } from '../core/index.js';
import { isArray, isMap, isStruct, physicalName, type ColumnMappingMode, type DataType, type StructField } from './schema.js';

/** One element of a Parquet file's schema tree (as DuckDB's `parquet_schema` lists it). */
export interface ParquetNode {
  name: string;
  fieldId: number | undefined;
  children: ParquetNode[];
}

export type Resolution =
  | { kind: 'leaf' }
  | { kind: 'struct'; fields: FieldResolution[] }
  | { kind: 'array'; element: Resolution }
  | { kind: 'map'; key: Resolution; value: Resolution };

export interface FieldResolution {
  logical: string;
  /** The field's name inside the file; `undefined` when the file does not hold it. */
  physical: string | undefined;
  type: DataType;
  resolution: Resolution;
}

export function columnMappingId(field: StructField): number | undefined {
  const id = field.metadata['delta.columnMapping.id'];
  return typeof id === 'number' ? id : typeof id === 'string' && /^\d+$/.test(id) ? Number(id) : undefined;
}

function findNode(nodes: readonly ParquetNode[], field: StructField, mode: ColumnMappingMode): ParquetNode | undefined {
  if (mode === 'id') {
    const id = columnMappingId(field);
    if (id === undefined) {
      throw new LakeError('DELTA_LOG_CORRUPT', `column ${field.name} has no delta.columnMapping.id, which column mapping mode 'id' requires`, {
        hint: 'The table schema is incomplete; check which tool wrote it.',
      });
    }
    return nodes.find((n) => n.fieldId === id);
  }
  const name = physicalName(field, mode);
  return nodes.find((n) => n.name === name) ?? nodes.find((n) => n.name.toLowerCase() === name.toLowerCase());
}

/** The element node of a Parquet LIST group (three-level layout, with the legacy two-level forms). */
function listElement(node: ParquetNode): ParquetNode | undefined {
  const repeated = node.children[0];
  if (!repeated) return undefined;
  if (repeated.children.length === 1 && repeated.name !== 'array' && repeated.name !== `${node.name}_tuple`) return repeated.children[0];
  return repeated;
}

function resolveType(type: DataType, mode: ColumnMappingMode, node: ParquetNode | undefined): Resolution {
  if (isStruct(type)) return { kind: 'struct', fields: resolveFields(type.fields, mode, node?.children) };
  if (isArray(type)) return { kind: 'array', element: resolveType(type.elementType, mode, node ? listElement(node) : undefined) };
  if (isMap(type)) {
    const entries = node?.children[0];
    return { kind: 'map', key: resolveType(type.keyType, mode, entries?.children[0]), value: resolveType(type.valueType, mode, entries?.children[1]) };
  }
  return { kind: 'leaf' };
}

/**
 * Resolves `fields` against the nodes of one file. `nodes` undefined means the file's schema is not
 * known (not read because the file is known to hold every column under its expected name).
 */
export function resolveFields(fields: readonly StructField[], mode: ColumnMappingMode, nodes: readonly ParquetNode[] | undefined): FieldResolution[] {
  return fields.map((field) => {
    if (!nodes) return { logical: field.name, physical: physicalName(field, mode), type: field.type, resolution: resolveType(field.type, mode, undefined) };
    const node = findNode(nodes, field, mode);
    return { logical: field.name, physical: node?.name, type: field.type, resolution: resolveType(field.type, mode, node) };
  });
}

/** True when a nested value must be rebuilt to carry logical names (some struct field is renamed or absent). */
export function needsRebuild(resolution: Resolution): boolean {
  switch (resolution.kind) {
    case 'leaf':
      return false;
    case 'struct':
      return resolution.fields.some((f) => f.physical !== f.logical || needsRebuild(f.resolution));
    case 'array':
      return needsRebuild(resolution.element);
    case 'map':
      return needsRebuild(resolution.key) || needsRebuild(resolution.value);
  }
}

/**
 * A file's partition values keyed by logical column name. With column mapping, writers key
 * `partitionValues` by physical name (PROTOCOL.md "Writer Requirements for Column Mapping");
 * a value keyed by the logical name is accepted too.
 */
export function logicalPartitionValues(
  partitionFields: readonly StructField[],
  mode: ColumnMappingMode,
  values: Record<string, string | null>,
): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const field of partitionFields) {
    const physical = physicalName(field, mode);
    out[field.name] = (physical in values ? values[physical] : values[field.name]) ?? null;
  }
  return out;
}

/** Rebuilds the schema tree of one file from `parquet_schema` rows (depth-first, one file's rows in order). */
export function parquetTree(rows: ReadonlyArray<{ name: string; numChildren: number; fieldId: number | undefined }>): ParquetNode[] {
  const root: ParquetNode = { name: '', fieldId: undefined, children: [] };
  const stack: Array<{ node: ParquetNode; remaining: number }> = [{ node: root, remaining: rows[0]?.numChildren ?? 0 }];
  for (const row of rows.slice(1)) {
    while (stack.length > 0 && stack[stack.length - 1]!.remaining === 0) stack.pop();
    const parent = stack[stack.length - 1];
    if (!parent) break;
    const node: ParquetNode = { name: row.name, fieldId: row.fieldId, children: [] };
    parent.node.children.push(node);
    parent.remaining -= 1;
    if (row.numChildren > 0) stack.push({ node, remaining: row.numChildren });
  }
  return root.children;
}
