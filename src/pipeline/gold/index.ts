export { buildGold, describeMarts } from './gold.js';
export type { GoldRunResult, MartDescription } from './gold.js';
export { DEFAULT_GOLD_SQL_DIR, loadMarts, parseMart, teamCodeAliases } from './mart-rule.js';
export type { MartColumn, MartRule } from './mart-rule.js';
export { lastGoldBuild } from './last-build.js';
export type { BuildGoldOptions } from './plan.js';
export type { MartOutcome } from './build.js';
