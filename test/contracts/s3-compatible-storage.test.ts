// The storage contract on the S3 driver with the settings Google Cloud Storage and Alibaba
// OSS need (docs/storage.md): virtual-host style (the bucket in the Host header, which OSS
// requires) and request checksums only where S3 requires them (GCS and OSS refuse the SDK's
// newer defaults), plus Content-MD5 on multi-object deletes (OSS requires it). Tested
// against the Ceph RGW, an S3-compatible server, not the real clouds.
//
// Virtual-host style needs a name for the bucket that resolves to the RGW: the RGW is
// started with `rgw dns name = s3.localhost` (test/support/ceph-rgw.sh), and the suite runs
// in a child process in a private mount namespace (`unshare --mount`) whose /etc/hosts is a
// bind-mounted copy with `127.0.0.1 s3.localhost BUCKET.s3.localhost` added. The machine's
// /etc/hosts is never written, nothing else sees the names, and the driver resolves them
// exactly as it would in production (no test-only lookup hook in its HTTP agent).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { S3Driver } from '../../services/registry/storage/drivers/s3/index.js';
import type { S3StorageConfig } from '../../shared/config/index.js';
import { rgw, s3SuiteGate, s3TestConfig } from '../support/ceph-rgw.js';
import { runStorageDriverContract } from './storage-driver.contract.js';

const SELF = fileURLToPath(import.meta.url);
const DNS_NAME = 's3.localhost';
const NAME = 'StorageDriver contract: s3 with the GCS and OSS settings (virtual-host style, checksums when required)';

/** The driver configuration inside the namespace: one bucket, a fresh root directory per fixture. */
function vhostConfig(rootDirectory: string): S3StorageConfig {
  const env = process.env;
  return {
    region: 'us-east-1',
    regionEndpoint: env.DOCKYARD_TEST_VHOST_ENDPOINT!,
    bucket: env.DOCKYARD_TEST_VHOST_BUCKET!,
    rootDirectory,
    accessKey: env.DOCKYARD_TEST_S3_ACCESSKEY,
    secretKey: env.DOCKYARD_TEST_S3_SECRETKEY,
    forcePathStyle: false,
    secure: false,
    skipVerify: false,
    chunkSize: 5 * 1024 * 1024,
    requestChecksumCalculation: 'when_required',
    redirect: false,
  };
}

/** Null when the RGW serves a bucket named in the Host header under DNS_NAME, else why not. */
async function virtualHostUnavailable(config: S3StorageConfig): Promise<string | null> {
  if (spawnSync('unshare', ['--mount', 'true']).status !== 0) return 'unshare --mount is not permitted here (needs root)';
  const endpoint = new URL(config.regionEndpoint!);
  const client = new S3Client({ region: 'us-east-1', endpoint: `http://${DNS_NAME}:${endpoint.port}`, credentials: { accessKeyId: config.accessKey!, secretAccessKey: config.secretKey! } });
  const direct = new S3Client({ region: 'us-east-1', endpoint: config.regionEndpoint, forcePathStyle: true, credentials: { accessKeyId: config.accessKey!, secretAccessKey: config.secretKey! } });
  try {
    await direct.send(new PutObjectCommand({ Bucket: config.bucket, Key: 'probe', Body: 'virtual host' }));
    // A bucket-in-host request sent to the RGW's address, with the Host header the URL names.
    const url = new URL(await getSignedUrl(client, new GetObjectCommand({ Bucket: config.bucket, Key: 'probe' })));
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: endpoint.port, path: url.pathname + url.search, headers: { host: url.host } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(`${res.statusCode} ${text}`));
      });
      req.on('error', reject);
      req.end();
    });
    return body === '200 virtual host' ? null : `the RGW at ${config.regionEndpoint} does not serve ${url.host} (started without rgw dns name = ${DNS_NAME}? test/support/ceph-rgw.sh sets it): ${body.slice(0, 120)}`;
  } finally {
    client.destroy();
    direct.destroy();
  }
}

