import path from 'node:path';
import { z } from 'zod';
import { LakeError } from '../../core/index.js';
import { MEMORY_LIMIT_PATTERN } from '../../engine/index.js';
import { resolveLocation } from '../../storage/index.js';
import type { Catalog, LakeSettings, Upstream } from './catalog.js';

/**
 * The catalog's settings after environment overrides. Precedence: the process environment, then
 * `.env` (loaded by the CLI before any command: src/cli/environment.ts), then
 * `catalog/datasets.yml`. Relative paths resolve against the working directory.
 */
export interface ResolvedSettings extends LakeSettings {
  /** Upstream name → base URL (without a trailing slash). */
  baseUrls: Record<string, string>;
  /**
   * "Today" for the current-season rules of ingest runs (LAKE_TODAY=YYYY-MM-DD, midnight UTC, or
   * an ISO timestamp); undefined = the run's start time. Lets a replay pretend to be in a season.
   */
  today?: Date;
}

export const ENV = {
  root: 'LAKE_ROOT',
  maxWorkers: 'LAKE_MAX_WORKERS',
  rawDir: 'LAKE_RAW_DIR',
  logsDir: 'LAKE_LOGS_DIR',
  catalog: 'LAKE_CATALOG',
  memoryLimit: 'LAKE_MEMORY_LIMIT',
  threads: 'LAKE_THREADS',
  tempDir: 'LAKE_TEMP_DIR',
  today: 'LAKE_TODAY',
} as const;

const workers = z.coerce.number().int().positive();
const baseUrl = z.string().regex(/^https?:\/\/[^\s]+$/);

function badEnv(variable: string, value: string, expected: string): LakeError {
  return new LakeError('CATALOG_INVALID', `environment variable ${variable}=${JSON.stringify(value)}: expected ${expected}`, {
    hint: `Fix or unset ${variable} (in the environment or in .env).`,
    details: { variable },
  });
}

/** A variable's trimmed value; undefined when unset or blank. */
function picker(env: NodeJS.ProcessEnv): (name: string) => string | undefined {
  return (name) => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
}

/**
 * The DuckDB budget the environment sets (LAKE_MEMORY_LIMIT, LAKE_THREADS, LAKE_TEMP_DIR),
 * validated; what is unset is left out. Every command applies it, with or without a catalog.
 */
export function engineEnv(env: NodeJS.ProcessEnv = process.env): { memoryLimit?: string; threads?: number; tempRoot?: string } {
  const pick = picker(env);
  const out: { memoryLimit?: string; threads?: number; tempRoot?: string } = {};
  const m = pick(ENV.memoryLimit);
  if (m !== undefined) {
    if (!MEMORY_LIMIT_PATTERN.test(m)) throw badEnv(ENV.memoryLimit, m, 'a size like 512MiB, 1GiB, 2GB or 50%');
    out.memoryLimit = m;
  }
  const t = pick(ENV.threads);
  if (t !== undefined) {
    const parsed = workers.safeParse(t);
    if (!parsed.success) throw badEnv(ENV.threads, t, 'a positive integer');
    out.threads = parsed.data;
  }
  const temp = pick(ENV.tempDir);
  if (temp !== undefined) out.tempRoot = path.resolve(temp);
  return out;
}

export function resolveSettings(catalog: Catalog, env: NodeJS.ProcessEnv = process.env): ResolvedSettings {
  const lake = catalog.lake;
  const pick = picker(env);
  let maxWorkers = lake.maxWorkers;
  const w = pick(ENV.maxWorkers);
  if (w !== undefined) {
    const parsed = workers.safeParse(w);
    if (!parsed.success) throw badEnv(ENV.maxWorkers, w, 'a positive integer');
    maxWorkers = parsed.data;
  }
  const budget = engineEnv(env);
  const memoryLimit = budget.memoryLimit ?? lake.memoryLimit;
  const threads = budget.threads ?? lake.threads;
  let today: Date | undefined;
  const d = pick(ENV.today);
  if (d !== undefined) {
    today = /^\d{4}-\d{2}-\d{2}$/.test(d) ? new Date(`${d}T00:00:00Z`) : /^\d{4}-\d{2}-\d{2}T/.test(d) ? new Date(d) : new Date(NaN);
    if (Number.isNaN(today.getTime())) throw badEnv(ENV.today, d, 'a date YYYY-MM-DD or an ISO timestamp');
  }
  const baseUrls: Record<string, string> = {};
  for (const upstream of Object.values(catalog.upstreams)) baseUrls[upstream.name] = upstreamBaseUrl(upstream, pick);
  return {
    ...lake,
    root: resolveLocation(pick(ENV.root) ?? lake.root),
    rawDir: path.resolve(pick(ENV.rawDir) ?? lake.rawDir),
    logsDir: path.resolve(pick(ENV.logsDir) ?? lake.logsDir),
    maxWorkers,
    memoryLimit,
    threads,
    baseUrls,
    ...(today ? { today } : {}),
  };
}

function upstreamBaseUrl(upstream: Upstream, pick: (name: string) => string | undefined): string {
  if (!upstream.env) return upstream.baseUrl;
  const override = pick(upstream.env);
  if (override === undefined) return upstream.baseUrl;
  if (!baseUrl.safeParse(override).success) throw badEnv(upstream.env, override, 'an http(s) URL');
  return override.replace(/\/+$/, '');
}
