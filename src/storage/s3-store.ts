/**
 * The S3 adapter of the storage port: the same operations as file-store.ts on `s3://bucket/key`
 * locations, through `@aws-sdk/client-s3` (loaded only when a lake lives on S3).
 *
 * Settings are the standard AWS ones: endpoint from AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (an
 * S3-compatible server), region from AWS_REGION / AWS_DEFAULT_REGION (default us-east-1),
 * credentials from the SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 * AWS_SESSION_TOKEN, AWS_PROFILE and the shared config/credentials files, SSO, instance roles).
 * Path-style addressing when an endpoint is set or LAKE_S3_PATH_STYLE=1 (LAKE_S3_PATH_STYLE=0
 * forces virtual-host style).
 *
 * Commits rest on conditional PUT: `putIfAbsent` is PutObject with `If-None-Match: *`, and a 412
 * (or 409 ConditionalRequestConflict, a concurrent put of the same key) means another writer won.
 * A server that does not enforce the header would let two writers both "win" one version, so
 * before the first conditional put into a bucket the process probes it (the same probe object put
 * twice under the target's folder, then deleted) and refuses with STORAGE_UNSAFE when the second
 * put succeeds or the server answers 501.
 */
import { randomUUID } from 'node:crypto';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { LakeError, faultPoint } from '../core/index.js';
import type { FileEntry, PutFaults, PutResult } from './file-store.js';
import { parseS3Location } from './location.js';

type Sdk = typeof S3Sdk;

export interface S3Settings {
  /** `http(s)://host:port` of an S3-compatible server; undefined for AWS S3. */
  endpoint: string | undefined;
  region: string;
  pathStyle: boolean;
}

/** The S3 settings the environment names (see the file header). */
export function s3Settings(env: NodeJS.ProcessEnv = process.env): S3Settings {
  const endpoint = env['AWS_ENDPOINT_URL_S3'] || env['AWS_ENDPOINT_URL'] || undefined;
  const region = env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || 'us-east-1';
  const flag = env['LAKE_S3_PATH_STYLE'];
  const pathStyle = flag === undefined || flag === '' ? endpoint !== undefined : flag !== '0' && flag.toLowerCase() !== 'false';
  return { endpoint: endpoint?.replace(/\/+$/, ''), region, pathStyle };
}

let sdkPromise: Promise<Sdk> | undefined;
function sdk(): Promise<Sdk> {
  // The SDK warns on stderr about Node 20 on its first client; the lake's stderr is its contract.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  sdkPromise ??= import('@aws-sdk/client-s3');
  return sdkPromise;
}

const clients = new Map<string, S3Client>();

/** One client per settings for the process (the settings are read from the environment each call). */
export async function s3Client(settings: S3Settings = s3Settings()): Promise<S3Client> {
  const key = JSON.stringify(settings);
  const known = clients.get(key);
  if (known) return known;
  const { S3Client: Client } = await sdk();
  const client = new Client({ region: settings.region, endpoint: settings.endpoint, forcePathStyle: settings.pathStyle });
  clients.set(key, client);
  return client;
}

/** Resolved credentials from the default chain (for DuckDB's S3 secret); undefined when there are none. */
export async function s3Credentials(): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined> {
  const client = await s3Client();
  try {
    const credentials = await client.config.credentials();
    return { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken };
  } catch {
    return undefined;
  }
}

interface SdkError {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

function statusOf(error: unknown): number | undefined {
  return (error as SdkError | undefined)?.$metadata?.httpStatusCode;
}

function isMissing(error: unknown): boolean {
  const e = error as SdkError;
  return statusOf(error) === 404 || e?.name === 'NoSuchKey' || e?.name === 'NotFound';
}

/** Wraps an SDK failure as STORAGE_ERROR naming the location and what to check. */
function storageError(location: string, what: string, error: unknown): LakeError {
  if (error instanceof LakeError) return error;
  const e = error as SdkError & { message?: string };
  const status = statusOf(error);
  const endpoint = s3Settings().endpoint ?? 'AWS S3';
  return new LakeError('STORAGE_ERROR', `${what} ${location} failed on ${endpoint}: ${e?.name ?? 'error'}${status ? ` (HTTP ${status})` : ''}: ${e?.message ?? String(error)}`, {
    hint: 'Check the bucket exists and the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE), AWS_REGION and AWS_ENDPOINT_URL for S3-compatible servers.',
    cause: error,
  });
}

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

type PutOutcome = 'written' | 'exists' | 'unsupported';

async function conditionalPut(bucket: string, key: string, body: Uint8Array): Promise<PutOutcome> {
  const { PutObjectCommand } = await sdk();
  const client = await s3Client();
  try {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, IfNoneMatch: '*' }));
    return 'written';
  } catch (error) {
    const status = statusOf(error);
    if (status === 412 || status === 409) return 'exists';
    if (status === 501 || (error as SdkError)?.name === 'NotImplemented') return 'unsupported';
    throw error;
  }
}

