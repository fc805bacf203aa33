import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { LakeError, errnoCode } from '../../core/index.js';
import { MEMORY_LIMIT_PATTERN } from '../../engine/index.js';

/**
 * `catalog/datasets.yml`: lake settings, upstream hosts and one entry per dataset. Validated here
 * (the boundary); everything downstream trusts the typed `Catalog`. Errors are CATALOG_INVALID and
 * name the file, the path inside it (with its line) and the problem.
 */
export const DEFAULT_CATALOG_FILE = 'catalog/datasets.yml';

export const SEASON_RULES = ['S', 'R', 'none'] as const;
export type SeasonRule = (typeof SEASON_RULES)[number];
export const FORMATS = ['parquet', 'csv', 'csv.gz'] as const;
export type SourceFormat = (typeof FORMATS)[number];

/** `ALL`, `1999-` (open: up to the current season) or `1999-2024`. */
export type YearSpan = { kind: 'all' } | { kind: 'range'; from: number; to: number | undefined };

const NAME = /^[a-z][a-z0-9_]*$/;
const name = z.string().regex(NAME, 'expected a lower-case name (letters, digits, _)');
const positiveInt = z.number().int().positive();
const variantName = z.string().regex(/^[a-z0-9_]+$/, 'expected a lower-case variant name');

export function parseYears(text: string): YearSpan | undefined {
  if (text.trim().toUpperCase() === 'ALL') return { kind: 'all' };
  const m = /^\s*(\d{4})\s*(?:(-)\s*(\d{4})?)?\s*$/.exec(text);
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = m[2] ? (m[3] ? Number(m[3]) : undefined) : from;
  if (to !== undefined && to < from) return undefined;
  return { kind: 'range', from, to };
}

