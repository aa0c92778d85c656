/**
 * Crash safety of the registry: concurrent clients push chunked blobs (PATCH with
 * Content-Range), monolithic blobs, manifests and tags while the registry process is
 * SIGKILLed at seeded random moments and restarted on the same data dir, a few rounds.
 *
 * What must hold: every push that got its 201 is there afterwards with the right bytes; a
 * tag names its last acknowledged push or one attempted after it; no blob is ever served
 * (or stored) partially; metadata and blob store agree right after a crash; an interrupted
 * upload session either resumes (GET status, continue at its offset) or is cleanly
 * BLOB_UPLOAD_UNKNOWN. The seed is printed; RELIABILITY_SEED=<seed> replays the choices.
 */
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Workspace } from '../e2e/harness/workspace.js';
import { SyntheticContent, sha256 } from './support/content.js';
import { explain, errorCode, isNetworkError, type HttpResponse } from './support/http.js';
import { locationOf, OciClient, rangeEnd } from './support/oci-client.js';
import { Prng, seedFromEnv } from './support/prng.js';
import { registryService } from './support/services.js';
import { auditRegistryStore, registryPaths, type StoreAudit } from './support/store-audit.js';

const SEED = seedFromEnv();
const ROUNDS = 5;
const WORKERS = 6;
const KIB = 1024;
const MIB = 1024 * 1024;
/** Blobs every worker may push into its own repository, so "already stored" paths race too. */
const SHARED_BLOBS = [0, 1, 2].map((i) => new SyntheticContent(`crash-shared-${SEED}-${i}`, MIB + i));

/** A manifest push of one tag (or none), in the order its worker attempted it. */
interface ManifestAttempt {
  repo: string;
  tag: string | null;
  digest: string;
  bytes: Buffer;
  acked: boolean;
}

/** Everything the clients were told succeeded, plus what they attempted. */
class Ledger {
  readonly blobs: Array<{ repo: string; content: SyntheticContent }> = [];
  readonly manifests: ManifestAttempt[] = [];
  /** Resumptions tried (one upload may be interrupted again while resuming). */
  resumeAttempts = 0;
  resumed = 0;
  uploadUnknown = 0;
  pullsVerified = 0;
}

/** Thrown for an answer a healthy registry must never give; fails the test. */
function unexpected(what: string, response: HttpResponse): Error {
  return new Error(`${what}: unexpected answer ${explain(response)}`);
}

function contentDigest(response: HttpResponse): string | undefined {
  const value = response.headers['docker-content-digest'];
  return Array.isArray(value) ? value[0] : value;
}

/** An upload whose session outlived a crash: resumed in the next round. */
interface PendingUpload {
  repo: string;
  content: SyntheticContent;
  location: string;
  chunkSize: number;
}

/** One client pushing into its own repository until the registry dies under it. */
class CrashWorker {
  readonly repo: string;
  readonly client: OciClient;
  private pending: PendingUpload[] = [];
  private serial = 0;
  private readonly acked: SyntheticContent[] = [];

  constructor(
    readonly id: number,
    private readonly rng: Prng,
    private readonly ledger: Ledger,
    agent: Agent,
  ) {
    this.repo = `crash/w${id}`;
    this.client = new OciClient('http://127.0.0.1:1', agent);
  }

  /** Resumes what a crash interrupted, then pushes and pulls until a request fails on a dead registry. */
  async runUntilDown(isDown: () => boolean): Promise<void> {
    try {
      await this.resumePending();
      for (;;) await this.step();
    } catch (err) {
      // Network failures are expected once the registry was killed, and only then.
      if (isNetworkError(err) && err.code !== 'ETIMEDOUT' && isDown()) return;
      throw err;
    }
  }

  /** Resumes every pending upload (used after the final restart, with nobody killing). */
  async resumePending(): Promise<void> {
    while (this.pending.length > 0) {
      await this.resume(this.pending[0]!);
      this.pending.shift();
    }
  }

  private nextKey(kind: string): string {
    this.serial += 1;
    return `crash-${SEED}-w${this.id}-${kind}-${this.serial}`;
  }

  private async step(): Promise<void> {
    const roll = this.rng.next();
    if (roll < 0.4) await this.pushChunked();
    else if (roll < 0.55) await this.pushMonolithic(new SyntheticContent(this.nextKey('mono'), this.rng.int(1, 2 * MIB)));
    else if (roll < 0.62) await this.pushMonolithic(this.rng.pick(SHARED_BLOBS));
    else if (roll < 0.85) await this.pushManifest();
    else await this.pullOne();
  }

  private async pushChunked(): Promise<void> {
    const content = new SyntheticContent(this.nextKey('chunked'), this.rng.int(64 * KIB, 4 * MIB));
    const chunkSize = this.rng.int(256 * KIB, MIB);
    content.digest();
    const upload: PendingUpload = { repo: this.repo, content, location: '', chunkSize };
    // Pending from the moment the session exists: if the registry dies mid-way, the next
    // round resumes it (any other failure ends the test).
    const answer = await this.client.pushChunked(this.repo, content, chunkSize, (location) => {
      upload.location = location;
      if (!this.pending.includes(upload)) this.pending.push(upload);
    });
    if (answer.status !== 201 || contentDigest(answer) !== content.digest()) throw unexpected(`chunked push of ${content.key}`, answer);
    this.pending = this.pending.filter((p) => p !== upload);
    this.ack(content);
  }

