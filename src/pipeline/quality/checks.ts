import { LakeError } from '../../core/index.js';
import { partitionKey } from '../../delta/index.js';
import { ident, literal, type Engine } from '../../engine/index.js';
import { partitionKeySql } from './partition-key.js';
import { partitionLabel, type Bound, type CheckResult, type PartitionValues, type QualitySpec } from './spec.js';

/**
 * Evaluates a dataset's quality gates with DuckDB over the rows a promote is about to commit.
 * Row rules (not_null, accepted values, ranges, team codes) are counted in one scan of the
 * candidate partition; failures get up to five example rows. Nothing here writes anything.
 */
export interface CheckContext {
  engine: Engine;
  spec: QualitySpec;
  /** Dataset name, for messages. */
  dataset: string;
  /** Silver key columns ([] = none: `unique` is skipped). */
  key: string[];
  partitionColumns: string[];
  canonicalTeams: readonly string[];
  /** Milliseconds since the epoch (an injected clock). */
  now: number;
}

export interface PartitionCheckInput {
  partition: PartitionValues;
  /** The partition's row count in the table's current version (log stats); undefined when new. */
  rowsBefore: number | undefined;
  /** Rows of the newest batch per source among the incoming rows of the partition. */
  rowsInBatch: number;
}

/** Several partitions checked together. */
export interface GroupCheckInput {
  partitions: PartitionCheckInput[];
  /** A relation (subquery or table function) with the rows the commit would leave in these partitions. */
  candidate: string;
  /** A relation with their new (transformed, not yet deduplicated) rows. */
  incoming: string;
  /**
   * `incoming` is `candidate` and holds one batch per partition (one source, one `ingested_at`):
   * the keys repeated inside the batch are the keys repeated in the result, so one scan counts both.
   */
  singleBatch?: boolean;
  /**
   * The row rules' failing counts per partition key, already counted over `candidate` (in the
   * order of `rowRuleViolations(ctx)`, e.g. in the fingerprint scan): no scan of its own then.
   */
  ruleCounts?: ReadonlyMap<string, readonly number[]>;
}

const EXAMPLES = 5;

/** Every column a spec names must exist in the table; otherwise the catalog is wrong. */
export function validateSpec(spec: QualitySpec, key: readonly string[], columns: ReadonlySet<string>, dataset: string, file: string): void {
  const named = new Map<string, string>();
  for (const c of key) named.set(c, 'silver.key');
  for (const c of spec.notNull) named.set(c, 'quality.not_null');
  for (const c of Object.keys(spec.acceptedValues)) named.set(c, 'quality.accepted_values');
  for (const c of Object.keys(spec.ranges)) named.set(c, 'quality.ranges');
  for (const c of spec.teamCodes) named.set(c, 'quality.team_codes');
  for (const [column, where] of named) {
    if (!columns.has(column)) {
      throw new LakeError('CATALOG_INVALID', `${file}: datasets.${dataset}.${where} names column ${column}, which silver.${dataset} does not have`, {
        hint: `Fix the catalog, or add the column to sql/silver/${dataset}.sql. Columns: ${[...columns].slice(0, 40).join(', ')}${columns.size > 40 ? ', …' : ''}`,
        details: { dataset, column },
      });
    }
  }
}

export function resolveBound(bound: Bound | undefined, now: number): number | undefined {
  if (bound === undefined) return undefined;
  return bound === 'current_year' ? new Date(now).getUTCFullYear() : bound;
}

function valueSql(value: string | number | boolean): string {
  return typeof value === 'string' ? literal(value) : String(value);
}

interface RowRule {
  check: 'not_null' | 'accepted_values' | 'range' | 'team_codes';
  column: string;
  /** SQL that is true for an offending row. */
  violation: string;
  rule: string;
}

