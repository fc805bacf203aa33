import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { existsSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { REPO_ROOT } from './child.js';

/**
 * A real S3-compatible server for the tests: moto (PyPI `moto[server]`, pinned in
 * test/interop/requirements.txt, installed into .venv by scripts/setup-oracles.sh) in server mode
 * on 127.0.0.1 at a free port, with one fresh bucket. moto enforces `If-None-Match: *` on
 * PutObject (a second put answers 412), which is what the lake's commits rest on;
 * test/storage/s3-server.test.ts checks that it still does.
 *
 * `env` is what a lake process needs to talk to it (endpoint, region, dummy credentials); spread it
 * into a child's environment or pass it to the S3 store. There is no silent skip: when the moto
 * binary is missing, `startS3Server` rejects with how to install it.
 */
export const MOTO_SERVER = path.join(REPO_ROOT, '.venv', 'bin', 'moto_server');

export interface S3TestServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** A fresh bucket, created empty. */
  bucket: string;
  /** AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY for the server. */
  env: Record<string, string>;
  /** `s3://<bucket>/<prefix>` */
  url(prefix: string): string;
  /** Creates another empty bucket on the same server and returns its name. */
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function httpCall(method: string, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitReady(endpoint: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`moto_server exited (${child.exitCode ?? child.signalCode}) before it answered:\n${output()}`);
    }
    try {
      const { status } = await httpCall('GET', `${endpoint}/`);
      if (status > 0) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`moto_server did not answer on ${endpoint} within 30 s:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let bucketCounter = 0;

/** Starts moto on 127.0.0.1 at a free port and creates one empty bucket. */
export async function startS3Server(): Promise<S3TestServer> {
  if (!existsSync(MOTO_SERVER)) {
    throw new Error(`${MOTO_SERVER} is missing: the S3 tests need moto's server (run bash scripts/setup-oracles.sh, which installs moto[server] from test/interop/requirements.txt)`);
  }
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (output = (output + d).slice(-4000)));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (output = (output + d).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  try {
    await waitReady(endpoint, child, () => output);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const createBucket = async (name: string): Promise<void> => {
    const { status, body } = await httpCall('PUT', `${endpoint}/${name}`);
    if (status !== 200) throw new Error(`creating bucket ${name} on ${endpoint} answered ${status}: ${body}`);
  };
  const bucket = `lake-test-${process.pid}-${++bucketCounter}`;
  await createBucket(bucket);
  return {
    endpoint,
    bucket,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
    },
    url: (prefix: string) => `s3://${bucket}/${prefix.replace(/^\/+/, '')}`,
    createBucket,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/**
 * A real HTTP proxy on 127.0.0.1 in front of an S3 server that drops the `If-None-Match` request
 * header: a server that ignores conditional PUT, as older S3-compatible servers do. The lake must
 * refuse to commit through it.
 */
export async function startHeaderStrippingProxy(target: string): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const headers = { ...req.headers };
    delete headers['if-none-match'];
    headers.host = upstream.host;
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', (error) => {
      res.writeHead(502);
      res.end(String(error));
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sets `vars` in this process's environment (for in-process S3 calls); the returned function puts the old values back. */
export function setProcessEnv(vars: Record<string, string>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/**
 * One S3 server for a test file: registers beforeAll / afterAll (call it at the top level), starts
 * the server, points this process's AWS variables at it (for in-process reads and writes) and
 * stops it after. `server()` is there once beforeAll has run.
 */
export function s3ServerForTests(): { server(): S3TestServer } {
  let started: S3TestServer | undefined;
  let restore = (): void => undefined;
  beforeAll(async () => {
    started = await startS3Server();
    restore = setProcessEnv(started.env);
  });
  afterAll(async () => {
    restore();
    await started?.stop();
  });
  return {
    server() {
      if (!started) throw new Error('s3ServerForTests: the server starts in beforeAll; use it inside hooks and tests');
      return started;
    },
  };
}
