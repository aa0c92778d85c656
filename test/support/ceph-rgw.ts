/**
 * The S3 server the tests use: a real Ceph RGW (test/support/ceph-rgw.sh). `.ci/run` starts
 * one for the whole run and exports DOCKYARD_TEST_S3_ENDPOINT / _ACCESSKEY / _SECRETKEY;
 * without them, the first test file that asks starts a private one and stops it when its
 * process exits. Suites that need it skip with the reason locally and fail under CI.
 * The same RGW is the Swift server (its Swift API, a Swift subuser): DOCKYARD_TEST_SWIFT_AUTHURL
 * / _USERNAME / _PASSWORD, or the private RGW when those are not set.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3StorageConfig, SwiftStorageConfig } from '../../shared/config/index.js';

// The machine's CA-bundle variable makes the SDK (and distribution) load a bundle the
// plain-http RGW never needs; processes talking to it run without it.
delete process.env.AWS_CA_BUNDLE;

const SCRIPT = fileURLToPath(new URL('./ceph-rgw.sh', import.meta.url));

export interface RgwEndpoint {
  endpoint: string;
  accessKey: string;
  secretKey: string;
}

/** The Swift API of an RGW: auth v1 URL and the subuser's credentials. */
export interface SwiftEndpoint {
  authUrl: string;
  username: string;
  password: string;
}

let started: Promise<RgwEndpoint & { swift: SwiftEndpoint }> | undefined;

function fromEnv(): RgwEndpoint | undefined {
  const endpoint = process.env.DOCKYARD_TEST_S3_ENDPOINT;
  const accessKey = process.env.DOCKYARD_TEST_S3_ACCESSKEY;
  const secretKey = process.env.DOCKYARD_TEST_S3_SECRETKEY;
  return endpoint && accessKey && secretKey ? { endpoint, accessKey, secretKey } : undefined;
}

function swiftFromEnv(): SwiftEndpoint | undefined {
  const authUrl = process.env.DOCKYARD_TEST_SWIFT_AUTHURL;
  const username = process.env.DOCKYARD_TEST_SWIFT_USERNAME;
  const password = process.env.DOCKYARD_TEST_SWIFT_PASSWORD;
  return authUrl && username && password ? { authUrl, username, password } : undefined;
}

async function startOwn(): Promise<RgwEndpoint & { swift: SwiftEndpoint }> {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-rgw-'));
  // Stopped synchronously at exit: the test runner gives no later chance, and a leftover
  // Ceph would hold 400 MB and its ports.
  process.once('exit', () => {
    spawnSync('bash', [SCRIPT, 'stop', dir], { stdio: 'ignore' });
  });
  const { stdout } = await promisify(execFile)('bash', [SCRIPT, 'start', dir], { timeout: 180_000 });
  const values = Object.fromEntries(stdout.trim().split('\n').map((line) => line.split('=', 2) as [string, string]));
  return {
    endpoint: values.endpoint,
    accessKey: values.accesskey,
    secretKey: values.secretkey,
    swift: { authUrl: values.swiftauthurl, username: values.swiftuser, password: values.swiftkey },
  };
}

/** The shared RGW, started on first use when the environment names none. */
export function rgw(): Promise<RgwEndpoint> {
  const shared = fromEnv();
  if (shared) return Promise.resolve(shared);
  started ??= startOwn();
  return started;
}

/** The RGW's Swift API: the environment's, else the private RGW's (started on first use). */
export function swiftRgw(): Promise<SwiftEndpoint> {
  const shared = swiftFromEnv();
  if (shared) return Promise.resolve(shared);
  started ??= startOwn();
  return started.then((own) => own.swift);
}

/** Null when the RGW's Swift API answers to the subuser, else why not. */
export async function swiftUnavailable(): Promise<string | null> {
  if (!swiftFromEnv() && spawnSync('bash', ['-c', 'command -v radosgw && command -v ceph-mon && command -v ceph-osd']).status !== 0) {
    return 'Ceph (radosgw, ceph-mon, ceph-osd) is not installed and DOCKYARD_TEST_SWIFT_AUTHURL is not set';
  }
  try {
    const { authUrl, username, password } = await swiftRgw();
    const response = await fetch(authUrl, { headers: { 'x-auth-user': username, 'x-auth-key': password } });
    await response.body?.cancel();
    return response.ok ? null : `Swift auth v1 at ${authUrl} answered HTTP ${response.status}`;
  } catch (err) {
    return (err as Error).message || String(err);
  }
}

/** s3SuiteGate for suites on the RGW's Swift API. */
export async function swiftSuiteGate(name: string, alsoNeeded?: () => Promise<string | null>): Promise<boolean> {
  const reason = (await swiftUnavailable()) ?? (alsoNeeded ? await alsoNeeded() : null);
  if (reason === null) return true;
  if (process.env.CI) test(`${name}: prerequisites`, () => assert.fail(`unavailable under CI: ${reason}`));
  else test(name, { skip: `${reason}; set CI=1 to make this a failure` }, () => {});
  return false;
}

let containerCounter = 0;