  private async pushMonolithic(content: SyntheticContent): Promise<void> {
    content.digest();
    const answer = await this.client.monolithic(this.repo, content);
    if (answer.status !== 201 || contentDigest(answer) !== content.digest()) throw unexpected(`monolithic push of ${content.key}`, answer);
    this.ack(content);
  }

  private ack(content: SyntheticContent): void {
    this.acked.push(content);
    this.ledger.blobs.push({ repo: this.repo, content });
  }

  private async pushManifest(): Promise<void> {
    if (this.acked.length < 2) return this.pushMonolithic(new SyntheticContent(this.nextKey('mono'), this.rng.int(1, 64 * KIB)));
    const config = this.rng.pick(this.acked);
    const layers = Array.from({ length: this.rng.int(1, 3) }, () => this.rng.pick(this.acked));
    const bytes = OciClient.imageManifest(
      { digest: config.digest(), size: config.size },
      layers.map((l) => ({ digest: l.digest(), size: l.size })),
      { 'dockyard.test/push': this.nextKey('manifest') },
    );
    const digest = sha256(bytes);
    const tag = this.rng.chance(0.8) ? `t${this.rng.int(0, 2)}` : null;
    const attempt: ManifestAttempt = { repo: this.repo, tag, digest, bytes, acked: false };
    this.ledger.manifests.push(attempt);
    const answer = await this.client.putManifest(this.repo, tag ?? digest, bytes);
    if (answer.status !== 201 || contentDigest(answer) !== digest) throw unexpected(`manifest push ${this.repo}:${tag ?? digest}`, answer);
    attempt.acked = true;
  }

  /** Any blob served must be whole: pull an acknowledged one and hash it. */
  private async pullOne(): Promise<void> {
    if (this.acked.length === 0) return;
    const content = this.rng.pick(this.acked);
    const pulled = await this.client.pullBlob(this.repo, content.digest());
    if (pulled.status !== 200) throw unexpected(`pull of acknowledged ${content.digest()}`, { ...pulled, body: pulled.errorBody });
    assert.equal(pulled.digest, content.digest(), `served bytes of ${content.digest()} hash to ${pulled.digest} (${pulled.size} bytes)`);
    this.ledger.pullsVerified += 1;
  }

  /** GET status → continue at the offset, or BLOB_UPLOAD_UNKNOWN; anything else fails. */
  private async resume(upload: PendingUpload): Promise<void> {
    this.ledger.resumeAttempts += 1;
    const status = await this.client.status(upload.location);
    if (status.status === 404 && errorCode(status.body) === 'BLOB_UPLOAD_UNKNOWN') {
      this.ledger.uploadUnknown += 1;
      return;
    }
    if (status.status !== 204) throw unexpected(`status of interrupted upload ${upload.location}`, status);
    const end = rangeEnd(status.headers.range);
    if (end === undefined) throw unexpected(`Range of interrupted upload ${upload.location}`, status);
    // `0-0` means 0 or 1 bytes; a 416 then names the real offset in its detail.
    let offset = end === 0 ? 0 : end + 1;
    let answer = await this.client.continueUpload(locationOf(status) ?? upload.location, upload.content, offset, upload.chunkSize, (location) => {
      upload.location = location;
    });
    if (answer.status === 416 && offset === 0) {
      offset = 1;
      answer = await this.client.continueUpload(upload.location, upload.content, offset, upload.chunkSize, (location) => {
        upload.location = location;
      });
    }
    if (answer.status !== 201 || contentDigest(answer) !== upload.content.digest()) throw unexpected(`resumed upload ${upload.location} at ${offset}`, answer);
    this.ledger.resumed += 1;
    this.ack(upload.content);
  }
}

/** The digests a tag may name: its last acknowledged push, or any push attempted after it. */
function allowedTagTargets(attempts: ManifestAttempt[]): { digests: Set<string>; mayBeAbsent: boolean } {
  const lastAcked = attempts.map((a) => a.acked).lastIndexOf(true);
  const candidates = lastAcked < 0 ? attempts : attempts.slice(lastAcked);
  return { digests: new Set(candidates.map((a) => a.digest)), mayBeAbsent: lastAcked < 0 };
}

