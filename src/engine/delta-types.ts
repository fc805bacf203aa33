/**
 * DuckDB ↔ Delta types. Delta has no unsigned, huge or nanosecond types, and our tables carry
 * no table features (`DEFAULT_PROTOCOL`, so no `timestampNtz`), so zone-less timestamps are stored
 * as UTC `timestamp`.
 * `toDeltaType` says which Delta type a DuckDB column is stored as; `storageCast` is the SQL that
 * converts the value to exactly that type before it is written.
 */
import type { DuckDBType, DuckDBDecimalType, DuckDBListType, DuckDBArrayType, DuckDBStructType, DuckDBMapType } from '@duckdb/node-api';
import { DuckDBTypeId } from './duckdb.js';
import { LakeError } from '../core/index.js';
import { isArray, isMap, isStruct, parseDecimal, type DataType } from '../delta/index.js';
import { ident } from './session.js';

/** The Delta type a DuckDB column named `column` is stored as; SCHEMA_MISMATCH when there is none. */
export function toDeltaType(type: DuckDBType, column: string): DataType {
  switch (type.typeId) {
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.UUID:
    case DuckDBTypeId.ENUM:
      return 'string';
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
      return 'long';
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return 'integer';
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return 'short';
    case DuckDBTypeId.TINYINT:
      return 'byte';
    case DuckDBTypeId.UBIGINT:
      return 'decimal(20,0)';
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return 'decimal(38,0)';
    case DuckDBTypeId.DOUBLE:
      return 'double';
    case DuckDBTypeId.FLOAT:
      return 'float';
    case DuckDBTypeId.BOOLEAN:
      return 'boolean';
    case DuckDBTypeId.DATE:
      return 'date';
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return 'timestamp';
    case DuckDBTypeId.BLOB:
      return 'binary';
    case DuckDBTypeId.DECIMAL: {
      const d = type as DuckDBDecimalType;
      return `decimal(${d.width},${d.scale})`;
    }
    case DuckDBTypeId.LIST:
      return { type: 'array', elementType: toDeltaType((type as DuckDBListType).valueType, column), containsNull: true };
    case DuckDBTypeId.ARRAY:
      return { type: 'array', elementType: toDeltaType((type as DuckDBArrayType).valueType, column), containsNull: true };
    case DuckDBTypeId.STRUCT: {
      const s = type as DuckDBStructType;
      return {
        type: 'struct',
        fields: s.entryNames.map((name, i) => ({ name, type: toDeltaType(s.entryTypes[i]!, `${column}.${name}`), nullable: true, metadata: {} })),
      };
    }
    case DuckDBTypeId.MAP: {
      const m = type as DuckDBMapType;
      return { type: 'map', keyType: toDeltaType(m.keyType, column), valueType: toDeltaType(m.valueType, column), valueContainsNull: true };
    }
    case DuckDBTypeId.SQLNULL:
      return 'string';
    default:
      throw new LakeError('SCHEMA_MISMATCH', `column ${column} has DuckDB type ${type.toString()}, which has no Delta Lake equivalent`, {
        hint: 'Cast it in the query (for example to VARCHAR, BIGINT or TIMESTAMPTZ) before writing.',
      });
  }
}

/** The DuckDB SQL type that holds a Delta type. */
export function sqlType(type: DataType): string {
  if (typeof type === 'string') {
    switch (type) {
      case 'string':
        return 'VARCHAR';
      case 'long':
        return 'BIGINT';
      case 'integer':
        return 'INTEGER';
      case 'short':
        return 'SMALLINT';
      case 'byte':
        return 'TINYINT';
      case 'float':
        return 'FLOAT';
      case 'double':
        return 'DOUBLE';
      case 'boolean':
        return 'BOOLEAN';
      case 'binary':
        return 'BLOB';
      case 'date':
        return 'DATE';
      case 'timestamp':
        return 'TIMESTAMPTZ';
      case 'timestamp_ntz':
        return 'TIMESTAMP';
      default: {
        const d = parseDecimal(type);
        if (d) return `DECIMAL(${d.precision},${d.scale})`;
        throw new LakeError('DELTA_PROTOCOL_UNSUPPORTED', `Delta type '${type}' is not supported by this reader`);
      }
    }
  }
  if (isStruct(type)) return `STRUCT(${type.fields.map((f) => `${ident(f.name)} ${sqlType(f.type)}`).join(', ')})`;
  if (isArray(type)) return `${sqlType(type.elementType)}[]`;
  if (isMap(type)) return `MAP(${sqlType(type.keyType)}, ${sqlType(type.valueType)})`;
  throw new LakeError('DELTA_PROTOCOL_UNSUPPORTED', `Delta type ${JSON.stringify(type)} is not supported by this reader`);
}

