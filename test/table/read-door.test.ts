import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as door from '../../src/table/index.js';
import * as read from '../../src/table/read.js';
import { resolveTable, writeTable } from '../../src/table/index.js';
import { tempLake } from '../helpers/temp-lake.js';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

/** The src files a module loads, following its relative imports and re-exports (type-only ones load nothing). */
function moduleGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'(\.[^']+)';/gm)) {
      if (m[1]) continue;
      visit(path.resolve(path.dirname(file), m[2]!.replace(/\.js$/, '.ts')));
    }
  };
  visit(path.join(src, entry));
  return new Set([...seen].map((f) => path.relative(src, f).split(path.sep).join('/')));
}

const t = tempLake('lake-read-door-');

describe('the read side of the table room (src/table/read.ts)', () => {
  it('loads none of the writers the room door loads', () => {
    const all = moduleGraph('table/index.ts');
    const reads = moduleGraph('table/read.ts');
    for (const writer of ['table/write.ts', 'table/optimize.ts', 'table/restore.ts', 'table/diff.ts', 'table/views.ts', 'table/batch-gc.ts', 'table/history.ts']) {
      expect(all.has(writer), writer).toBe(true);
      expect(reads.has(writer), writer).toBe(false);
    }
    expect(reads.has('table/query.ts')).toBe(true);
    expect(reads.size).toBeLessThan(all.size);
  });

  it('exports the same functions as the door, and a query through it reads a version', async () => {
    for (const [name, value] of Object.entries(read)) expect(value, name).toBe((door as Record<string, unknown>)[name]);
    const table = resolveTable(t.lake, 'silver.read_door');
    await writeTable(t.lake, { table, source: 'SELECT range::INT id FROM range(4)', mode: 'overwrite' });
    await writeTable(t.lake, { table, source: 'SELECT 9 id', mode: 'append' });
    const lake = await read.openLake({ root: t.root });
    try {
      const result = await read.runQuery(lake, 'SELECT count(*)::INT n, sum(id)::INT s FROM silver.read_door AT (VERSION => 0)', { reader: 'native' });
      expect(result.rows).toEqual([[4, 6]]);
      expect(result.views[0]).toMatchObject({ version: 0, reader: 'native' });
    } finally {
      lake.close();
    }
  });
});
