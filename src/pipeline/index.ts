/*
 * Result naming: a run returns a `<Run>RunResult` (`IngestRunResult`, `PromoteRunResult` and
 * `GoldRunResult` extend `RunSummary`; `RollbackRunResult`); one item of a run is an
 * `<Item>Outcome` (`DatasetOutcome`, `AssetOutcome`, `DatasetPromoteOutcome`, `PartitionOutcome`,
 * `MartOutcome`, `TableRollbackOutcome`), carrying a `RunError` when it failed; counters inside a
 * result are `…Metrics`.
 */
export * from './catalog/index.js';
export * from './run/index.js';
export * from './quality/index.js';
export * from './upstream/index.js';
export * from './bronze/index.js';
export * from './silver/index.js';
export * from './gold/index.js';
export * from './ops/index.js';
