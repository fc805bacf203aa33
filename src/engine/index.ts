/**
 * engine: DuckDB, the one place that turns Delta into SQL and Parquet. Sessions, Delta ↔ DuckDB
 * types, data-file and checkpoint writing, checkpoint reading (the delta room's `CheckpointReader`),
 * the native scan SQL and DuckDB's delta extension. May use core, storage and delta.
 */
export { DuckDBInstance, DuckDBTypeId, VARCHAR } from './duckdb.js';
export { openEngine, ident, literal, configureEngines, engineBudget, assertMemoryLimit, removeStaleSpillFolders, memoryLimitBytes, DEFAULT_MEMORY_LIMIT, MEMORY_LIMIT_PATTERN } from './session.js';
export type { Engine, EngineOptions, EngineBudget } from './session.js';
export { toDeltaType, sqlType, storageCast, partitionValueSql, partitionExprSql, partitionStringSql } from './delta-types.js';
export { writeDataFiles, SCHEMA_WIDTH_TAG, filesFor, rowGroupSizeFor, partitionFolder, partitionLogStringSql } from './parquet-writer.js';
export type { WriteFilesOptions } from './parquet-writer.js';
export { scanSql, dataFilePath } from './scan.js';
export { enableS3, s3SecretSql } from './s3.js';
export type { ScanOptions } from './scan.js';
export { duckdbCheckpointReader, checkpointStatsSql } from './checkpoint-reader.js';
export { writeCheckpoint, CHECKPOINT_COLUMNS, type CheckpointOptions, type CheckpointResult } from './checkpoint-writer.js';
export { installDeltaExtension, deltaExtensionStatus, DELTA_EXTENSION_PACKAGE, INSTALLABLE_EXTENSIONS, extensionPackage, type InstallableExtension, type InstallDeltaExtensionOptions, type DeltaExtensionInstall, type DeltaExtensionSource, type DeltaExtensionStatus } from './extension.js';
