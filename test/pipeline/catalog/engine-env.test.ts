import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { engineEnv } from '../../../src/pipeline/index.js';

/** LAKE_MEMORY_LIMIT / LAKE_THREADS / LAKE_TEMP_DIR: read and checked in one place, for every command. */
describe('engineEnv', () => {
  it('reads the DuckDB budget from the environment, leaving out what is unset or blank', () => {
    expect(engineEnv({})).toEqual({});
    expect(engineEnv({ LAKE_MEMORY_LIMIT: ' 512MiB ', LAKE_THREADS: '3', LAKE_TEMP_DIR: 'spill', LAKE_ROOT: 'x' })).toEqual({ memoryLimit: '512MiB', threads: 3, tempRoot: path.resolve('spill') });
    expect(engineEnv({ LAKE_MEMORY_LIMIT: '  ', LAKE_THREADS: '' })).toEqual({});
  });

  it('names the variable and the value it refuses', () => {
    expect(() => engineEnv({ LAKE_MEMORY_LIMIT: 'lots' })).toThrow(expect.objectContaining({ code: 'CATALOG_INVALID', exitCode: 2, message: expect.stringContaining('LAKE_MEMORY_LIMIT="lots"') }));
    expect(() => engineEnv({ LAKE_THREADS: '0' })).toThrow(expect.objectContaining({ code: 'CATALOG_INVALID', message: expect.stringContaining('LAKE_THREADS="0"') }));
  });
});
