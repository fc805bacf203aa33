import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PIPELINE_VERSION } from '../../src/core/index.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
  type: string;
  bin: Record<string, string>;
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};

describe('package.json', () => {
  it('keeps the runtime dependency list to the design card, pinned exactly', () => {
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['@aws-sdk/client-s3', '@duckdb/node-api', 'apache-arrow', 'commander', 'p-limit', 'pino', 'vega', 'vega-lite', 'yaml', 'zod']);
    for (const [name, version] of [...Object.entries(pkg.dependencies), ...Object.entries(pkg.devDependencies)]) {
      expect(version, name).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/);
    }
  });

  it('pins @duckdb/node-api to the DuckDB version of the packaged delta extension (1.5.5)', () => {
    expect(pkg.dependencies['@duckdb/node-api']).toMatch(/^1\.5\.5-r\.\d+$/);
  });

  it('is ESM with the lake binary, Node >= 20 and the documented scripts', () => {
    expect(pkg.type).toBe('module');
    expect(pkg.bin['lake']).toBe('dist/cli/main.js');
    expect(pkg.engines.node).toBe('>=20');
    for (const script of ['build', 'test', 'test:interop', 'bench', 'demo', 'lint']) expect(pkg.scripts[script], script).toBeDefined();
  });

  it('records the same pipeline version as package.json', () => {
    expect(PIPELINE_VERSION).toBe(pkg.version);
  });
});
