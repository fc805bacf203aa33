/**
 * DuckDB's `delta` extension (the `extension` reader, README.md "Readers") on machines without
 * internet.
 * PyPI ships the extension binary as the `duckdb-extension-delta` package, one release per DuckDB
 * version; its wheel holds `duckdb_extension_delta/extensions/v<version>/delta.duckdb_extension`.
 * `installDeltaExtension` has DuckDB itself install that binary (`FORCE INSTALL '<file>'`, which
 * checks the file's DuckDB version and platform) into the directory our in-process DuckDB loads
 * from (`<extension_directory>/<version>/<platform>/delta.duckdb_extension`), then proves it with
 * `LOAD delta` in a fresh database.
 */
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBInstance } from './duckdb.js';
import { LakeError } from '../core/index.js';
import { DEFAULT_MEMORY_LIMIT, engineBudget, literal, type Engine } from './session.js';

const run = promisify(execFile);

export const DELTA_EXTENSION_PACKAGE = 'duckdb-extension-delta';

/** The DuckDB extensions the lake installs offline: delta (the extension reader) and httpfs (lakes on S3). */
export const INSTALLABLE_EXTENSIONS = ['delta', 'httpfs'] as const;
export type InstallableExtension = (typeof INSTALLABLE_EXTENSIONS)[number];

/** The PyPI package that carries an extension's binary (`duckdb-extension-<name>`). */
export function extensionPackage(name: InstallableExtension): string {
  return `duckdb-extension-${name}`;
}

export type DeltaExtensionSource = 'file' | 'wheel' | 'pip' | 'duckdb' | 'installed';

export interface InstallDeltaExtensionOptions {
  /** Which extension (default delta). */
  name?: InstallableExtension;
  /** A `<name>.duckdb_extension` binary or a `duckdb_extension_<name>-*.whl`. */
  from?: string;
  /** Where to install; DuckDB's own extension directory by default (`~/.duckdb/extensions`). */
  extensionDirectory?: string;
  /** Python interpreter used for `pip download` (default `python3`; the CLI passes `$LAKE_PYTHON`). */
  python?: string;
  /** Reinstall even when a working delta extension is already installed. */
  force?: boolean;
  /** Time limit of `pip download`, in milliseconds (default 10 minutes). */
  pipTimeoutMs?: number;
}

export interface DeltaExtensionInstall {
  /** Where DuckDB now loads the extension from. */
  path: string;
  source: DeltaExtensionSource;
  /** The file the binary came from (the --from file, the downloaded wheel), when there is one. */
  origin?: string;
  duckdbVersion: string;
  platform: string;
  extensionVersion?: string;
  loaded: true;
  /** Sources tried before the one that worked, with the reason each failed. */
  skipped: { source: DeltaExtensionSource; reason: string }[];
}

export interface DeltaExtensionStatus {
  installed: boolean;
  loaded: boolean;
  version?: string;
  path?: string;
  error?: string;
}

interface Target {
  duckdbVersion: string;
  platform: string;
}

