export { NO_GATES, firstFailure, partitionLabel } from './spec.js';
export type { Bound, CheckName, CheckResult, CheckStatus, PartitionValues, QualitySpec } from './spec.js';
export { checkPartitions, checkTable, jsonSafe, resolveBound, rowRuleViolations, validateSpec } from './checks.js';
export type { CheckContext, GroupCheckInput, PartitionCheckInput } from './checks.js';
export { EMPTY_FINGERPRINT, fingerprintPartitions, keyJsonSql, rowsDigestSql } from './fingerprint.js';
export type { PartitionFingerprint } from './fingerprint.js';
export { reportPath, summarizeChecks, writeQualityReport } from './report.js';
export type { QualityReport, ReportPartition, ReportStatus } from './report.js';
export { partitionKeySql } from './partition-key.js';
