import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LakeError } from '../../core/index.js';
import { literal } from '../../engine/index.js';
import { findTableRefs, type Lake } from '../../table/index.js';
import { DEFAULT_SILVER_SQL_DIR, TEAM_CODES_FILE, loadTeamCodes } from '../silver/index.js';

/**
 * A gold mart rule: one DuckDB SELECT per mart in `sql/gold/<mart>.sql` (built by `lake build-gold`, gold.ts).
 *
 * A mart file starts with a header of `-- @directive` lines (continued by `--   ` lines):
 * `@mart` (the file name), `@summary`, `@grain` (the key columns, checked unique and non-NULL
 * before every commit), `@partition season` (or none), `@coverage` (any number) and one
 * `@column name description` per output column. Sources are the `silver.x` / `gold.y` tables the
 * SELECT names (always with an alias, never `SELECT *` from a source); gold sources are built
 * first. The SELECT may use the team-code macros (sql/silver/_team_codes.sql), the macros of
 * `sql/gold/_macros.sql`, and the relation `team_code_aliases(alias, team, before_season)` parsed from that same mapping.
 *
 * Contract of a season-partitioned mart: its rows of season S depend only on the rows of season S
 * of its season-partitioned sources (and on any row of its other sources). That makes the
 * incremental rebuild exact: the seasons to rebuild are those whose partitions the source commits
 * since the versions recorded in the mart's last build touched (a RESTORE
 * is followed back to the version it restored); a change to a source without a season partition,
 * a changed mart SQL, or a log that lost commits rebuilds every season. Each mart is one Delta
 * commit (a partition replace of those seasons, or an overwrite) recording the source versions it
 * read (`source_versions`, which rollback --cascade follows). No source change: nothing committed.
 */
export const DEFAULT_GOLD_SQL_DIR = fileURLToPath(new URL('../../../sql/gold/', import.meta.url));
export const MACROS_FILE = '_macros.sql';

export interface MartColumn {
  name: string;
  description: string;
}

export interface MartRule {
  mart: string;
  /** `gold.<mart>` */
  table: string;
  file: string;
  sql: string;
  sha256: string;
  summary: string;
  grain: string[];
  /** `['season']` or `[]`. */
  partitionBy: string[];
  coverage: string[];
  columns: MartColumn[];
  /** `silver.x` / `gold.y` tables the SELECT reads, in order of first use. */
  sources: string[];
}

function invalid(file: string, problem: string): LakeError {
  return new LakeError('CATALOG_INVALID', `${file}: ${problem}`, { hint: 'Fix the mart header (see the comment at the top of src/pipeline/gold/mart-rule.ts).' });
}

/** Parses one mart file: header directives, the SELECT, its sources. Pure. */
export function parseMart(file: string, text: string): MartRule {
  const directives: { key: string; value: string }[] = [];
  const lines = text.split('\n');
  let body = 0;
  for (; body < lines.length; body++) {
    const line = lines[body]!;
    const directive = /^--\s*@(\w+)\s*(.*)$/.exec(line);
    if (directive) directives.push({ key: directive[1]!, value: directive[2]!.trim() });
    else if (/^--\s{2,}\S/.test(line) && directives.length > 0) directives[directives.length - 1]!.value += ` ${line.replace(/^--\s+/, '').trim()}`;
    else if (!/^--/.test(line) && line.trim() !== '') break;
  }
  const one = (key: string): string | undefined => directives.find((d) => d.key === key)?.value;
  const list = (value: string | undefined): string[] => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const mart = path.basename(file, '.sql');
  if (one('mart') !== mart) throw invalid(file, `@mart must be ${mart} (the file name), got ${one('mart') ?? 'nothing'}`);
  const grain = list(one('grain'));
  if (grain.length === 0) throw invalid(file, '@grain is missing');
  const partitionBy = list(one('partition'));
  if (partitionBy.length > 0 && partitionBy.join(',') !== 'season') throw invalid(file, `@partition must be season or absent, got ${partitionBy.join(', ')}`);
  const columns = directives.filter((d) => d.key === 'column').map((d) => {
    const m = /^(\w+)\s+(.*)$/.exec(d.value);
    if (!m) throw invalid(file, `@column needs a name and a description: ${d.value}`);
    return { name: m[1]!, description: m[2]!.trim() };
  });
  const sql = `${lines.slice(body).join('\n').trim().replace(/;+\s*$/, '')}\n`;
  const sources: string[] = [];
  for (const ref of findTableRefs(sql)) {
    if (ref.kind !== 'catalog' || ref.name.startsWith('bronze.')) throw invalid(file, `reads ${ref.name}: a mart reads silver.* and gold.* tables only`);
    if (ref.at) throw invalid(file, `reads ${ref.name} with an AT clause: build-gold pins the versions itself`);
    if (ref.name === `gold.${mart}`) throw invalid(file, 'a mart cannot read itself');
    if (!sources.includes(ref.name)) sources.push(ref.name);
  }
  return {
    mart,
    table: `gold.${mart}`,
    file,
    sql,
    sha256: createHash('sha256').update(text).digest('hex'),
    summary: one('summary') ?? '',
    grain,
    partitionBy,
    coverage: directives.filter((d) => d.key === 'coverage').map((d) => d.value),
    columns,
    sources,
  };
}