function message(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

async function openInstance(extensionDirectory: string | undefined): Promise<{ connection: DuckDBConnection; close(): void }> {
  // Installs only, never data: under the process memory limit, with nothing to spill.
  const config: Record<string, string> = { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false', memory_limit: engineBudget().memoryLimit ?? DEFAULT_MEMORY_LIMIT };
  if (extensionDirectory !== undefined) config['extension_directory'] = extensionDirectory;
  const instance = await DuckDBInstance.create(':memory:', config);
  const connection = await instance.connect();
  return {
    connection,
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

async function firstRow(connection: DuckDBConnection, sql: string): Promise<Record<string, unknown> | undefined> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowObjectsJS()[0] as Record<string, unknown> | undefined;
}

async function describeTarget(connection: DuckDBConnection): Promise<Target> {
  const version = await firstRow(connection, 'SELECT version() AS v');
  const platform = await firstRow(connection, 'PRAGMA platform');
  return { duckdbVersion: String(version?.['v'] ?? ''), platform: String(platform?.['platform'] ?? '') };
}

async function extensionRow(connection: DuckDBConnection, name: InstallableExtension = 'delta'): Promise<DeltaExtensionStatus> {
  const row = await firstRow(
    connection,
    `SELECT installed, loaded, install_path, extension_version FROM duckdb_extensions() WHERE extension_name = ${literal(name)}`,
  );
  const status: DeltaExtensionStatus = { installed: row?.['installed'] === true, loaded: row?.['loaded'] === true };
  if (row?.['extension_version']) status.version = String(row['extension_version']);
  if (row?.['install_path']) status.path = String(row['install_path']);
  return status;
}

/** `LOAD <name>` in a fresh database: the only proof that counts. */
async function verifyLoad(extensionDirectory: string | undefined, name: InstallableExtension): Promise<DeltaExtensionStatus> {
  const db = await openInstance(extensionDirectory);
  try {
    try {
      await db.connection.run(`LOAD ${name}`);
    } catch (cause) {
      return { ...(await extensionRow(db.connection, name)), loaded: false, error: message(cause) };
    }
    return await extensionRow(db.connection, name);
  } finally {
    db.close();
  }
}

/** The entries of a zip file (a wheel), with `unzip` or else Python's zipfile. */
async function zipEntries(zip: string, python: string): Promise<string[]> {
  try {
    const { stdout } = await run('unzip', ['-Z1', zip], { maxBuffer: 16 * 1024 * 1024 });
    return stdout.split('\n').filter(Boolean);
  } catch (unzipError) {
    try {
      const { stdout } = await run(python, ['-c', 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', zip], {
        maxBuffer: 16 * 1024 * 1024,
      });
      return stdout.split('\n').filter(Boolean);
    } catch (pythonError) {
      throw new LakeError('USAGE', `${zip} is not a readable wheel (zip): ${message(unzipError)}; ${message(pythonError)}`, {
        hint: 'Give a duckdb_extension_<name>-*.whl from PyPI, or the <name>.duckdb_extension file itself.',
      });
    }
  }
}

async function extractEntry(zip: string, entry: string, dir: string, python: string): Promise<string> {
  const out = path.join(dir, path.basename(entry));
  try {
    await run('unzip', ['-o', '-j', '-q', zip, entry, '-d', dir]);
  } catch {
    await run(python, ['-c', 'import shutil, sys, zipfile\nwith zipfile.ZipFile(sys.argv[1]).open(sys.argv[2]) as s, open(sys.argv[3], "wb") as d: shutil.copyfileobj(s, d)', zip, entry, out]);
  }
  return out;
}

const wheelEntry = (name: InstallableExtension): RegExp => new RegExp(`(^|/)extensions/(v[^/]+)/${name}\\.duckdb_extension$`);

/** Extracts the extension binary for `target` from a wheel; a wheel for another DuckDB is a usage error. */
async function binaryFromWheel(wheel: string, target: Target, dir: string, python: string, name: InstallableExtension): Promise<string> {
  const entry = wheelEntry(name);
  const entries = (await zipEntries(wheel, python)).filter((e) => entry.test(e));
  const wanted = entries.find((e) => entry.exec(e)?.[2] === target.duckdbVersion);
  if (!wanted) {
    const found = entries.map((e) => entry.exec(e)?.[2]).join(', ');
    throw new LakeError(
      'USAGE',
      `${wheel} holds no ${name} extension for DuckDB ${target.duckdbVersion} (${target.platform})${found ? `; it has one for DuckDB ${found}` : ''}`,
      { hint: `Use ${extensionPackage(name)}==${target.duckdbVersion.replace(/^v/, '')} for this DuckDB, built for ${target.platform}.` },
    );
  }
  return extractEntry(wheel, wanted, dir, python);
}

async function pipDownload(target: Target, dir: string, python: string, timeoutMs: number, name: InstallableExtension): Promise<string> {
  const requirement = `${extensionPackage(name)}==${target.duckdbVersion.replace(/^v/, '')}`;
  await run(python, ['-m', 'pip', 'download', requirement, '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '--quiet', '-d', dir], {
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  const wheel = (await readdir(dir)).find((f) => f.endsWith('.whl'));
  if (!wheel) throw new Error(`pip download ${requirement} left no wheel in ${dir}`);
  return path.join(dir, wheel);
}

function installError(target: Target, file: string, cause: unknown, code: 'USAGE' | 'INTERNAL', name: InstallableExtension): LakeError {
  return new LakeError(
    code,
    `the ${name} extension ${file} does not install into DuckDB ${target.duckdbVersion} (${target.platform}): ${message(cause)}`,
    {
      cause,
      hint: `The binary must be built for DuckDB ${target.duckdbVersion} on ${target.platform}: pip download ${extensionPackage(name)}==${target.duckdbVersion.replace(/^v/, '')} --no-deps, then pass the wheel with --from.`,
    },
  );
}

/**
 * Installs DuckDB's delta extension where our DuckDB loads it from. Sources, first that applies:
 * (a) `from` (a `.duckdb_extension` file or a wheel), (b) an already working install unless
 * `force`, (c) `pip download duckdb-extension-delta==<DuckDB version>`, (d) DuckDB's own
 * `INSTALL delta` (needs DuckDB's extension server). Throws USAGE for a bad `from`, INTERNAL when
 * no source works.
 */
export async function installDeltaExtension(options: InstallDeltaExtensionOptions = {}): Promise<DeltaExtensionInstall> {
  const name = options.name ?? 'delta';
  const pkg = extensionPackage(name);
  const python = options.python ?? 'python3';
  const db = await openInstance(options.extensionDirectory);
  const skipped: DeltaExtensionInstall['skipped'] = [];
  const tmp = await mkdtemp(path.join(os.tmpdir(), `lake-${name}-ext-`));
  try {
    const target = await describeTarget(db.connection);
    const done = async (source: DeltaExtensionSource, origin?: string, verified?: DeltaExtensionStatus): Promise<DeltaExtensionInstall> => {
      const status = verified ?? (await verifyLoad(options.extensionDirectory, name));
      if (!status.loaded) {
        throw new LakeError(
          source === 'file' || source === 'wheel' ? 'USAGE' : 'INTERNAL',
          `the ${name} extension installed from ${origin ?? source} does not load into DuckDB ${target.duckdbVersion} (${target.platform}): ${status.error ?? 'unknown error'}`,
          { hint: `Install the ${pkg} build for DuckDB ${target.duckdbVersion} on ${target.platform}.` },
        );
      }
      const result: DeltaExtensionInstall = { path: status.path ?? '', source, duckdbVersion: target.duckdbVersion, platform: target.platform, loaded: true, skipped };
      if (origin !== undefined) result.origin = origin;
      if (status.version !== undefined) result.extensionVersion = status.version;
      return result;
    };
    const installFile = async (file: string, code: 'USAGE' | 'INTERNAL'): Promise<void> => {
      try {
        await db.connection.run(`FORCE INSTALL ${literal(file)}`);
      } catch (cause) {
        throw installError(target, file, cause, code, name);
      }
    };

    if (options.from !== undefined) {
      const from = path.resolve(options.from);
      if (!existsSync(from) || !statSync(from).isFile()) {
        throw new LakeError('USAGE', `--from ${options.from}: no such file`, { hint: `Give a ${name}.duckdb_extension file or a duckdb_extension_${name}-*.whl wheel.` });
      }
      if (from.endsWith('.whl')) {
        await installFile(await binaryFromWheel(from, target, tmp, python, name), 'USAGE');
        return await done('wheel', from);
      }
      if (from.endsWith('.duckdb_extension')) {
        await installFile(from, 'USAGE');
        return await done('file', from);
      }
      throw new LakeError('USAGE', `--from ${options.from}: expected a .duckdb_extension file or a .whl wheel`, {
        hint: `The wheel is on PyPI as ${pkg}==${target.duckdbVersion.replace(/^v/, '')}.`,
      });
    }

    if (!options.force) {
      const existing = await verifyLoad(options.extensionDirectory, name);
      if (existing.loaded) return await done('installed', existing.path, existing);
      skipped.push({ source: 'installed', reason: existing.error ?? 'not installed' });
    }

    try {
      const wheel = await pipDownload(target, tmp, python, options.pipTimeoutMs ?? 600_000, name);
      await installFile(await binaryFromWheel(wheel, target, tmp, python, name), 'INTERNAL');
      return await done('pip', `${path.basename(wheel)} (pip download)`);
    } catch (cause) {
      skipped.push({ source: 'pip', reason: message(cause).split('\n').slice(0, 3).join(' ') });
    }

    try {
      await db.connection.run(`FORCE INSTALL ${name}`);
      return await done('duckdb');
    } catch (cause) {
      skipped.push({ source: 'duckdb', reason: message(cause).split('\n')[0] ?? '' });
    }
    throw new LakeError(
      'INTERNAL',
      `could not install the ${name} extension for DuckDB ${target.duckdbVersion} (${target.platform}): ${skipped.map((s) => `${s.source}: ${s.reason}`).join('; ')}`,
      {
        hint: `Download the wheel elsewhere (pip download ${pkg}==${target.duckdbVersion.replace(/^v/, '')} --no-deps) and pass it with --from.`,
        details: { skipped },
      },
    );
  } finally {
    db.close();
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Whether `engine` has the delta extension: loaded already, or installed and loading now.
 * Never downloads anything: an extension that is not installed is reported, not fetched.
 */
export async function deltaExtensionStatus(engine: Engine): Promise<DeltaExtensionStatus> {
  let status: DeltaExtensionStatus;
  try {
    status = await extensionRow(engine.connection);
  } catch (cause) {
    return { installed: false, loaded: false, error: message(cause) };
  }
  if (status.loaded) return status;
  if (!status.installed) {
    const target = await describeTarget(engine.connection).catch(() => undefined);
    return {
      ...status,
      error: `the delta extension is not installed${target ? ` for DuckDB ${target.duckdbVersion} (${target.platform})` : ''}; run node scripts/install-delta-extension.mjs`,
    };
  }
  try {
    await engine.connection.run('LOAD delta');
  } catch (cause) {
    return { ...status, loaded: false, error: message(cause) };
  }
  return { ...(await extensionRow(engine.connection)), loaded: true };
}