function rowRules(ctx: CheckContext): RowRule[] {
  const { spec } = ctx;
  const rules: RowRule[] = [];
  for (const column of spec.notNull) rules.push({ check: 'not_null', column, violation: `${ident(column)} IS NULL`, rule: 'must not be NULL' });
  for (const [column, values] of Object.entries(spec.acceptedValues)) {
    rules.push({ check: 'accepted_values', column, violation: `${ident(column)} IS NOT NULL AND ${ident(column)} NOT IN (${values.map(valueSql).join(', ')})`, rule: `must be one of ${values.join(', ')}` });
  }
  for (const [column, range] of Object.entries(spec.ranges)) {
    const min = resolveBound(range.min, ctx.now);
    const max = resolveBound(range.max, ctx.now);
    const terms = [...(min === undefined ? [] : [`${ident(column)} < ${min}`]), ...(max === undefined ? [] : [`${ident(column)} > ${max}`])];
    if (terms.length === 0) continue;
    rules.push({ check: 'range', column, violation: `${ident(column)} IS NOT NULL AND (${terms.join(' OR ')})`, rule: `must be between ${min ?? '-∞'} and ${max ?? '∞'}` });
  }
  const teams = `[${ctx.canonicalTeams.map(literal).join(', ')}]`;
  for (const column of spec.teamCodes) {
    rules.push({ check: 'team_codes', column, violation: `${ident(column)} IS NOT NULL AND NOT list_contains(${teams}, ${ident(column)})`, rule: 'must be a canonical team code (sql/silver/_team_codes.sql)' });
  }
  return rules;
}

/** The SQL condition of each row rule (true for an offending row), in the order `ruleCounts` takes them. */
export function rowRuleViolations(ctx: CheckContext): string[] {
  return rowRules(ctx).map((r) => r.violation);
}

/** JSON-safe example values: bigints as numbers (or text when too large), dates as ISO strings. */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  return value;
}

async function examples(engine: Engine, sql: string): Promise<Record<string, unknown>[]> {
  const rows = await engine.rows<Record<string, unknown>>(sql);
  return rows.map((r) => jsonSafe(r) as Record<string, unknown>);
}

function context(ctx: CheckContext, column?: string): string {
  const columns = [...new Set([...ctx.key, ...ctx.partitionColumns, ...(column ? [column] : [])])];
  return columns.length > 0 ? columns.map(ident).join(', ') : '*';
}

function withKey(ctx: CheckContext, relation: string): string {
  return `(SELECT *, ${partitionKeySql(ctx.partitionColumns)} AS __pk FROM ${relation} AS rel)`;
}

function byPartition(rows: Record<string, unknown>[]): Map<string, Record<string, unknown>> {
  return new Map(rows.map((r) => [String(r['__pk']), r]));
}

/**
 * The gates of a group of partitions, against their candidate rows and their incoming rows: one
 * scan counts every row rule per partition, one more the repeated keys; examples are read only
 * for what fails.
 */