const years = z.union([z.string(), z.number().int()]).transform((value, ctx): YearSpan => {
  const span = parseYears(String(value));
  if (!span) {
    ctx.addIssue({ code: 'custom', message: `expected ALL, "1999-" or "1999-2024", got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return span;
});

const retries = z
  .object({
    max_attempts: positiveInt.default(5),
    base_delay_ms: z.number().int().nonnegative().default(500),
    max_delay_ms: z.number().int().nonnegative().default(30_000),
    max_retry_after_ms: z.number().int().nonnegative().default(120_000),
  })
  .strict();

const lakeSchema = z
  .object({
    root: z.string().min(1).default('tables'),
    raw_dir: z.string().min(1).default('data/raw'),
    logs_dir: z.string().min(1).default('logs'),
    compression: z.enum(['zstd', 'snappy', 'gzip', 'uncompressed']).default('zstd'),
    row_group_size: positiveInt.default(122_880),
    /** Row-group size in MB (wins over row_group_size once a table has data to measure bytes per row). */
    row_group_mb: z.number().positive().optional(),
    /** Rows per data file at most, for every table (a dataset's max_rows_per_file wins). */
    max_rows_per_file: positiveInt.optional(),
    /** `lake optimize` rewrites a partition's small files into files near this size. */
    target_file_mb: z.number().positive().default(128),
    retention: z
      .object({ log_hours: positiveInt.default(720), deleted_file_hours: positiveInt.default(168) })
      .strict()
      .default({ log_hours: 720, deleted_file_hours: 168 }),
    max_workers: positiveInt.default(4),
    /** DuckDB memory_limit of every engine (docs/operations.md "Memory budget and full size"). */
    memory_limit: z
      .string()
      .regex(MEMORY_LIMIT_PATTERN, 'expected a size like 512MiB, 1GiB, 2GB or 50%')
      .default('1GiB'),
    /** DuckDB threads per engine (default: one per core). */
    threads: positiveInt.optional(),
    http: z
      .object({
        timeout_ms: positiveInt.default(30_000),
        user_agent: z.string().min(1).default('nfl-lakehouse'),
        retries: retries.default({ max_attempts: 5, base_delay_ms: 500, max_delay_ms: 30_000, max_retry_after_ms: 120_000 }),
      })
      .strict(),
  })
  .strict();

const httpUrl = z.string().regex(/^https?:\/\/[^\s]+$/, 'expected an http(s) URL');

const upstreamSchema = z
  .object({
    base_url: httpUrl,
    env: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'expected an environment variable name').optional(),
    max_connections: positiveInt.default(4),
    licence: z.string().optional(),
  })
  .strict();

const silverSchema = z
  .object({
    key: z.array(z.string().min(1)).optional(),
    dedupe: z.enum(['key', 'latest_batch']).optional(),
    exact_duplicates: z.enum(['keep', 'drop']).default('keep'),
    drop: z.array(z.string().min(1)).default([]),
    enabled: z.boolean().default(true),
  })
  .strict();

const bound = z.union([z.number(), z.literal('current_year')]);
const qualitySchema = z
  .object({
    unique: z.boolean().default(true),
    not_null: z.array(z.string().min(1)).default([]),
    accepted_values: z.record(z.string().min(1), z.array(z.union([z.string(), z.number(), z.boolean()])).min(1)).default({}),
    ranges: z.record(z.string().min(1), z.object({ min: bound.optional(), max: bound.optional() }).strict()).default({}),
    team_codes: z.array(z.string().min(1)).default([]),
    row_count: z
      .object({ max_shrink_pct: z.number().min(0).max(100).default(10), max_growth_pct: z.number().positive().optional() })
      .strict()
      .optional(),
    freshness: z.object({ max_age_hours: z.number().positive(), severity: z.enum(['error', 'warn']).default('warn') }).strict().optional(),
  })
  .strict();

const datasetSchema = z
  .object({
    description: z.string().default(''),
    importer: z.enum(['nflverse_release', 'raw_file']),
    source: z
      .object({
        upstream: name,
        path: z.string().regex(/^[A-Za-z0-9_{}./-]+$/, 'expected a relative path such as "pbp/play_by_play_{season}"'),
        format: z.enum(FORMATS),
      })
      .strict(),
    years,
    season_rule: z.enum(SEASON_RULES),
    partitions: z.array(name),
    business_key: z.array(z.string().min(1)),
    sort_by: z.array(z.string().min(1)).default([]),
    max_rows_per_file: positiveInt.optional(),
    row_group_mb: z.number().positive().optional(),
    enabled: z.boolean().default(true),
    variants: z.array(variantName).min(1).optional(),
    variant_column: name.optional(),
    /**
     * Importer arguments, one per `{name}` placeholder of source.path: a text value is put into the
     * path (a file-name template); a list (at most one) makes one file per value, its value
     * written to the column `name` (what `variants` + `variant_column` say, e.g. stat_type lists).
     */
    args: z.record(name, z.union([z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected a file-name part (letters, digits, _ . -)'), z.array(variantName).min(1)])).default({}),
    licence: z.string().optional(),
    options: z
      .object({
        id_columns: z.array(z.string().min(1)).default([]),
        numeric_columns: z.array(z.string().min(1)).default([]),
        /** Bronze stores the file's DOUBLE columns as FLOAT (32-bit), as nfl_data_py's downcast does: half the bytes, ~7 significant digits. */
        downcast: z.boolean().default(false),
        /** false: the raw file is removed once bronze holds it (bronze is the copy); the next run downloads in full instead of asking conditionally. */
        cache: z.boolean().default(true),
      })
      .strict()
      .default({ id_columns: [], numeric_columns: [], downcast: false, cache: true }),
    silver: silverSchema.optional(),
    quality: qualitySchema.optional(),
    /** `lake gc`: which superseded bronze batches may go (docs/maintenance.md "Bronze garbage collection"). */
    bronze_retention: z
      .union([z.literal('all'), z.object({ latest_batches: positiveInt }).strict()], { message: 'expected all or { latest_batches: n } (n ≥ 1)' })
      .default('all'),
  })
  .strict();

const catalogSchema = z
  .object({
    version: z.literal(1),
    lake: lakeSchema,
    upstreams: z.record(name, upstreamSchema),
    datasets: z.record(name, datasetSchema),
  })
  .strict()
  .superRefine((catalog, ctx) => {
    for (const [key, d] of Object.entries(catalog.datasets)) {
      const at = (...rest: (string | number)[]): (string | number)[] => ['datasets', key, ...rest];
      if (!catalog.upstreams[d.source.upstream]) {
        ctx.addIssue({ code: 'custom', path: at('source', 'upstream'), message: `unknown upstream '${d.source.upstream}' (known: ${Object.keys(catalog.upstreams).join(', ')})` });
      }
      const hasVariant = d.source.path.includes('{variant}');
      if (hasVariant !== (d.variants !== undefined)) {
        ctx.addIssue({ code: 'custom', path: at('variants'), message: hasVariant ? 'source.path has {variant} but no variants are listed' : 'variants are listed but source.path has no {variant}' });
      }
      if (d.variants && !d.variant_column) ctx.addIssue({ code: 'custom', path: at('variant_column'), message: 'variants need a variant_column to record which file a row came from' });
      const placeholders: string[] = d.source.path.match(/\{[^}]*\}/g) ?? [];
      const args = Object.keys(d.args);
      for (const p of placeholders) {
        if (p !== '{season}' && p !== '{variant}' && !args.includes(p.slice(1, -1))) ctx.addIssue({ code: 'custom', path: at('source', 'path'), message: `unknown placeholder ${p} (use {season}, {variant} or a name under args)` });
      }
      for (const arg of args) {
        if (arg === 'season' || arg === 'variant') ctx.addIssue({ code: 'custom', path: at('args', arg), message: `{${arg}} is not an argument (it is filled in by the importer)` });
        else if (!placeholders.includes(`{${arg}}`)) ctx.addIssue({ code: 'custom', path: at('args', arg), message: `argument ${arg} is not used: source.path has no {${arg}}` });
      }
      const lists = args.filter((a) => Array.isArray(d.args[a]));
      if (lists.length > 1) ctx.addIssue({ code: 'custom', path: at('args', lists[1]!), message: `only one argument may be a list (${lists.join(', ')} are)` });
      if (lists.length > 0 && (d.variants !== undefined || hasVariant)) ctx.addIssue({ code: 'custom', path: at('args', lists[0]!), message: 'a list argument and variants say the same thing: use one of them' });
      if (lists.length > 0 && d.variant_column !== undefined && d.variant_column !== lists[0]) ctx.addIssue({ code: 'custom', path: at('variant_column'), message: `the list argument ${lists[0]} names its column itself; variant_column must be ${lists[0]} or absent` });
      if (d.source.path.includes('{season}') && d.years.kind === 'all') ctx.addIssue({ code: 'custom', path: at('years'), message: 'a per-season file ({season}) needs a year range, not ALL' });
      if (new Set(d.partitions).size !== d.partitions.length) ctx.addIssue({ code: 'custom', path: at('partitions'), message: 'duplicate partition column' });
    }
  });

type RawCatalog = z.infer<typeof catalogSchema>;

export interface RetrySettings {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxRetryAfterMs: number;
}

export interface LakeSettings {
  root: string;
  rawDir: string;
  logsDir: string;
  compression: string;
  rowGroupSize: number;
  /** `row_group_mb`: row groups of about this many MB, from the table's measured bytes per row. */
  rowGroupMb: number | undefined;
  /** `max_rows_per_file` for every table (a dataset's own wins). */
  maxRowsPerFile: number | undefined;
  /** `target_file_mb`: the file size `lake optimize` packs small files into. */
  targetFileMb: number;
  retention: { logHours: number; deletedFileHours: number };
  maxWorkers: number;
  /** DuckDB `memory_limit` of every engine (default 1GiB); DuckDB spills beyond it to `<root>/.lake-tmp`. */
  memoryLimit: string;
  threads: number | undefined;
  http: { timeoutMs: number; userAgent: string; retries: RetrySettings };
}

export interface Upstream {
  name: string;
  baseUrl: string;
  env: string | undefined;
  maxConnections: number;
  licence: string | undefined;
}

/** `silver:` of a dataset: how `lake promote` builds silver.<dataset> (docs/promote.md). */
export interface SilverSettings {
  /** Dedupe key on silver columns; default the business key. */
  key: string[] | undefined;
  /** key: newest ingested_at per key; latest_batch: the newest batch (ingested_at) per source in each partition. */
  dedupe: 'key' | 'latest_batch' | undefined;
  /** drop: rows equal in every column (after the dedupe) are kept once, the count removed recorded per partition in the promote commit and report; keep (default). */
  exactDuplicates: 'keep' | 'drop';
  /** Bronze columns the silver rule leaves out on purpose (not reported as upstream additions). */
  drop: string[];
  enabled: boolean;
}

/** `quality:` of a dataset: the gates a promote checks before it commits (src/quality). */
export interface QualityGates {
  unique: boolean;
  notNull: string[];
  acceptedValues: Record<string, (string | number | boolean)[]>;
  ranges: Record<string, { min?: number | 'current_year'; max?: number | 'current_year' }>;
  teamCodes: string[];
  rowCount: { maxShrinkPct: number; maxGrowthPct: number | undefined } | undefined;
  freshness: { maxAgeHours: number; severity: 'error' | 'warn' } | undefined;
}

/**
 * `bronze_retention` of a dataset: `all` keeps every batch (the default: bronze is the full
 * append-only history); `latest_batches` lets `lake gc` remove batches beyond the newest `n` of
 * each source per partition, except those silver still needs or the next promote reads.
 */
export type BronzeRetention = { kind: 'all' } | { kind: 'latest_batches'; n: number };

export interface DatasetDef {
  name: string;
  description: string;
  importer: 'nflverse_release' | 'raw_file';
  source: { upstream: string; path: string; format: SourceFormat };
  years: YearSpan;
  seasonRule: SeasonRule;
  partitions: string[];
  businessKey: string[];
  sortBy: string[];
  maxRowsPerFile: number | undefined;
  /** `row_group_mb` of this dataset (the lake's when unset). */
  rowGroupMb: number | undefined;
  enabled: boolean;
  variants: string[];
  variantColumn: string | undefined;
  licence: string | undefined;
  idColumns: string[];
  numericColumns: string[];
  /** `options.downcast`: DOUBLE columns stored as FLOAT in bronze (raw-reader.ts). */
  downcast: boolean;
  /** `options.cache`: keep the raw file after bronze holds it (default true; ingest-asset.ts). */
  cache: boolean;
  /** The catalog's `args`, as written (already applied to `source.path`, `variants` and `variantColumn`). */
  args: Record<string, string | string[]>;
  /** True when the source path has `{season}`: one upstream file per season. */
  perSeason: boolean;
  silver?: SilverSettings;
  quality?: QualityGates;
  /** Undefined means `all`. */
  bronzeRetention?: BronzeRetention;
}

export interface Catalog {
  /** The catalog file as the caller named it (relative paths resolve against the working directory). */
  file: string;
  lake: LakeSettings;
  upstreams: Record<string, Upstream>;
  datasets: DatasetDef[];
}

function toCatalog(file: string, raw: RawCatalog): Catalog {
  const l = raw.lake;
  return {
    file,
    lake: {
      root: l.root,
      rawDir: l.raw_dir,
      logsDir: l.logs_dir,
      compression: l.compression,
      rowGroupSize: l.row_group_size,
      rowGroupMb: l.row_group_mb,
      maxRowsPerFile: l.max_rows_per_file,
      targetFileMb: l.target_file_mb,
      retention: { logHours: l.retention.log_hours, deletedFileHours: l.retention.deleted_file_hours },
      maxWorkers: l.max_workers,
      memoryLimit: l.memory_limit,
      threads: l.threads,
      http: {
        timeoutMs: l.http.timeout_ms,
        userAgent: l.http.user_agent,
        retries: {
          maxAttempts: l.http.retries.max_attempts,
          baseDelayMs: l.http.retries.base_delay_ms,
          maxDelayMs: l.http.retries.max_delay_ms,
          maxRetryAfterMs: l.http.retries.max_retry_after_ms,
        },
      },
    },
    upstreams: Object.fromEntries(
      Object.entries(raw.upstreams).map(([key, u]) => [key, { name: key, baseUrl: u.base_url.replace(/\/+$/, ''), env: u.env, maxConnections: u.max_connections, licence: u.licence }]),
    ),
    datasets: Object.entries(raw.datasets).map(([key, d]) => ({ ...withArgs(d), raw: d, key })).map(({ key, raw: d, path: sourcePath, variants, variantColumn }) => ({
      name: key,
      description: d.description,
      importer: d.importer,
      source: { ...d.source, path: sourcePath },
      years: d.years,
      seasonRule: d.season_rule,
      partitions: d.partitions,
      businessKey: d.business_key,
      sortBy: d.sort_by,
      maxRowsPerFile: d.max_rows_per_file,
      rowGroupMb: d.row_group_mb,
      enabled: d.enabled,
      variants,
      variantColumn,
      licence: d.licence,
      idColumns: d.options.id_columns,
      numericColumns: d.options.numeric_columns,
      downcast: d.options.downcast,
      cache: d.options.cache,
      args: d.args,
      perSeason: d.source.path.includes('{season}'),
      ...(d.silver ? { silver: { key: d.silver.key, dedupe: d.silver.dedupe, exactDuplicates: d.silver.exact_duplicates, drop: d.silver.drop, enabled: d.silver.enabled } } : {}),
      ...(d.quality ? { quality: qualityGates(d.quality) } : {}),
      bronzeRetention: d.bronze_retention === 'all' ? { kind: 'all' as const } : { kind: 'latest_batches' as const, n: d.bronze_retention.latest_batches },
    })),
  };
}

/** `args` applied: text values put into the path, the one list argument turned into `{variant}` files whose column is its name. */
function withArgs(d: RawCatalog['datasets'][string]): { path: string; variants: string[]; variantColumn: string | undefined } {
  let sourcePath = d.source.path;
  let variants = d.variants ?? [];
  let variantColumn = d.variant_column;
  for (const [arg, value] of Object.entries(d.args)) {
    if (Array.isArray(value)) {
      sourcePath = sourcePath.replaceAll(`{${arg}}`, '{variant}');
      variants = value;
      variantColumn = arg;
    } else {
      sourcePath = sourcePath.replaceAll(`{${arg}}`, value);
    }
  }
  return { path: sourcePath, variants, variantColumn };
}

function qualityGates(q: z.infer<typeof qualitySchema>): QualityGates {
  return {
    unique: q.unique,
    notNull: q.not_null,
    acceptedValues: q.accepted_values,
    ranges: q.ranges,
    teamCodes: q.team_codes,
    rowCount: q.row_count ? { maxShrinkPct: q.row_count.max_shrink_pct, maxGrowthPct: q.row_count.max_growth_pct } : undefined,
    freshness: q.freshness ? { maxAgeHours: q.freshness.max_age_hours, severity: q.freshness.severity } : undefined,
  };
}

function invalid(file: string, where: string, problem: string, cause?: unknown): LakeError {
  return new LakeError('CATALOG_INVALID', `${file}: ${where ? `${where}: ` : ''}${problem}`, {
    cause,
    hint: `Fix ${file} (see the field notes at its top and docs/ingest.md).`,
    details: { file, path: where },
  });
}

/** Parses and validates catalog text. `file` is only used in messages. */
export function parseCatalog(text: string, file: string): Catalog {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lineCounter.linePos(e.pos[0]);
    throw invalid(file, `line ${pos.line}`, `not valid YAML: ${e.message.split('\n')[0]}`, e);
  }
  const result = catalogSchema.safeParse(doc.toJS());
  if (result.success) return toCatalog(file, result.data);
  const problems = result.error.issues.map((issue) => {
    const where = issue.path.map(String).join('.');
    const node = issue.path.length > 0 ? (doc.getIn(issue.path as (string | number)[], true) as { range?: [number, number, number] } | undefined) : undefined;
    const line = node?.range ? ` (line ${lineCounter.linePos(node.range[0]).line})` : '';
    return { where: `${where || '(top level)'}${line}`, message: issue.message };
  });
  const first = problems[0]!;
  const more = problems.length > 1 ? `; and ${problems.length - 1} more: ${problems.slice(1, 4).map((p) => `${p.where}: ${p.message}`).join('; ')}` : '';
  throw invalid(file, first.where, `${first.message}${more}`);
}

export function loadCatalog(file: string = DEFAULT_CATALOG_FILE): Catalog {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw invalid(file, '', errnoCode(cause) === 'ENOENT' ? 'no such file' : `cannot be read (${errnoCode(cause) ?? String(cause)})`, cause);
  }
  return parseCatalog(text, file);
}

/** The file-size knobs of a lake table's writes: the dataset's own, else the lake's (docs/maintenance.md "File sizes, sort order and OPTIMIZE"). */
export function fileLayout(catalog: Catalog, dataset: string | undefined): { sortBy: string[]; maxRowsPerFile: number | undefined; rowGroupMb: number | undefined } {
  const def = dataset === undefined ? undefined : findDataset(catalog, dataset);
  return { sortBy: def?.sortBy ?? [], maxRowsPerFile: def?.maxRowsPerFile ?? catalog.lake.maxRowsPerFile, rowGroupMb: def?.rowGroupMb ?? catalog.lake.rowGroupMb };
}

/**
 * `partitions` decides the layout of a dataset's bronze and silver tables when they are created;
 * afterwards the catalog and an existing table must agree. CATALOG_INVALID when they do not, so a
 * changed `partitions` is never silently ignored.
 */
export function partitionLayoutError(catalog: Pick<Catalog, 'file'>, def: Pick<DatasetDef, 'name' | 'partitions'>, table: string, partitionColumns: readonly string[]): LakeError | undefined {
  if (partitionColumns.join(',') === def.partitions.join(',')) return undefined;
  const list = (columns: readonly string[]): string => `[${columns.join(', ')}]`;
  return new LakeError('CATALOG_INVALID', `${table} is partitioned by ${list(partitionColumns)}, but ${catalog.file} says partitions: ${list(def.partitions)} for ${def.name}; nothing was written`, {
    hint: `A table's partition layout is fixed when it is created. Put partitions back to ${list(partitionColumns)}, or rebuild ${table} under the new layout (remove its folder and run lake bootstrap / lake promote again).`,
    details: { dataset: def.name, table, table_partitions: [...partitionColumns], catalog_partitions: def.partitions },
  });
}

export function findDataset(catalog: Catalog, dataset: string): DatasetDef | undefined {
  return catalog.datasets.find((d) => d.name === dataset);
}