const probes = new Map<string, Promise<void>>();

/**
 * Refuses (STORAGE_UNSAFE) a bucket whose server does not enforce `If-None-Match: *`: puts one
 * probe object twice under `folderKey` and expects the second to be refused; once per process per
 * endpoint and bucket.
 */
export function assertConditionalPut(bucket: string, folderKey: string): Promise<void> {
  const settings = s3Settings();
  const id = `${settings.endpoint ?? 'aws'}|${bucket}`;
  let probe = probes.get(id);
  if (!probe) {
    probe = runProbe(bucket, folderKey);
    probes.set(id, probe);
    probe.catch(() => probes.delete(id));
  }
  return probe;
}

async function runProbe(bucket: string, folderKey: string): Promise<void> {
  const key = `${folderKey === '' ? '' : `${folderKey.replace(/\/+$/, '')}/`}.lake-put-probe-${randomUUID()}.tmp`;
  const location = `s3://${bucket}/${key}`;
  const body = Buffer.from('probe: does this server enforce If-None-Match: * ?\n');
  const unsafe = (why: string): LakeError =>
    new LakeError('STORAGE_UNSAFE', `s3://${bucket} on ${s3Settings().endpoint ?? 'AWS S3'} does not enforce conditional writes (If-None-Match: *): ${why}; the lake refuses to commit there, since two writers could both commit the same version`, {
      hint: 'Use AWS S3 or an S3-compatible server that supports conditional PutObject (If-None-Match: *), or keep the lake on local disk.',
    });
  try {
    const first = await conditionalPut(bucket, key, body);
    if (first === 'unsupported') throw unsafe('the server answered 501 Not Implemented');
    const second = await conditionalPut(bucket, key, body);
    if (second === 'written') throw unsafe('a second put of the same object succeeded');
    if (second === 'unsupported') throw unsafe('the server answered 501 Not Implemented');
  } catch (error) {
    throw storageError(location, 'probing conditional put on', error);
  } finally {
    await deleteObject(location).catch(() => undefined);
  }
}

export async function s3PutIfAbsent(target: string, data: string | Uint8Array, faults?: PutFaults): Promise<PutResult> {
  const { bucket, key } = parseS3Location(target);
  await assertConditionalPut(bucket, key.slice(0, Math.max(0, key.lastIndexOf('/'))));
  if (faults) faultPoint(faults.written);
  let outcome: PutOutcome;
  try {
    outcome = await conditionalPut(bucket, key, toBytes(data));
  } catch (error) {
    throw storageError(target, 'writing', error);
  }
  if (outcome === 'unsupported') throw storageError(target, 'writing', Object.assign(new Error('501 Not Implemented for If-None-Match'), { name: 'NotImplemented' }));
  if (outcome === 'exists') return { status: 'exists' };
  if (faults) faultPoint(faults.linked);
  return { status: 'written' };
}

export async function s3ReplaceFile(target: string, data: string | Uint8Array): Promise<void> {
  const { PutObjectCommand } = await sdk();
  const { bucket, key } = parseS3Location(target);
  try {
    await (await s3Client()).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: toBytes(data) }));
  } catch (error) {
    throw storageError(target, 'writing', error);
  }
}

async function getBytes(location: string, range?: string): Promise<Uint8Array | undefined> {
  const { GetObjectCommand } = await sdk();
  const { bucket, key } = parseS3Location(location);
  try {
    const out = await (await s3Client()).send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
    return out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
  } catch (error) {
    if (isMissing(error)) return undefined;
    // A range that starts at or past the end of the object: nothing to read, as on local disk.
    if (range && statusOf(error) === 416) return new Uint8Array(0);
    throw storageError(location, 'reading', error);
  }
}

export async function s3ReadFileIfExists(file: string): Promise<Uint8Array | undefined> {
  return getBytes(file);
}

