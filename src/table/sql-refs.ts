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

const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13) || c === 160 || c === 0xfeff || (c >= 0x2000 && c <= 0x200a) || c === 0x1680 || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
const isLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * The tokens of `sql`. Character codes, not regular expressions: a `lake sql` process tokenizes
 * once, cold, and compiling the expressions cost more than the scan (~1 ms).
 */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i++;
    } else if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
    } else if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
    } else if (c === 39 || c === 34) {
      const quote = sql[i]!;
      let j = i + 1;
      let doubled = false;
      for (;;) {
        const at = sql.indexOf(quote, j);
        if (at === -1) {
          j = n;
          break;
        }
        if (sql.charCodeAt(at + 1) === c) {
          doubled = true;
          j = at + 2;
          continue;
        }
        j = at;
        break;
      }
      const inner = sql.slice(i + 1, j);
      tokens.push({ type: c === 39 ? 'string' : 'qident', text: sql.slice(i, j + 1), value: doubled ? inner.replaceAll(quote + quote, quote) : inner, start: i, end: j + 1 });
      i = j + 1;
    } else if (isLetter(c)) {
      let j = i + 1;
      for (let d = sql.charCodeAt(j); j < n && (isLetter(d) || isDigit(d) || d === 36); d = sql.charCodeAt(++j));
      const text = sql.slice(i, j);
      tokens.push({ type: 'word', text, value: text, start: i, end: j });
      i = j;
    } else if (isDigit(c)) {
      let j = i + 1;
      for (let d = sql.charCodeAt(j); j < n && (isDigit(d) || d === 46 || d === 69 || d === 101); d = sql.charCodeAt(++j));
      tokens.push({ type: 'number', text: sql.slice(i, j), value: sql.slice(i, j), start: i, end: j });
      i = j;
    } else {
      const two = sql.slice(i, i + 2);
      const text = two === '=>' || two === ':=' || two === '::' ? two : sql[i]!;
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

export function findTableRefs(sql: string, tokens: Token[] = tokenize(sql)): SqlTableRef[] {
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
  const [ref, ...others] = findTableRefs(sql, tokens);
  if (!ref || others.length > 0 || ref.start !== tokens[1]!.start) return sql;
  const rest = tokens.filter((t) => t.start >= ref.end);
  if (!rest.every((t) => punct(t, ';'))) return sql;
  return `${verb} SELECT * FROM ${sql.slice(ref.start, ref.end)}`;
}
