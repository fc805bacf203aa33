/** The pipeline version, recorded in every commit (`engineInfo`, `pipeline_version`). Guarded by a test against package.json. */
export const PIPELINE_VERSION = '0.1.0';
export const ENGINE_INFO = `nfl-lakehouse/${PIPELINE_VERSION}`;
