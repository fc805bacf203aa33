export { doctor } from './doctor.js';
export type { DoctorReport } from './doctor.js';
export { rollbackRun } from './rollback.js';
export type { RollbackOptions, RollbackRunResult, TableRollbackOutcome, LaterCommit, DownstreamCommit } from './rollback.js';
export { tableLineage } from './lineage.js';
export type { TableLineage, RunLineage, DatasetLineage, PartitionLineage } from './lineage.js';
export { profileTable, profileLayer } from './profile.js';
export type { TableProfile, PartitionProfile, ProfileRun } from './profile.js';
