export { DEFAULT_CATALOG_FILE, FORMATS, SEASON_RULES, fileLayout, findDataset, partitionLayoutError, loadCatalog, parseCatalog, parseYears } from './catalog.js';
export type { BronzeRetention, Catalog, DatasetDef, LakeSettings, QualityGates, SilverSettings, RetrySettings, SeasonRule, SourceFormat, Upstream, YearSpan } from './catalog.js';
export { ENV, engineEnv, resolveSettings } from './settings.js';
export type { ResolvedSettings } from './settings.js';
export { currentSeason, seasonStart } from './season.js';
