export { buildGold, describeMarts, loadMarts, parseMart, lastGoldBuild, teamCodeAliases, DEFAULT_GOLD_SQL_DIR } from './gold.js';
export type { BuildGoldOptions, GoldRunResult, MartOutcome, MartRule, MartColumn, MartDescription } from './gold.js';
