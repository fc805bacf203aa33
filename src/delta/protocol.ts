/**
 * Protocol versions and table features (PROTOCOL.md "Protocol Evolution", "Table Features"): which
 * tables this implementation reads and writes, checked before anything is read or written.
 */
import { LakeError } from '../core/index.js';
import type { MetadataAction, ProtocolAction } from './actions.js';
import { parseSchemaString, type StructType } from './schema.js';

/**
 * The reader and writer features this implementation supports. Anything else is refused with
 * DELTA_PROTOCOL_UNSUPPORTED naming the feature: never wrong rows.
 */
export const SUPPORTED_READER_FEATURES: ReadonlySet<string> = new Set(['timestampNtz', 'deletionVectors', 'columnMapping', 'v2Checkpoint']);
export const SUPPORTED_WRITER_FEATURES: ReadonlySet<string> = new Set(['appendOnly', 'invariants', 'timestampNtz']);

/**
 * The protocol our writer creates tables with: reader 1 / writer 2 and no table features, so every
 * Delta reader accepts our tables (README.md "How tables are stored", "Compatibility").
 */
export const DEFAULT_PROTOCOL: ProtocolAction = { minReaderVersion: 1, minWriterVersion: 2 };

function legacyReaderFeatures(version: number): string[] {
  // Reader version 2 introduced column mapping; version 3 lists features explicitly.
  return version >= 2 ? ['columnMapping'] : [];
}

function legacyWriterFeatures(version: number): string[] {
  const features = ['appendOnly', 'invariants'];
  if (version >= 3) features.push('checkConstraints');
  if (version >= 4) features.push('changeDataFeed', 'generatedColumns');
  if (version >= 5) features.push('columnMapping');
  if (version >= 6) features.push('identityColumns');
  return features;
}

export function readerFeatures(protocol: ProtocolAction): string[] {
  return protocol.minReaderVersion >= 3 ? (protocol.readerFeatures ?? []) : legacyReaderFeatures(protocol.minReaderVersion);
}

export function writerFeatures(protocol: ProtocolAction): string[] {
  return protocol.minWriterVersion >= 7 ? (protocol.writerFeatures ?? []) : legacyWriterFeatures(protocol.minWriterVersion);
}

export function assertReadable(protocol: ProtocolAction, table: string): void {
  if (protocol.minReaderVersion > 3) {
    throw new LakeError('DELTA_PROTOCOL_UNSUPPORTED', `${table} needs Delta reader version ${protocol.minReaderVersion}; this reader supports up to 3`, {
      hint: 'Read the table with a newer Delta reader.',
    });
  }
  const missing = readerFeatures(protocol).filter((f) => !SUPPORTED_READER_FEATURES.has(f));
  if (missing.length > 0) {
    throw new LakeError('DELTA_PROTOCOL_UNSUPPORTED', `${table} uses the Delta reader feature(s) ${missing.join(', ')}, which this reader does not support`, {
      hint: 'Read the table with delta-rs or Spark, or rewrite it without the feature.',
      details: { features: missing },
    });
  }
}

/** Refuses to write a table whose writer features we do not implement, before anything is written. */
export function assertWritable(protocol: ProtocolAction, metadata: MetadataAction, table: string): void {
  if (protocol.minWriterVersion > 7) {
    throw new LakeError('DELTA_WRITE_UNSUPPORTED', `${table} needs Delta writer version ${protocol.minWriterVersion}; this writer supports up to 7`);
  }
  const features = new Set([...writerFeatures(protocol), ...readerFeatures(protocol)]);
  const missing = [...features].filter((f) => !SUPPORTED_WRITER_FEATURES.has(f));
  if (missing.length > 0) {
    throw new LakeError('DELTA_WRITE_UNSUPPORTED', `${table} uses the Delta writer feature(s) ${missing.join(', ')}, which this writer does not implement; the table was left untouched`, {
      hint: 'Write to this table with delta-rs or Spark, or copy its rows into a new table with `lake write`.',
      details: { features: missing },
    });
  }
  const schema = parseSchemaString(metadata.schemaString, table);
  if (hasInvariants(schema)) {
    throw new LakeError('DELTA_WRITE_UNSUPPORTED', `${table} declares column invariants (delta.invariants), which this writer does not enforce; the table was left untouched`, {
      hint: 'Write to this table with Spark, which enforces invariants.',
    });
  }
}

function hasInvariants(schema: StructType): boolean {
  return schema.fields.some((f) => 'delta.invariants' in f.metadata || (typeof f.type === 'object' && f.type.type === 'struct' && hasInvariants(f.type)));
}

export function isAppendOnly(metadata: MetadataAction): boolean {
  return metadata.configuration['delta.appendOnly'] === 'true';
}
