import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLakeError } from '../../src/core/index.js';
import { deltaExtensionStatus, installDeltaExtension, literal, openEngine, type Engine } from '../../src/engine/index.js';
import { announceSkip, PYTHON, venvDeltaExtension } from './oracle.js';

/**
 * installDeltaExtension puts the binary that PyPI's duckdb-extension-delta ships where our own
 * DuckDB loads it from, and proves it with LOAD delta. Each test installs into its own temporary
 * extension directory, except the status test, which uses DuckDB's default one like the CLI does.
 */
const binary = venvDeltaExtension();
function skipReason(): boolean {
  if (announceSkip('installDeltaExtension')) return true;
  if (binary !== undefined) return false;
  process.stderr.write('[interop] skipping installDeltaExtension: .venv has no duckdb_extension_delta binary (run bash scripts/setup-oracles.sh)\n');
  return true;
}
const skip = skipReason();

const run = promisify(execFile);
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'lake-interop-ext-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A wheel-shaped zip holding `binary` at the package's path for `version` (stored, not deflated). */
async function makeWheel(name: string, version: string): Promise<string> {
  const wheel = path.join(dir, name);
  const script = 'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_STORED) as z:\n  z.write(sys.argv[2], sys.argv[3])\n  z.writestr("duckdb_extension_delta/__init__.py", "")';
  await run(PYTHON, ['-c', script, wheel, binary!, `duckdb_extension_delta/extensions/${version}/delta.duckdb_extension`]);
  return wheel;
}

async function expectLakeError(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isLakeError(error), String(error)).toBe(true);
  if (isLakeError(error)) {
    expect(error.code).toBe(code);
    expect(error.message).toMatch(pattern);
  }
}

describe.skipIf(skip)('installDeltaExtension', () => {
  it('installs a delta.duckdb_extension file into <extension_directory>/<version>/<platform> and loads it', async () => {
    const extensionDirectory = path.join(dir, 'from-file');
    const result = await installDeltaExtension({ from: binary, extensionDirectory });
    expect(result).toMatchObject({ source: 'file', loaded: true, duckdbVersion: 'v1.5.5', origin: binary });
    expect(result.path).toBe(path.join(extensionDirectory, result.duckdbVersion, result.platform, 'delta.duckdb_extension'));
    expect(existsSync(result.path)).toBe(true);
    expect(result.extensionVersion).toMatch(/\S/);
  });

  it('keeps a working install when called again without --from', async () => {
    const extensionDirectory = path.join(dir, 'from-file');
    const result = await installDeltaExtension({ extensionDirectory });
    expect(result).toMatchObject({ source: 'installed', loaded: true, skipped: [] });
  });

  it('extracts the binary for this DuckDB version from a wheel', async () => {
    const extensionDirectory = path.join(dir, 'from-wheel');
    const wheel = await makeWheel('duckdb_extension_delta-1.5.5-py3-none-manylinux2014_x86_64.whl', 'v1.5.5');
    const result = await installDeltaExtension({ from: wheel, extensionDirectory });
    expect(result).toMatchObject({ source: 'wheel', loaded: true, origin: wheel });
    expect(existsSync(result.path)).toBe(true);
  });

  it('refuses a wheel built for another DuckDB version, naming both versions (USAGE)', async () => {
    const wheel = await makeWheel('duckdb_extension_delta-1.4.3-py3-none-manylinux2014_x86_64.whl', 'v1.4.3');
    await expectLakeError(installDeltaExtension({ from: wheel, extensionDirectory: path.join(dir, 'wrong-version') }), 'USAGE', /v1\.5\.5.*v1\.4\.3/);
  });

  it('refuses a file that is not a DuckDB extension, a missing file and an unknown file type (USAGE)', async () => {
    const extensionDirectory = path.join(dir, 'bad');
    const junk = path.join(dir, 'junk.duckdb_extension');
    writeFileSync(junk, 'not an extension'.repeat(100));
    await expectLakeError(installDeltaExtension({ from: junk, extensionDirectory }), 'USAGE', /does not install into DuckDB v1\.5\.5 \(\w+\)/);
    await expectLakeError(installDeltaExtension({ from: path.join(dir, 'missing.whl'), extensionDirectory }), 'USAGE', /no such file/);
    const other = path.join(dir, 'delta.tar.gz');
    writeFileSync(other, 'x');
    await expectLakeError(installDeltaExtension({ from: other, extensionDirectory }), 'USAGE', /expected a \.duckdb_extension file or a \.whl wheel/);
  });

  it('downloads the pinned wheel with pip when there is no --from', async () => {
    const result = await installDeltaExtension({ extensionDirectory: path.join(dir, 'from-pip'), force: true, python: PYTHON });
    expect(result).toMatchObject({ source: 'pip', loaded: true });
    expect(result.origin).toMatch(/^duckdb_extension_delta-1\.5\.5-.*\.whl/);
  });

  it('says which sources it tried when none works', async () => {
    const attempt = installDeltaExtension({ extensionDirectory: path.join(dir, 'nothing'), force: true, python: path.join(dir, 'no-python') });
    const outcome = await attempt.then(
      (r) => r,
      (e: unknown) => e,
    );
    // DuckDB's own INSTALL delta succeeds only where its extension server is reachable.
    if (isLakeError(outcome)) {
      expect(outcome.code).toBe('INTERNAL');
      expect(outcome.message).toMatch(/v1\.5\.5 \(\w+\): pip: .*; duckdb: /);
    } else {
      expect(outcome).toMatchObject({ source: 'duckdb', loaded: true });
    }
  });
});

describe.skipIf(skip)('deltaExtensionStatus', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await openEngine();
  });
  afterAll(() => engine?.close());

  it('reports an extension that is not installed without downloading it', async () => {
    await engine.connection.run(`SET extension_directory = ${literal(path.join(dir, 'empty'))}`);
    const status = await deltaExtensionStatus(engine);
    expect(status).toMatchObject({ installed: false, loaded: false });
    expect(status.error).toMatch(/not installed for DuckDB v1\.5\.5/);
  });

  it('loads an installed extension into the engine', async () => {
    const extensionDirectory = path.join(dir, 'status');
    await installDeltaExtension({ from: binary, extensionDirectory });
    await engine.connection.run(`SET extension_directory = ${literal(extensionDirectory)}`);
    const status = await deltaExtensionStatus(engine);
    expect(status).toMatchObject({ installed: true, loaded: true });
    expect(status.version).toMatch(/\S/);
    expect(await deltaExtensionStatus(engine)).toMatchObject({ installed: true, loaded: true });
  });
});
