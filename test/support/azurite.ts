/**
 * Azurite (the `azurite` npm package's blob service) for the Azure storage tests: each test
 * file that asks starts its own on a free port with its own data directory, and stops it
 * (and removes the directory) when the file's tests end or its process exits. Suites that
 * need it skip with the reason locally and fail under CI.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import type { AzureStorageConfig } from '../../shared/config/index.js';

/** Azurite's published development account (the same in every Azurite, not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const BIN = fileURLToPath(new URL('../../node_modules/.bin/azurite-blob', import.meta.url));
const START_TIMEOUT_MS = 30_000;

/** An Azurite this process started. */
export interface Running {
  child: ChildProcess;
  dir: string;
  serviceUrl: string;
}

let started: Promise<Running> | undefined;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function stop(running: Running): void {
  if (running.child.exitCode === null) running.child.kill('SIGKILL');
  rmSync(running.dir, { recursive: true, force: true });
}

/** Stops an Azurite started with startAzurite and removes its data directory. */
export function stopAzuriteNow(running: Running): void {
  stop(running);
}

/** Starts an Azurite of this process's own (also outside the test runner: the bench uses it). */
export async function startAzurite(): Promise<Running> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing (npm package azurite)`);
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-azurite-'));
  const port = await freePort();
  const args = ['--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', dir, '--silent', '--disableTelemetry', '--skipApiVersionCheck', '--loose'];
  const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const running = { child, dir, serviceUrl: `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}` };
  // Synchronous at exit: the runner gives no later chance, and a leftover Azurite holds its port.
  process.once('exit', () => stop(running));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`azurite-blob exited with ${child.exitCode}: ${output.trim().slice(-500)}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/${AZURITE_ACCOUNT}?comp=list`);
      await response.body?.cancel();
      return running;
    } catch {
      if (Date.now() > deadline) {
        stop(running);
        throw new Error(`azurite-blob did not listen on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms: ${output.trim().slice(-500)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** This file's Azurite, started on first use and stopped after the file's tests. */
export async function azurite(): Promise<{ serviceUrl: string }> {
  if (!started) {
    started = startAzurite();
    after(async () => stopAzurite());
  }
  return { serviceUrl: (await started).serviceUrl };
}

/** Stops this file's Azurite now (a test of the store going away). */
export async function stopAzurite(): Promise<void> {
  const running = await started?.catch(() => undefined);
  if (!running) return;
  if (running.child.exitCode === null) {
    const exited = new Promise((resolve) => running.child.once('exit', resolve));
    running.child.kill('SIGKILL');
    await exited;
  }
  rmSync(running.dir, { recursive: true, force: true });
}

/**
 * Whether a suite that needs Azurite (and whatever `alsoNeeded` checks, e.g. PostgreSQL)
 * can run. When not, it registers in its place a failing test under CI, a skipped one with
 * the reason elsewhere, and returns false.
 */
export async function azuriteSuiteGate(name: string, alsoNeeded?: () => Promise<string | null>): Promise<boolean> {
  let reason: string | null;
  try {
    await azurite();
    reason = alsoNeeded ? await alsoNeeded() : null;
  } catch (err) {
    reason = (err as Error).message || String(err);
  }
  if (reason === null) return true;
  if (process.env.CI) test(`${name}: prerequisites`, () => assert.fail(`unavailable under CI: ${reason}`));
  else test(name, { skip: `${reason}; set CI=1 to make this a failure` }, () => {});
  return false;
}

/** The environment that gives a registry process this storage (CNCF distribution's names). */
export function azureEnvironment(config: AzureStorageConfig): Record<string, string> {
  return {
    REGISTRY_STORAGE: 'azure',
    REGISTRY_STORAGE_AZURE_ACCOUNTNAME: config.accountName,
    REGISTRY_STORAGE_AZURE_ACCOUNTKEY: config.accountKey,
    REGISTRY_STORAGE_AZURE_CONTAINER: config.container,
    REGISTRY_STORAGE_AZURE_SERVICEURL: config.serviceUrl,
    REGISTRY_STORAGE_AZURE_ROOTDIRECTORY: config.rootDirectory,
    REGISTRY_STORAGE_REDIRECT_DISABLE: String(!config.redirect),
  };
}

let containerCounter = 0;

/** A new, empty container on this file's Azurite, and the driver configuration pointing at it. */
export async function azureTestConfig(overrides: Partial<AzureStorageConfig> = {}): Promise<AzureStorageConfig> {
  const { serviceUrl } = await azurite();
  containerCounter += 1;
  const container = `dockyard-${process.pid}-${Date.now().toString(36)}-${containerCounter}`;
  const service = new BlobServiceClient(serviceUrl, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
  await service.getContainerClient(container).create();
  return {
    accountName: AZURITE_ACCOUNT,
    accountKey: AZURITE_KEY,
    container,
    serviceUrl,
    rootDirectory: '/',
    redirect: false,
    ...overrides,
  };
}