export async function s3ReadTextIfExists(file: string): Promise<string | undefined> {
  const bytes = await getBytes(file);
  return bytes === undefined ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

export async function s3ReadRangeIfExists(file: string, offset: number, length: number): Promise<Uint8Array | undefined> {
  if (length <= 0) return (await s3StatIfExists(file)) === undefined ? undefined : new Uint8Array(0);
  return getBytes(file, `bytes=${offset}-${offset + length - 1}`);
}

export async function s3StatIfExists(file: string): Promise<{ size: number; mtimeMs: number } | undefined> {
  const { HeadObjectCommand } = await sdk();
  const { bucket, key } = parseS3Location(file);
  try {
    const out = await (await s3Client()).send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { size: out.ContentLength ?? 0, mtimeMs: out.LastModified?.getTime() ?? 0 };
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw storageError(file, 'reading', error);
  }
}

export async function s3Exists(file: string): Promise<boolean> {
  return (await s3StatIfExists(file)) !== undefined;
}

/**
 * ListObjectsV2 requests this process sent and the keys (and common prefixes) they returned: how
 * much of a log a load lists shows here (tests and benchmarks read it; nothing else depends on it).
 */
export const s3ListStats = { requests: 0, keys: 0 };

/** Every object under `dir/` (recursive) or the entries directly in it (`delimited`), after `startAfter` (a name relative to `dir`). */
async function listUnder(dir: string, options: { delimited: boolean; startAfter?: string }): Promise<{ files: FileEntry[]; folders: string[] }> {
  const { ListObjectsV2Command } = await sdk();
  const { bucket, key } = parseS3Location(dir);
  const prefix = key === '' ? '' : `${key.replace(/\/+$/, '')}/`;
  const files: FileEntry[] = [];
  const folders: string[] = [];
  let token: string | undefined;
  try {
    do {
      const out = await (await s3Client()).send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          Delimiter: options.delimited ? '/' : undefined,
          StartAfter: token === undefined && options.startAfter !== undefined ? prefix + options.startAfter : undefined,
          ContinuationToken: token,
        }),
      );
      s3ListStats.requests++;
      s3ListStats.keys += (out.Contents?.length ?? 0) + (out.CommonPrefixes?.length ?? 0);
      for (const o of out.Contents ?? []) {
        if (!o.Key || o.Key === prefix) continue;
        files.push({ name: o.Key.slice(prefix.length), size: o.Size ?? 0, mtimeMs: o.LastModified?.getTime() ?? 0 });
      }
      for (const p of out.CommonPrefixes ?? []) if (p.Prefix) folders.push(p.Prefix.slice(prefix.length).replace(/\/$/, ''));
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  } catch (error) {
    throw storageError(dir, 'listing', error);
  }
  return { files, folders };
}

export async function s3ListNames(dir: string, options: { startAfter?: string } = {}): Promise<string[]> {
  const { files, folders } = await listUnder(dir, { delimited: true, startAfter: options.startAfter });
  return [...files.map((f) => f.name), ...folders].sort();
}

/** Directory-style listing of `dir`: files with sizes and the names of sub-folders (common prefixes). */
export async function s3ListEntries(dir: string): Promise<{ files: FileEntry[]; folders: string[] }> {
  return listUnder(dir, { delimited: true });
}

export async function s3ListFilesRecursive(dir: string): Promise<FileEntry[]> {
  return (await listUnder(dir, { delimited: false })).files;
}

/** True when anything exists under `dir/` (one ListObjectsV2 of at most one key). */
export async function s3HasEntries(dir: string): Promise<boolean> {
  const { ListObjectsV2Command } = await sdk();
  const { bucket, key } = parseS3Location(dir);
  const prefix = key === '' ? '' : `${key.replace(/\/+$/, '')}/`;
  try {
    const out = await (await s3Client()).send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 }));
    s3ListStats.requests++;
    s3ListStats.keys += out.Contents?.length ?? 0;
    return (out.KeyCount ?? out.Contents?.length ?? 0) > 0;
  } catch (error) {
    throw storageError(dir, 'listing', error);
  }
}

async function deleteObject(file: string): Promise<void> {
  const { DeleteObjectCommand } = await sdk();
  const { bucket, key } = parseS3Location(file);
  await (await s3Client()).send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

/** Deletes one object; false when it was not there (checked first: S3 deletes of missing keys succeed). */
export async function s3DeleteFile(file: string): Promise<boolean> {
  if (!(await s3Exists(file))) return false;
  try {
    await deleteObject(file);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw storageError(file, 'deleting', error);
  }
}
