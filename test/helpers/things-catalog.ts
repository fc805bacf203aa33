/**
 * The catalog YAML of one small synthetic dataset, `things` (a CSV from a local upstream,
 * partitioned by season, business key id), for tests of silver rules, promote and quality gates.
 * `extra` goes under the dataset, indented four spaces (e.g. `    quality: { unique: false }\n`).
 */
export function thingsCatalog(extra = ''): string {
  return `
version: 1
lake: { http: {} }
upstreams: { local: { base_url: "http://127.0.0.1" } }
datasets:
  things:
    importer: raw_file
    source: { upstream: local, path: things, format: csv }
    years: ALL
    season_rule: none
    partitions: [season]
    business_key: [id]
${extra}`;
}
