export { runPromote, defaultReportDir } from './promote.js';
export type { PromoteRunResult } from './promote.js';
export type { PromoteOptions, DatasetPromoteOutcome, PartitionOutcome } from './promote-plan.js';
export { DEFAULT_SILVER_SQL_DIR, TEAM_CODES_FILE, loadSilverRule, loadTeamCodes, silverTable, columnRefs, parseSql, canonicalSelect, dedupeSql, inputSql, transformSql } from './silver-rule.js';
export type { SilverRule, SilverColumn, RuleDrift } from './silver-rule.js';
export { lastPromote } from './last-promote.js';
export type { LastPromote } from './last-promote.js';
