import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHeaderStrippingProxy, startS3Server, type S3TestServer } from '../helpers/s3-server.js';

/**
 * The S3-compatible test server (moto, test/helpers/s3-server.ts) must enforce `If-None-Match: *`
 * on PutObject: the lake's commits rest on it, so a moto upgrade that stops enforcing it fails
 * here, loudly, rather than letting the concurrency tests pass against a server that cannot lose a
 * race. The header-stripping proxy must really strip it (the refusal test relies on that).
 */
// The SDK's Node 20 notice on stderr (the lake's own store sets the same; src/storage/s3-store.ts).
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
let server: S3TestServer;
beforeAll(async () => {
  server = await startS3Server();
});
afterAll(async () => {
  await server?.stop();
});

function client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
}

async function putStatus(s3: S3Client, bucket: string, key: string, body: string): Promise<number> {
  try {
    const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, IfNoneMatch: '*' }));
    return out.$metadata.httpStatusCode ?? 0;
  } catch (error) {
    return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? -1;
  }
}

describe('the S3 test server', () => {
  it('answers 412 to a second PutObject with If-None-Match: *', async () => {
    const s3 = client(server.endpoint);
    expect(await putStatus(s3, server.bucket, 'enforce/one.json', 'a')).toBe(200);
    expect(await putStatus(s3, server.bucket, 'enforce/one.json', 'b')).toBe(412);
    s3.destroy();
  });

  it('behind the header-stripping proxy, a second conditional put overwrites (a server that ignores the header)', async () => {
    const proxy = await startHeaderStrippingProxy(server.endpoint);
    try {
      const s3 = client(proxy.endpoint);
      expect(await putStatus(s3, server.bucket, 'stripped/one.json', 'a')).toBe(200);
      expect(await putStatus(s3, server.bucket, 'stripped/one.json', 'b')).toBe(200);
      s3.destroy();
    } finally {
      await proxy.stop();
    }
  });
});