/** Every mart in `sqlDir`, ordered so that a mart comes after the gold marts it reads. */
export function loadMarts(sqlDir: string = DEFAULT_GOLD_SQL_DIR, silverSqlDir: string = DEFAULT_SILVER_SQL_DIR): MartRule[] {
  // A mart's recorded sha256 covers the macro files it can use, so editing them rebuilds it.
  const shared = [path.join(sqlDir, MACROS_FILE), path.join(silverSqlDir, TEAM_CODES_FILE)].map((f) => (existsSync(f) ? readFileSync(f, 'utf8') : '')).join('\n');
  const rules = readdirSync(sqlDir)
    .filter((f) => f.endsWith('.sql') && !f.startsWith('_'))
    .sort()
    .map((f) => {
      const text = readFileSync(path.join(sqlDir, f), 'utf8');
      return { ...parseMart(path.join(sqlDir, f), text), sha256: createHash('sha256').update(text).update(shared).digest('hex') };
    });
  const byTable = new Map(rules.map((r) => [r.table, r]));
  const ordered: MartRule[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (rule: MartRule): void => {
    if (state.get(rule.table) === 'done') return;
    if (state.get(rule.table) === 'visiting') throw invalid(rule.file, `the gold marts read each other in a cycle through ${rule.table}`);
    state.set(rule.table, 'visiting');
    for (const source of rule.sources.filter((s) => s.startsWith('gold.'))) {
      const dep = byTable.get(source);
      if (!dep) throw invalid(rule.file, `reads ${source}, which no file in ${sqlDir} builds`);
      visit(dep);
    }
    state.set(rule.table, 'done');
    ordered.push(rule);
  };
  for (const rule of rules) visit(rule);
  return ordered;
}

/** `team_code_aliases(alias, team, before_season)` from the WHEN branches of the one team-code mapping. */
export function teamCodeAliases(text: string): { alias: string; team: string; beforeSeason: number | null }[] {
  const out = [...text.matchAll(/WHEN '([A-Z0-9]+)' THEN '([A-Z0-9]+)'/g)].map((m) => ({ alias: m[1]!, team: m[2]!, beforeSeason: null as number | null }));
  for (const m of text.matchAll(/= '([A-Z0-9]+)' AND season < (\d+) THEN '([A-Z0-9]+)'/g)) out.push({ alias: m[1]!, team: m[3]!, beforeSeason: Number(m[2]) });
  return out;
}

/** Macros every mart may use: the team-code mapping, `sql/gold/_macros.sql`, and `team_code_aliases`. */
export async function loadGoldMacros(lake: Lake, sqlDir: string, silverSqlDir: string): Promise<void> {
  await loadTeamCodes(lake.engine, silverSqlDir);
  const macros = path.join(sqlDir, MACROS_FILE);
  if (existsSync(macros)) await lake.engine.run(readFileSync(macros, 'utf8'));
  const rows = teamCodeAliases(readFileSync(path.join(silverSqlDir, TEAM_CODES_FILE), 'utf8'));
  const values = rows.map((r) => `(${literal(r.alias)}, ${literal(r.team)}, ${r.beforeSeason ?? 'CAST(NULL AS INTEGER)'})`).join(', ');
  await lake.engine.run(`CREATE OR REPLACE TEMP TABLE team_code_aliases AS SELECT * FROM (VALUES ${values}) AS v(alias, team, before_season)`);
}

/** The marts named (by mart or table name), or every mart; an unknown name is USAGE. */
export function selectMarts(all: MartRule[], names: string[] | undefined, sqlDir: string): MartRule[] {
  if (!names || names.length === 0) return all;
  const unknown = names.filter((n) => !all.some((r) => r.mart === n || r.table === n));
  if (unknown.length > 0) throw new LakeError('USAGE', `unknown mart${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (${sqlDir})`, { hint: `Marts: ${all.map((r) => r.mart).join(', ')}` });
  return all.filter((r) => names.includes(r.mart) || names.includes(r.table));
}