/** Casts `expr` to the SQL type of `type` (a no-op for DuckDB when it already has that type). */
export function storageCast(expr: string, type: DataType): string {
  return `CAST(${expr} AS ${sqlType(type)})`;
}

/** A timestamp partition value that names its zone (`…Z`, `…+01`, `…-05:00`) after its time of day. */
const ZONED_TIMESTAMP = /\d:\d\d(:\d\d(\.\d+)?)?\s*(Z|[+-]\d\d(:?\d\d)?)$/i;

/**
 * SQL that turns a partition value string from the log into a typed value
 * (PROTOCOL.md "Partition Value Serialization"); NULL stays NULL. A `timestamp` value may be
 * zone-less (`2021-03-14 14:59:59.123456`, UTC: the engine's session time zone) or UTC ISO
 * (`2021-03-14T14:59:59.123456Z`).
 */
export function partitionValueSql(value: string | null, type: DataType): string {
  if (value === null) return `CAST(NULL AS ${sqlType(type)})`;
  const lit = `'${value.replace(/'/g, "''")}'`;
  if (type === 'binary') return `CAST(${lit} AS BLOB)`;
  // A zone-less value is UTC (the protocol's reading, delta-rs's): pinned, so any session zone reads the same instant.
  if (type === 'timestamp') return `CAST('${(ZONED_TIMESTAMP.test(value) ? value : `${value}+00`).replace(/'/g, "''")}' AS TIMESTAMPTZ)`;
  if (typeof type === 'string' && type !== 'string' && value === '') return `CAST(NULL AS ${sqlType(type)})`;
  return `CAST(${lit} AS ${sqlType(type)})`;
}

/** Like `partitionValueSql`, for a VARCHAR expression holding the log string (NULL stays NULL). */
export function partitionExprSql(expr: string, type: DataType): string {
  if (type === 'string') return `CAST(${expr} AS VARCHAR)`;
  if (type === 'timestamp') {
    const v = `NULLIF(${expr}, '')`;
    return `CAST(CASE WHEN regexp_matches(${v}, '${ZONED_TIMESTAMP.source}') THEN ${v} ELSE ${v} || '+00' END AS TIMESTAMPTZ)`;
  }
  if (type === 'binary') return `CAST(${expr} AS BLOB)`;
  return `CAST(NULLIF(${expr}, '') AS ${sqlType(type)})`;
}

/**
 * SQL that turns a typed partition column into its log string (the inverse of
 * `partitionValueSql`); empty strings become NULL, as Spark writes them.
 */
export function partitionStringSql(expr: string, type: DataType): string {
  const c = `(${expr})`;
  // UTC ISO form with the zone (PROTOCOL.md allows it): a zone-less value is read in the reader's
  // session time zone by Spark, hours off outside UTC. Read back in either form (partitionValueSql).
  if (type === 'timestamp') return `strftime(timezone('UTC', CAST(${c} AS TIMESTAMPTZ)), '%Y-%m-%dT%H:%M:%S.%fZ')`;
  if (type === 'timestamp_ntz') return `strftime(CAST(${c} AS TIMESTAMP), '%Y-%m-%d %H:%M:%S.%f')`;
  if (type === 'date') return `strftime(${c}, '%Y-%m-%d')`;
  if (type === 'boolean') return `CASE WHEN ${c} IS NULL THEN NULL WHEN ${c} THEN 'true' ELSE 'false' END`;
  return `NULLIF(CAST(${c} AS VARCHAR), '')`;
}
