/**
 * delta: the Delta Lake protocol (PROTOCOL.md), in the spirit of delta-kernel-rs: actions, log
 * paths and segments, replay, snapshots, table-property rules, `_last_checkpoint` and commits.
 * It does no I/O of its own: files go through the storage port, checkpoint Parquet through the
 * `CheckpointReader` the engine hands in. May use core and storage only.
 */
export * from './actions.js';
export * from './log-path.js';
export * from './log.js';
export * from './last-checkpoint.js';
export * from './replay.js';
export * from './add-columns.js';
export * from './snapshot.js';
export * from './schema.js';
export * from './partition.js';
export * from './protocol.js';
export * from './table-properties.js';
export * from './stats.js';
export * from './commit.js';
export * from './deletion-vector.js';
export * from './column-mapping.js';