async function verifyLedger(client: OciClient, ledger: Ledger): Promise<void> {
  for (const { repo, content } of ledger.blobs) {
    const pulled = await client.pullBlob(repo, content.digest());
    assert.equal(pulled.status, 200, `acknowledged blob ${repo}@${content.digest()} (${content.key}) is gone: ${explain(pulled)}`);
    assert.equal(pulled.digest, content.digest(), `acknowledged blob ${repo}@${content.digest()} serves bytes hashing to ${pulled.digest}`);
    assert.equal(pulled.size, content.size);
  }
  for (const manifest of ledger.manifests.filter((m) => m.acked)) {
    const got = await client.getManifest(manifest.repo, manifest.digest);
    assert.equal(got.status, 200, `acknowledged manifest ${manifest.repo}@${manifest.digest} is gone: ${explain(got)}`);
    assert.ok(got.body.equals(manifest.bytes), `manifest ${manifest.repo}@${manifest.digest} serves other bytes`);
  }
  const byTag = new Map<string, ManifestAttempt[]>();
  for (const attempt of ledger.manifests) {
    if (attempt.tag === null) continue;
    const key = `${attempt.repo}:${attempt.tag}`;
    byTag.set(key, [...(byTag.get(key) ?? []), attempt]);
  }
  for (const [key, attempts] of byTag) {
    const [repo, tag] = key.split(':') as [string, string];
    const { digests, mayBeAbsent } = allowedTagTargets(attempts);
    const got = await client.getManifest(repo, tag);
    if (got.status === 404 && mayBeAbsent) continue;
    assert.equal(got.status, 200, `tag ${key} with an acknowledged push is gone: ${explain(got)}`);
    const digest = contentDigest(got)!;
    assert.ok(digests.has(digest), `tag ${key} names ${digest}, which is older than its last acknowledged push (allowed: ${[...digests].join(', ')})`);
    assert.equal(sha256(got.body), digest, `tag ${key} serves bytes that do not hash to ${digest}`);
  }
}

const ws = Workspace.create('reliability-crash-registry');
const agent = new Agent({ keepAlive: true });
after(async () => {
  agent.destroy();
  await ws.dispose();
});

test(`registry: acknowledged pushes survive SIGKILL at random moments (seed ${SEED})`, async (t) => {
  t.diagnostic(`seed ${SEED}: replay with RELIABILITY_SEED=${SEED}`);
  const rng = new Prng(SEED);
  const dataDir = ws.mkdir('registry-data');
  const registry = registryService(ws, dataDir);
  const ledger = new Ledger();
  const workers = Array.from({ length: WORKERS }, (_, i) => new CrashWorker(i, rng.fork(), ledger, agent));
  const verifiedBlobs = new Set<string>();
  let crashed: StoreAudit | undefined;

  for (let round = 1; round <= ROUNDS; round++) {
    const url = await registry.start();
    let down = false;
    for (const worker of workers) worker.client.base = url;
    const running = workers.map((worker) => worker.runUntilDown(() => down));
    // A worker failing for a real reason must not wait for the kill to be reported.
    const failure = Promise.all(running).then(
      () => undefined,
      (err: unknown) => {
        throw new Error(`${err instanceof Error ? err.message : String(err)}\n${ws.logTails(15)}`, { cause: err });
      },
    );
    const killAfter = rng.int(300, 2500);
    try {
      await Promise.race([sleep(killAfter), failure]);
    } finally {
      // Also after a failure, so that no worker outlives the round.
      down = true;
      await registry.kill();
      await Promise.allSettled(running);
    }
    await failure;
    // The state exactly as this crash left it, before any recovery runs on it.
    crashed = await auditRegistryStore(registryPaths(dataDir), verifiedBlobs);
    assert.deepEqual(crashed.problems, [], `store inconsistent right after SIGKILL in round ${round}:\n${crashed.problems.join('\n')}`);
    t.diagnostic(`round ${round}: SIGKILL after ${killAfter} ms; ${ledger.blobs.length} blobs and ${ledger.manifests.filter((m) => m.acked).length} manifests acknowledged so far`);
  }

  assert.ok(crashed, 'no round ran');
  const url = await registry.start();
  for (const worker of workers) worker.client.base = url;
  for (const worker of workers) await worker.resumePending();
  await verifyLedger(new OciClient(url, agent), ledger);
  await registry.stop();

  const final = await auditRegistryStore(registryPaths(dataDir), verifiedBlobs);
  assert.deepEqual(final.problems, [], `store inconsistent after recovery:\n${final.problems.join('\n')}`);
  t.diagnostic(
    `verified ${ledger.blobs.length} blobs, ${ledger.manifests.filter((m) => m.acked).length} manifests, ` +
      `${ledger.pullsVerified} pulls during the rounds; ${ledger.resumeAttempts} resumptions of interrupted uploads: ` +
      `${ledger.resumed} resumed, ${ledger.uploadUnknown} BLOB_UPLOAD_UNKNOWN; on disk after the last crash: ` +
      `${crashed.blobFiles} blob files, ${crashed.uploadSessions} sessions, ${crashed.orphanUploads} orphan upload dirs, ${crashed.emptyBlobDirs} empty blob dirs, ${crashed.tempFiles} temp files`,
  );
  assert.ok(ledger.resumeAttempts > 0, 'no upload was ever interrupted: the kills never landed mid-upload, so resumption went untested');
  assert.ok(ledger.manifests.some((m) => m.acked && m.tag !== null), 'no tagged manifest was acknowledged: tags went untested');
});
