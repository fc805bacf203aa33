/**
 * Finds the Delta table references in a DuckDB query, so that `lake sql` accepts the SQL a DuckDB
 * user writes with the delta extension: `silver.pbp`, `silver.pbp AT (VERSION => 3)`,
 * `silver.pbp AT (TIMESTAMP => '2026-09-10T06:00:00Z')` and `delta_scan('<path>'[, version => n])`.
 * Pure: string in, references with their source spans out. Quoted strings, quoted identifiers and
 * comments are skipped.
 */
export type TableAt = { version: number } | { timestamp: string } | undefined;

export interface SqlTableRef {
  start: number;
  end: number;
  kind: 'catalog' | 'path';
  /** `layer.dataset` for catalog references, the path for delta_scan. */
  name: string;
  at: TableAt;
}

interface Token {
  type: 'word' | 'qident' | 'string' | 'number' | 'punct';
  text: string;
  /** Unquoted value for identifiers and strings. */
  value: string;
  start: number;
  end: number;
}

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      let value = '';
      while (j < sql.length) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) {
            value += c;
            j += 2;
            continue;
          }
          break;
        }
        value += sql[j];
        j++;
      }
      tokens.push({ type: c === "'" ? 'string' : 'qident', text: sql.slice(i, j + 1), value, start: i, end: j + 1 });
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < sql.length && /[A-Za-z0-9_$]/.test(sql[j]!)) j++;
      const text = sql.slice(i, j);
      tokens.push({ type: 'word', text, value: text, start: i, end: j });
      i = j;
    } else if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < sql.length && /[0-9.eE]/.test(sql[j]!)) j++;
      tokens.push({ type: 'number', text: sql.slice(i, j), value: sql.slice(i, j), start: i, end: j });
      i = j;
    } else {
      const two = sql.slice(i, i + 2);
      const text = two === '=>' || two === ':=' || two === '::' ? two : c;
      tokens.push({ type: 'punct', text, value: text, start: i, end: i + text.length });
      i += text.length;
    }
  }
  return tokens;
}

const LAYER = /^(bronze|silver|gold)$/i;

function isIdent(t: Token | undefined): t is Token {
  return t !== undefined && (t.type === 'word' || t.type === 'qident');
}

function word(t: Token | undefined, w: string): boolean {
  return t !== undefined && t.type === 'word' && t.text.toLowerCase() === w;
}

function punct(t: Token | undefined, p: string): boolean {
  return t !== undefined && t.type === 'punct' && t.text === p;
}

/** Parses `AT ( VERSION => n )` / `AT ( TIMESTAMP => '…' )` at tokens[i]; returns the clause and the index after it. */
function parseAt(tokens: Token[], i: number): { at: TableAt; next: number } | undefined {
  if (!word(tokens[i], 'at') || !punct(tokens[i + 1], '(')) return undefined;
  const key = tokens[i + 2];
  if (!(punct(tokens[i + 3], '=>') || punct(tokens[i + 3], ':='))) return undefined;
  const value = tokens[i + 4];
  if (!punct(tokens[i + 5], ')') || value === undefined) return undefined;
  if (word(key, 'version') && value.type === 'number') return { at: { version: Number(value.value) }, next: i + 6 };
  if (word(key, 'timestamp') && value.type === 'string') return { at: { timestamp: value.value }, next: i + 6 };
  return undefined;
}

export function findTableRefs(sql: string): SqlTableRef[] {
  const tokens = tokenize(sql);
  const refs: SqlTableRef[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    // delta_scan('path' [, version => n])
    if (word(t, 'delta_scan') && punct(tokens[i + 1], '(') && tokens[i + 2]?.type === 'string') {
      const name = tokens[i + 2]!.value;
      let j = i + 3;
      let at: TableAt;
      if (punct(tokens[j], ',') && word(tokens[j + 1], 'version') && (punct(tokens[j + 2], '=>') || punct(tokens[j + 2], ':=')) && tokens[j + 3]?.type === 'number') {
        at = { version: Number(tokens[j + 3]!.value) };
        j += 4;
      }
      if (!punct(tokens[j], ')')) continue;
      let last = j;
      const clause = at ? undefined : parseAt(tokens, j + 1);
      if (clause) {
        at = clause.at;
        last = clause.next - 1;
      }
      refs.push({ start: t.start, end: tokens[last]!.end, kind: 'path', name, at });
      i = last;
      continue;
    }
    // layer.dataset, not part of a longer dotted name
    if (isIdent(t) && LAYER.test(t.value) && punct(tokens[i + 1], '.') && isIdent(tokens[i + 2]) && !punct(tokens[i - 1], '.') && !punct(tokens[i + 3], '.') && !punct(tokens[i + 3], '(')) {
      const dataset = tokens[i + 2]!;
      let end = dataset.end;
      let at: TableAt;
      const clause = parseAt(tokens, i + 3);
      let next = i + 3;
      if (clause) {
        at = clause.at;
        end = tokens[clause.next - 1]!.end;
        next = clause.next;
      }
      refs.push({ start: t.start, end, kind: 'catalog', name: `${t.value.toLowerCase()}.${dataset.value.toLowerCase()}`, at });
      i = next - 1;
    }
  }
  return refs;
}

const TABLE_STATEMENTS: Record<string, string> = { describe: 'DESCRIBE', desc: 'DESCRIBE', show: 'DESCRIBE', summarize: 'SUMMARIZE' };

/**
 * `DESCRIBE t`, `DESC t`, `SHOW t` and `SUMMARIZE t` where `t` is one lake table reference (with
 * or without AT, or a delta_scan) as `DESCRIBE SELECT * FROM t` / `SUMMARIZE SELECT * FROM t`,
 * which DuckDB accepts once `t` is a subquery; any other SQL unchanged.
 */
export function tableStatementAsQuery(sql: string): string {
  const tokens = tokenize(sql);
  const verb = tokens[0]?.type === 'word' ? TABLE_STATEMENTS[tokens[0].text.toLowerCase()] : undefined;
  if (!verb || tokens.length < 2) return sql;
  const [ref, ...others] = findTableRefs(sql);
  if (!ref || others.length > 0 || ref.start !== tokens[1]!.start) return sql;
  const rest = tokens.filter((t) => t.start >= ref.end);
  if (!rest.every((t) => punct(t, ';'))) return sql;
  return `${verb} SELECT * FROM ${sql.slice(ref.start, ref.end)}`;
}
