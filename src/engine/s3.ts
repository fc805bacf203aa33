/**
 * DuckDB on S3: every engine that touches an `s3://` lake loads DuckDB's httpfs extension and gets
 * one S3 secret built from the same settings as the storage port (s3Settings: AWS_ENDPOINT_URL*,
 * AWS_REGION, path style; credentials resolved through the AWS SDK's default chain), so
 * `read_parquet('s3://…')` and `COPY … TO 's3://…'` reach the same bucket with the same identity.
 * httpfs is never downloaded here: a missing one is EXTENSION_MISSING naming
 * `lake extension install httpfs`.
 */
import { LakeError } from '../core/index.js';
import { s3Credentials, s3Settings } from '../storage/index.js';
import { literal } from './session.js';

interface Runs {
  run(sql: string): Promise<unknown>;
}

/** The `CREATE SECRET` statement for the current S3 settings (credentials included when the chain yields some). */
export async function s3SecretSql(name = 'lake_s3', options: { persistent?: boolean; credentials?: boolean } = {}): Promise<string> {
  const settings = s3Settings();
  const credentials = options.credentials === false ? { accessKeyId: '<AWS_ACCESS_KEY_ID>', secretAccessKey: '<AWS_SECRET_ACCESS_KEY>' } : await s3Credentials();
  const parts = ['TYPE s3', `REGION ${literal(settings.region)}`, `URL_STYLE ${literal(settings.pathStyle ? 'path' : 'vhost')}`];
  if (credentials) {
    parts.push(`KEY_ID ${literal(credentials.accessKeyId)}`, `SECRET ${literal(credentials.secretAccessKey)}`);
    if (credentials.sessionToken) parts.push(`SESSION_TOKEN ${literal(credentials.sessionToken)}`);
  }
  if (settings.endpoint) {
    const url = new URL(settings.endpoint);
    parts.push(`ENDPOINT ${literal(url.host + (url.pathname === '/' ? '' : url.pathname))}`, `USE_SSL ${url.protocol === 'https:' ? 'true' : 'false'}`);
  }
  return `CREATE OR REPLACE ${options.persistent ? 'PERSISTENT ' : ''}SECRET ${name} (${parts.join(', ')})`;
}

/** Loads httpfs into `engine` (EXTENSION_MISSING when it is not installed) and creates the lake's S3 secret. */
export async function enableS3(engine: Runs, what = 'the lake'): Promise<void> {
  try {
    await engine.run('LOAD httpfs');
  } catch (cause) {
    throw new LakeError('EXTENSION_MISSING', `${what} is on S3, and DuckDB's httpfs extension (which reads and writes s3:// files) does not load: ${cause instanceof Error ? cause.message.split('\n')[0] : String(cause)}`, {
      cause,
      hint: 'Install it once with `lake extension install httpfs` (offline from a duckdb_extension_httpfs wheel: --from <file>).',
    });
  }
  await engine.run(await s3SecretSql());
}