/** A new, empty container on the RGW's Swift API, and the driver configuration pointing at it. */
export async function swiftTestConfig(overrides: Partial<SwiftStorageConfig> = {}): Promise<SwiftStorageConfig> {
  const { authUrl, username, password } = await swiftRgw();
  containerCounter += 1;
  const container = `dockyard-swift-${process.pid}-${Date.now().toString(36)}-${containerCounter}`;
  const auth = await fetch(authUrl, { headers: { 'x-auth-user': username, 'x-auth-key': password } });
  const token = auth.headers.get('x-auth-token');
  const storageUrl = auth.headers.get('x-storage-url');
  assert.ok(auth.ok && token && storageUrl, `Swift auth v1 failed: HTTP ${auth.status}`);
  const created = await fetch(`${storageUrl}/${container}`, { method: 'PUT', headers: { 'x-auth-token': token } });
  assert.ok(created.ok, `creating container ${container}: HTTP ${created.status}`);
  return {
    authUrl,
    authVersion: 1,
    username,
    password,
    container,
    endpointType: 'public',
    prefix: '/',
    insecureSkipVerify: false,
    chunkSize: 1024 * 1024,
    ...overrides,
  };
}

/** The environment that gives a registry process this storage (CNCF distribution's names). */
export function swiftEnvironment(config: SwiftStorageConfig): Record<string, string> {
  return {
    REGISTRY_STORAGE: 'swift',
    REGISTRY_STORAGE_SWIFT_AUTHURL: config.authUrl,
    REGISTRY_STORAGE_SWIFT_USERNAME: config.username,
    REGISTRY_STORAGE_SWIFT_PASSWORD: config.password,
    REGISTRY_STORAGE_SWIFT_CONTAINER: config.container,
    REGISTRY_STORAGE_SWIFT_PREFIX: config.prefix,
    REGISTRY_STORAGE_SWIFT_CHUNKSIZE: String(config.chunkSize),
  };
}

/** Null when an RGW is (or can be started and is) answering, else why not. */
export async function rgwUnavailable(): Promise<string | null> {
  if (!fromEnv() && spawnSync('bash', ['-c', 'command -v radosgw && command -v ceph-mon && command -v ceph-osd']).status !== 0) {
    return 'Ceph (radosgw, ceph-mon, ceph-osd) is not installed and DOCKYARD_TEST_S3_ENDPOINT is not set';
  }
  try {
    const { endpoint } = await rgw();
    const response = await fetch(endpoint);
    await response.body?.cancel();
    return null;
  } catch (err) {
    return (err as Error).message || String(err);
  }
}

/**
 * Whether a suite that needs the RGW (and whatever `alsoNeeded` checks, e.g. PostgreSQL)
 * can run. When not, it registers in its place a failing test under CI, a skipped one
 * with the reason elsewhere, and returns false.
 */
export async function s3SuiteGate(name: string, alsoNeeded?: () => Promise<string | null>): Promise<boolean> {
  const reason = (await rgwUnavailable()) ?? (alsoNeeded ? await alsoNeeded() : null);
  if (reason === null) return true;
  if (process.env.CI) test(`${name}: prerequisites`, () => assert.fail(`unavailable under CI: ${reason}`));
  else test(name, { skip: `${reason}; set CI=1 to make this a failure` }, () => {});
  return false;
}

/** The environment that gives a registry process this storage (CNCF distribution's names). */
export function s3Environment(config: S3StorageConfig): Record<string, string> {
  return {
    REGISTRY_STORAGE: 's3',
    REGISTRY_STORAGE_S3_REGION: config.region,
    REGISTRY_STORAGE_S3_REGIONENDPOINT: config.regionEndpoint ?? '',
    REGISTRY_STORAGE_S3_BUCKET: config.bucket,
    REGISTRY_STORAGE_S3_ROOTDIRECTORY: config.rootDirectory,
    REGISTRY_STORAGE_S3_ACCESSKEY: config.accessKey ?? '',
    REGISTRY_STORAGE_S3_SECRETKEY: config.secretKey ?? '',
    REGISTRY_STORAGE_S3_FORCEPATHSTYLE: String(config.forcePathStyle),
    REGISTRY_STORAGE_S3_SECURE: String(config.secure),
    REGISTRY_STORAGE_S3_CHUNKSIZE: String(config.chunkSize),
    REGISTRY_STORAGE_S3_REQUESTCHECKSUMCALCULATION: config.requestChecksumCalculation ?? 'when_required',
    REGISTRY_STORAGE_REDIRECT_DISABLE: String(!config.redirect),
  };
}

/** An http URL on 127.0.0.1 where nothing listens (a port taken from the kernel, then released). */
export async function unreachableEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

let bucketCounter = 0;

/** A new, empty bucket on the RGW, and the driver configuration pointing at it. */
export async function s3TestConfig(overrides: Partial<S3StorageConfig> = {}): Promise<S3StorageConfig> {
  const { endpoint, accessKey, secretKey } = await rgw();
  bucketCounter += 1;
  const bucket = `dockyard-${process.pid}-${Date.now().toString(36)}-${bucketCounter}`;
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
  });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
  return {
    region: 'us-east-1',
    regionEndpoint: endpoint,
    bucket,
    rootDirectory: '/',
    accessKey,
    secretKey,
    forcePathStyle: true,
    secure: false,
    skipVerify: false,
    chunkSize: 5 * 1024 * 1024,
    redirect: false,
    ...overrides,
  };
}
