export { openEngine, ident, literal } from './session.js';
export type { Engine, EngineOptions } from './session.js';
export { toDeltaType, toDeltaSchema, sqlType, storageCast, partitionValueSql, partitionStringSql } from './delta-types.js';
export { writeDataFiles, SCHEMA_WIDTH_TAG } from './parquet-writer.js';
export type { WriteFilesOptions } from './parquet-writer.js';
export { scanSql, dataFilePath } from './scan.js';
export type { ScanOptions } from './scan.js';
export { duckdbCheckpointReader } from './checkpoint-reader.js';
export { writeCheckpoint, parseIntervalMs, deletedFileRetentionMs, CHECKPOINT_COLUMNS, DEFAULT_DELETED_FILE_RETENTION, type CheckpointOptions, type CheckpointResult } from './checkpoint-writer.js';