export async function checkPartitions(ctx: CheckContext, input: GroupCheckInput): Promise<CheckResult[]> {
  const { engine } = ctx;
  const candidate = withKey(ctx, input.candidate);
  const incoming = withKey(ctx, input.incoming);
  const rules = rowRules(ctx);
  const ruleCounts =
    input.ruleCounts !== undefined
      ? new Map([...input.ruleCounts].map(([pk, counts]) => [pk, Object.fromEntries(counts.map((n, i) => [`c${i}`, n]))]))
      : rules.length > 0
        ? byPartition(await engine.rows(`SELECT __pk, ${rules.map((r, i) => `count(*) FILTER (WHERE ${r.violation}) AS c${i}`).join(', ')} FROM ${candidate} AS cand GROUP BY __pk`))
        : new Map<string, Record<string, unknown>>();
  const unique = ctx.spec.unique && ctx.key.length > 0;
  const key = ctx.key.map(ident).join(', ');
  const duplicates = (relation: string, extra: string): string => `SELECT __pk, ${key}${extra}, count(*) AS copies FROM ${relation} AS rel GROUP BY ALL HAVING count(*) > 1`;
  const inBatch = duplicates(incoming, `, ${ident('source')}, ${ident('ingested_at')}`);
  const inResult = duplicates(candidate, '');
  const dupSql = input.singleBatch
    ? `SELECT __pk, count(*) AS batch, count(*) AS result FROM (${inResult}) GROUP BY __pk`
    : `SELECT coalesce(b.__pk, r.__pk) AS __pk, coalesce(b.n, 0) AS batch, coalesce(r.n, 0) AS result FROM (SELECT __pk, count(*) AS n FROM (${inBatch}) GROUP BY __pk) AS b FULL JOIN (SELECT __pk, count(*) AS n FROM (${inResult}) GROUP BY __pk) AS r ON b.__pk = r.__pk`;
  const dupCounts = unique ? byPartition(await engine.rows(dupSql)) : new Map<string, Record<string, unknown>>();

  const results: CheckResult[] = [];
  for (const part of input.partitions) {
    const pk = partitionKey(ctx.partitionColumns, part.partition);
    const where = partitionLabel(part.partition);
    for (const [i, rule] of rules.entries()) {
      const failing = Number(ruleCounts.get(pk)?.[`c${i}`] ?? 0);
      const result: CheckResult = {
        check: rule.check,
        column: rule.column,
        partition: part.partition,
        status: failing > 0 ? 'fail' : 'pass',
        severity: 'error',
        failing,
        message: failing > 0 ? `${ctx.dataset} ${where}: ${failing} row${failing === 1 ? '' : 's'} where ${rule.column} ${rule.rule}` : `${rule.column} ${rule.rule}`,
        examples: [],
      };
      if (failing > 0) result.examples = await examples(engine, `SELECT ${context(ctx, rule.column)} FROM ${candidate} AS cand WHERE __pk = ${literal(pk)} AND ${rule.violation} LIMIT ${EXAMPLES}`);
      results.push(result);
    }
    if (unique) {
      const batch = Number(dupCounts.get(pk)?.['batch'] ?? 0);
      const result = Number(dupCounts.get(pk)?.['result'] ?? 0);
      const failing = batch + result;
      results.push({
        check: 'unique',
        partition: part.partition,
        status: failing > 0 ? 'fail' : 'pass',
        severity: 'error',
        failing,
        message:
          failing === 0
            ? `key (${ctx.key.join(', ')}) is unique`
            : `${ctx.dataset} ${where}: key (${ctx.key.join(', ')}) is not unique: ${batch} key${batch === 1 ? '' : 's'} repeated inside one bronze batch, ${result} in the promoted partition`,
        examples: failing > 0 ? await examples(engine, `SELECT * EXCLUDE (__pk) FROM (${batch > 0 ? inBatch : inResult}) WHERE __pk = ${literal(pk)} LIMIT ${EXAMPLES}`) : [],
      });
    }
    if (ctx.spec.rowCount) results.push(checkRowCount(ctx, part, where));
  }
  return results;
}

function checkRowCount(ctx: CheckContext, input: PartitionCheckInput, where: string): CheckResult {
  const limits = ctx.spec.rowCount!;
  const before = input.rowsBefore;
  const base = { check: 'row_count' as const, partition: input.partition, severity: 'error' as const, failing: input.rowsInBatch, examples: [] };
  if (before === undefined || before === 0) return { ...base, status: 'pass', message: `new partition: ${input.rowsInBatch} rows in the batch` };
  const changePct = ((input.rowsInBatch - before) / before) * 100;
  const shrunk = -changePct > limits.maxShrinkPct;
  const grew = limits.maxGrowthPct !== undefined && changePct > limits.maxGrowthPct;
  const change = `${changePct >= 0 ? '+' : ''}${changePct.toFixed(1)}%`;
  if (!shrunk && !grew) return { ...base, status: 'pass', message: `${input.rowsInBatch} rows in the batch against ${before} in the previous version (${change})` };
  const limit = shrunk ? `shrinks by more than ${limits.maxShrinkPct}%` : `grows by more than ${limits.maxGrowthPct}%`;
  return {
    ...base,
    status: 'fail',
    message: `${ctx.dataset} ${where}: the newest bronze batch has ${input.rowsInBatch} rows against ${before} in the partition's previous version (${change}); the gate fails when a partition ${limit}`,
  };
}

/** Table-level gates: freshness of the newest promoted row. */
export function checkTable(ctx: CheckContext, maxIngestedAt: number | undefined): CheckResult[] {
  const freshness = ctx.spec.freshness;
  if (!freshness || maxIngestedAt === undefined) return [];
  const ageHours = (ctx.now - maxIngestedAt) / 3_600_000;
  const stale = ageHours > freshness.maxAgeHours;
  return [
    {
      check: 'freshness',
      partition: null,
      status: stale ? (freshness.severity === 'error' ? 'fail' : 'warn') : 'pass',
      severity: freshness.severity,
      failing: Math.round(ageHours * 10) / 10,
      message: `${ctx.dataset}: newest ingested_at ${new Date(maxIngestedAt).toISOString()} is ${ageHours.toFixed(1)} h old (limit ${freshness.maxAgeHours} h)`,
      examples: [],
    },
  ];
}
