import { expect } from 'vitest';
import { describeChild, requireBuild, runCliProcess } from '../helpers/child.js';
import type { S3TestServer } from '../helpers/s3-server.js';
import { python, type StorageOptions } from './oracle.js';
import type { SparkServer } from './spark.js';

/**
 * The interop judges on the S3 test server (test/helpers/s3-server.ts: moto on 127.0.0.1):
 * tables go up and come down through boto3 (oracles/s3_objects.py), independently of our S3 store;
 * delta-rs and DuckDB's delta extension read them with `StorageOptions` (read_table.py), Spark
 * through s3a:// with per-bucket settings (spark_server.py `s3`).
 */

/** delta-rs's object-store options for the server; plain HTTP on 127.0.0.1. */
export function s3StorageOptions(server: S3TestServer): StorageOptions {
  return { ...server.env, AWS_ALLOW_HTTP: 'true' };
}

/** Uploads every file under `localDir` to `url` (s3://bucket/prefix) with boto3. */
export async function uploadFolder(server: S3TestServer, localDir: string, url: string): Promise<{ files: number; bytes: number }> {
  return (await python('s3_objects.py', ['upload', localDir, url], server.env)) as { files: number; bytes: number };
}

/** Downloads every object under `url` into `localDir` with boto3 (folder markers skipped). */
export async function downloadFolder(server: S3TestServer, url: string, localDir: string): Promise<{ files: number; bytes: number }> {
  return (await python('s3_objects.py', ['download', url, localDir], server.env)) as { files: number; bytes: number };
}

/** The keys under `url`, relative to it, sorted. */
export async function listKeys(server: S3TestServer, url: string): Promise<string[]> {
  return ((await python('s3_objects.py', ['list', url], server.env)) as { keys: string[] }).keys;
}

/** The s3a:// form Spark's Hadoop file system reads of an s3:// URL. */
export function s3a(url: string): string {
  return url.replace(/^s3:\/\//i, 's3a://');
}

/** Points Spark's s3a://<bucket> at the server (before Spark first touches the bucket). */
export async function sparkUseS3(spark: SparkServer, server: S3TestServer, bucket = server.bucket): Promise<void> {
  await spark.request({
    op: 's3',
    bucket,
    endpoint: server.endpoint,
    region: server.env['AWS_REGION'] ?? 'us-east-1',
    accessKey: server.env['AWS_ACCESS_KEY_ID'],
    secretKey: server.env['AWS_SECRET_ACCESS_KEY'],
  });
}

/** The Delta tables under `url` on the server: table prefix (relative to `url`) → its commit versions, ascending. */
export async function deltaTablesOnS3(server: S3TestServer, url: string): Promise<Map<string, number[]>> {
  const tables = new Map<string, number[]>();
  for (const key of await listKeys(server, url)) {
    const m = /^(.+)\/_delta_log\/(\d{20})\.json$/.exec(key);
    if (!m) continue;
    tables.set(m[1]!, [...(tables.get(m[1]!) ?? []), Number(m[2])]);
  }
  for (const versions of tables.values()) versions.sort((a, b) => a - b);
  return new Map([...tables].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * Runs the demo pipeline (`lake demo`, the built CLI, offline sample upstream) with the lake
 * straight on the server (LAKE_ROOT=url) and answers its tables (deltaTablesOnS3).
 */
export async function demoLakeOnS3(server: S3TestServer, url: string, tempDir: string): Promise<Map<string, number[]>> {
  requireBuild();
  const demo = await runCliProcess(['demo'], { env: { ...server.env, LAKE_ROOT: url, LAKE_TEMP_DIR: tempDir, NFLVERSE_BASE_URL: 'http://127.0.0.1:9/unreachable' } });
  expect(demo.code, describeChild(demo)).toBe(0);
  return deltaTablesOnS3(server, url);
}

/**
 * Sets the server's AWS_* variables in this process (our S3 store reads them, as a user's lake
 * does), and `extra` ones (LAKE_TEMP_DIR: where a lake on S3 keeps its local state), until the
 * returned function puts the old values back.
 */
export function useServerEnv(server: S3TestServer, extra: Record<string, string> = {}): () => void {
  const saved = Object.entries({ ...server.env, ...extra }).map(([k, v]) => {
    const old = process.env[k];
    process.env[k] = v;
    return [k, old] as const;
  });
  return () => {
    for (const [k, old] of saved) {
      if (old === undefined) delete process.env[k];
      else process.env[k] = old;
    }
  };
}
