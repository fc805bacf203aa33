export { BATCH_TAGS, STAMP_COLUMNS, bronzeTable, upstreamVersion, upstreamFileIdentity, writeBronze } from './bronze.js';
export type { BronzeWriteOptions, BronzeWriteResult } from './bronze.js';
export { LOCK_FILE, planRun, runIngest } from './ingest-run.js';
export type { IngestCommand, IngestRunOptions, DatasetOutcome, IngestRunResult } from './ingest-run.js';
export type { AssetStatus, AssetOutcome } from './ingest-asset.js';