if (process.env.DOCKYARD_TEST_VHOST_BUCKET) {
  // The child, inside the private mount namespace.
  let fixtures = 0;
  runStorageDriverContract('s3 (virtual-host style, checksums when required)', async () => {
    fixtures += 1;
    const driver = new S3Driver(vhostConfig(`/contract/${fixtures}`));
    return { driver, cleanup: async () => driver.client.destroy() };
  });

  describe('requests of the S3 driver with the GCS and OSS settings', () => {
    it('name the bucket in the Host header, carry no flexible checksums on uploads, and Content-MD5 on multi-object deletes', async () => {
      const driver = new S3Driver(vhostConfig('/headers'));
      const seen: Array<{ command: string; host: string; headers: Record<string, string> }> = [];
      driver.client.middlewareStack.add(
        (next, context) => async (args) => {
          const req = args.request as { hostname?: string; port?: number; headers: Record<string, string> };
          seen.push({ command: String(context.commandName), host: `${req.hostname}:${req.port}`, headers: { ...req.headers } });
          return next(args);
        },
        { step: 'finalizeRequest', name: 'testRecordRequests', priority: 'low' },
      );
      try {
        await driver.putContent('/small', Buffer.from('x'));
        const writer = await driver.writer('/large', false);
        await writer.write(Buffer.alloc(6 * 1024 * 1024, 7));
        await writer.commit();
        await driver.delete('/small');
        await driver.delete('/large');
      } finally {
        driver.client.destroy();
      }
      const commands = new Set(seen.map((r) => r.command));
      for (const command of ['PutObjectCommand', 'UploadPartCommand', 'CompleteMultipartUploadCommand', 'DeleteObjectsCommand']) assert.ok(commands.has(command), `${command} was sent`);
      const port = new URL(process.env.DOCKYARD_TEST_VHOST_ENDPOINT!).port;
      for (const { command, host, headers } of seen) {
        assert.equal(host, `${process.env.DOCKYARD_TEST_VHOST_BUCKET}.${DNS_NAME}:${port}`, `${command} names the bucket in the host`);
        if (command === 'DeleteObjectsCommand') {
          assert.match(headers['content-md5'] ?? '', /^[A-Za-z0-9+/]{22}==$/, 'multi-object delete carries Content-MD5');
          continue;
        }
        const checksums = Object.keys(headers).filter((h) => /^x-amz-(checksum-|sdk-checksum-algorithm)/i.test(h));
        assert.deepEqual(checksums, [], `${command} carries no flexible checksum`);
      }
    });
  });
} else if (await s3SuiteGate(NAME)) {
  const config = await s3TestConfig();
  const reason = await virtualHostUnavailable(config);
  if (reason !== null) {
    if (process.env.CI) test(`${NAME}: prerequisites`, () => assert.fail(`unavailable under CI: ${reason}`));
    else test(NAME, { skip: `${reason}; set CI=1 to make this a failure` }, () => {});
  } else {
    test(`${NAME}, in a private mount namespace with the bucket's host name`, { timeout: 300_000 }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dockyard-vhost-'));
      try {
        const hosts = join(dir, 'hosts');
        writeFileSync(hosts, `${readFileSync('/etc/hosts', 'utf8')}\n127.0.0.1 ${DNS_NAME} ${config.bucket}.${DNS_NAME}\n`);
        const { accessKey, secretKey } = await rgw();
        const env = {
          ...process.env,
          DOCKYARD_TEST_VHOST_BUCKET: config.bucket,
          DOCKYARD_TEST_VHOST_ENDPOINT: `http://${DNS_NAME}:${new URL(config.regionEndpoint!).port}`,
          DOCKYARD_TEST_S3_ACCESSKEY: accessKey,
          DOCKYARD_TEST_S3_SECRETKEY: secretKey,
          // Not a subtest of this runner: a test run of its own, reporting to us.
          NODE_TEST_CONTEXT: undefined,
        };
        const child = spawn(
          'unshare',
          ['--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', hosts, process.execPath, '--import', 'tsx', '--test', '--test-reporter', 'tap', SELF],
          { env, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
        const failures = output.split('\n').filter((line) => /not ok|error:|expected|actual/.test(line)).slice(0, 40).join('\n');
        assert.equal(code, 0, `the suite in the namespace failed:\n${failures || output.slice(-4000)}`);
        assert.match(output, /^# fail 0$/m);
        const passed = Number(/^# pass (\d+)$/m.exec(output)?.[1] ?? 0);
        assert.ok(passed > 60, `only ${passed} tests passed in the namespace`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}
