import { parseAction, type Action, type CheckpointReader } from '../delta/index.js';
import { literal, type Engine } from './session.js';

const ACTION_COLUMNS = ['protocol', 'metaData', 'add', 'remove', 'txn', 'checkpointMetadata', 'sidecar', 'domainMetadata'] as const;

/**
 * Reads checkpoint Parquet files (classic, multi-part, V2 and sidecars) through DuckDB. Each row
 * holds one non-null action column; DuckDB's `to_json` turns maps into objects, which is the
 * JSON commit shape. Adds that carry only `stats_parsed` get their `stats` JSON rebuilt from it.
 */
export function duckdbCheckpointReader(engine: Engine): CheckpointReader {
  return {
    async readCheckpoint(files: string[]): Promise<Action[]> {
      const list = `[${files.map(literal).join(', ')}]`;
      const cols = await engine.rows<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(${list}, union_by_name = true))`);
      const present = new Set(cols.map((c) => c.column_name));
      const wanted = ACTION_COLUMNS.filter((c) => present.has(c));
      if (wanted.length === 0) return [];
      const select = wanted.map((c) => `CASE WHEN "${c}" IS NULL THEN NULL ELSE to_json("${c}") END AS "${c}"`).join(', ');
      const where = wanted.map((c) => `"${c}" IS NOT NULL`).join(' OR ');
      const reader = await engine.connection.runAndReadAll(`SELECT ${select} FROM read_parquet(${list}, union_by_name = true) WHERE ${where}`);
      const columns = reader.getColumnsObjectJS() as Record<string, (string | null)[]>;
      const actions: Action[] = [];
      const rowCount = reader.currentRowCount;
      for (let i = 0; i < rowCount; i++) {
        for (const c of wanted) {
          const text = columns[c]![i];
          if (text === null || text === undefined) continue;
          const value = JSON.parse(text) as Record<string, unknown>;
          if (c === 'add' && (value['stats'] === null || value['stats'] === undefined) && value['stats_parsed'] != null) {
            value['stats'] = JSON.stringify(value['stats_parsed']);
          }
          const action = parseAction({ [c]: stripNulls(value) }, files[0] ?? 'checkpoint');
          if (action) actions.push(action);
          break;
        }
      }
      return actions;
    },
  };
}

/** Checkpoint structs have every field; absent optional fields come back as null. */
function stripNulls(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = v;
  return out;
}
