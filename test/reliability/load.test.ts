/**
 * Load: 32 concurrent clients push and pull small blobs, 32-64 MiB layers (streamed in
 * both directions, never held in memory), manifests and tags against one registry process,
 * for a bounded number of operations and at most about 50 seconds; then every large layer
 * is downloaded twice at once. Every answer must be
 * the expected one (zero errors), the registry's resident memory must stay under a bound
 * that no implementation buffering layers could meet, and afterwards every pushed object
 * must be served with bytes that hash to its digest. No timing is asserted: throughput is
 * the benchmark's business (test/bench).
 */
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Workspace } from '../e2e/harness/workspace.js';
import { SyntheticContent, sha256 } from './support/content.js';
import { explain, type HttpResponse } from './support/http.js';
import { OciClient } from './support/oci-client.js';
import { Prng, seedFromEnv } from './support/prng.js';
import { registryService } from './support/services.js';

const SEED = seedFromEnv();
const CLIENTS = 32;
const OPERATIONS_PER_CLIENT = 24;
/** Clients that each push one large layer first, all at once (8 × 32-64 MiB ≈ 384 MiB in flight). */
const LARGE_PUSHERS = 8;
const KIB = 1024;
const MIB = 1024 * 1024;
/** New operations start only within this window; the suite stays well inside CI's budget. */
const DEADLINE_MS = 50_000;
/**
 * The registry's resident set must stay below this. An idle registry (node, tsx-compiled
 * sources, koa, knex, pino, prom-client) takes about 105-115 MiB. Streaming adds per
 * connection about one 1 MiB batch or read buffer plus what the socket holds, and the
 * allocator keeps some of the churn: measured peaks under this load were 230-265 MiB.
 * Eight concurrent layers of 32-64 MiB held in memory would add 256-512 MiB on their own
 * (a test build that buffered upload bodies peaked at 435-477 MiB), so any layer
 * buffering breaks the bound.
 */
const RSS_LIMIT_BYTES = 320 * MIB;

/** What the clients pushed and were told succeeded. */
interface Pushed {
  repo: string;
  content: SyntheticContent;
}

/** Counts of what ran, for the report. */
interface Tally {
  operations: number;
  blobsPushed: number;
  bytesPushed: number;
  manifestsPushed: number;
  pulls: number;
  bytesPulled: number;
}

function expectAnswer(response: HttpResponse, status: number, what: string): void {
  if (response.status !== status) throw new Error(`${what}: expected ${status}, got ${explain(response)}`);
}

function contentDigest(response: HttpResponse): string | undefined {
  const value = response.headers['docker-content-digest'];
  return Array.isArray(value) ? value[0] : value;
}

/** One client: pushes into its own repository, pulls from its own and others'. */
class LoadClient {
  private readonly repo: string;
  private readonly mine: SyntheticContent[] = [];
  private readonly manifests: Array<{ tag: string; digest: string; bytes: Buffer }> = [];
  private serial = 0;

  constructor(
    private readonly id: number,
    private readonly client: OciClient,
    private readonly rng: Prng,
    private readonly pushed: Pushed[],
    private readonly tally: Tally,
  ) {
    this.repo = `load/c${id}`;
  }

  /** Runs its operations until they are done or the deadline passed. */
  async run(deadline: number): Promise<void> {
    if (this.id < LARGE_PUSHERS) await this.pushLarge();
    for (let i = 0; i < OPERATIONS_PER_CLIENT && Date.now() < deadline; i++) {
      const roll = this.rng.next();
      if (roll < 0.35 || this.mine.length < 2) await this.pushBlob(this.rng.int(1, 256 * KIB), this.rng.chance(0.5));
      else if (roll < 0.6) await this.pushManifest();
      else if (roll < 0.8) await this.pullAny();
      else await this.pullManifest();
      this.tally.operations += 1;
    }
  }

  /** A 32-64 MiB layer in one streamed body: a PATCH without length (docker's way) or a monolithic POST. */
  private async pushLarge(): Promise<void> {
    const content = this.newContent(this.rng.int(32 * MIB, 64 * MIB));
    const streamed = this.rng.chance(0.5);
    const answer = streamed ? await this.client.pushStreamed(this.repo, content) : await this.client.monolithic(this.repo, content);
    this.acknowledge(answer, content, streamed ? 'streamed PATCH' : 'monolithic');
  }

  private async pushBlob(size: number, chunked: boolean): Promise<void> {
    const content = this.newContent(size);
    const answer = chunked
      ? await this.client.pushChunked(this.repo, content, this.rng.int(16 * KIB, 128 * KIB))
      : await this.client.monolithic(this.repo, content);
    this.acknowledge(answer, content, chunked ? 'chunked' : 'monolithic');
  }

  private newContent(size: number): SyntheticContent {
    this.serial += 1;
    const content = new SyntheticContent(`load-${SEED}-c${this.id}-${this.serial}`, size);
    content.digest();
    return content;
  }

  private acknowledge(answer: HttpResponse, content: SyntheticContent, how: string): void {
    const size = content.size;
    expectAnswer(answer, 201, `push of ${size} bytes (${how}) to ${this.repo}`);
    assert.equal(contentDigest(answer), content.digest());
    this.mine.push(content);
    this.pushed.push({ repo: this.repo, content });
    this.tally.blobsPushed += 1;
    this.tally.bytesPushed += size;
  }

  private async pushManifest(): Promise<void> {
    const small = this.mine.filter((c) => c.size <= 256 * KIB);
    const config = this.rng.pick(small.length > 0 ? small : this.mine);
    const layers = Array.from({ length: this.rng.int(1, 3) }, () => this.rng.pick(this.mine));
    this.serial += 1;
    const bytes = OciClient.imageManifest(
      { digest: config.digest(), size: config.size },
      layers.map((l) => ({ digest: l.digest(), size: l.size })),
      { 'dockyard.test/load': `${SEED}-${this.id}-${this.serial}` },
    );
    const tag = `v${this.rng.int(0, 3)}`;
    const answer = await this.client.putManifest(this.repo, tag, bytes);
    expectAnswer(answer, 201, `manifest push ${this.repo}:${tag}`);
    this.manifests.push({ tag, digest: sha256(bytes), bytes });
    this.tally.manifestsPushed += 1;
  }

  /** Pulls a blob someone pushed (large ones included), hashing it as it streams. */
  private async pullAny(): Promise<void> {
    const { repo, content } = this.rng.pick(this.pushed);
    const pulled = await this.client.pullBlob(repo, content.digest());
    if (pulled.status !== 200) throw new Error(`pull of ${repo}@${content.digest()}: ${explain({ status: pulled.status, body: pulled.errorBody })}`);
    assert.equal(pulled.digest, content.digest(), `${repo}@${content.digest()} served with bytes hashing to ${pulled.digest}`);
    this.tally.pulls += 1;
    this.tally.bytesPulled += pulled.size;
  }

  private async pullManifest(): Promise<void> {
    if (this.manifests.length === 0) return this.pullAny();
    const latest = new Map(this.manifests.map((m) => [m.tag, m]));
    const manifest = this.rng.pick([...latest.values()]);
    const got = await this.client.getManifest(this.repo, manifest.tag);
    expectAnswer(got, 200, `manifest ${this.repo}:${manifest.tag}`);
    assert.ok(got.body.equals(manifest.bytes), `${this.repo}:${manifest.tag} is not the last manifest pushed to it`);
    this.tally.pulls += 1;
  }

  /** Every manifest this client pushed is still served by digest, and each tag names the last push. */
  async verifyManifests(): Promise<void> {
    for (const manifest of this.manifests) {
      const got = await this.client.getManifest(this.repo, manifest.digest);
      expectAnswer(got, 200, `manifest ${this.repo}@${manifest.digest}`);
      assert.ok(got.body.equals(manifest.bytes));
    }
    for (const [tag, manifest] of new Map(this.manifests.map((m) => [m.tag, m]))) {
      const got = await this.client.getManifest(this.repo, tag);
      expectAnswer(got, 200, `tag ${this.repo}:${tag}`);
      assert.equal(contentDigest(got), manifest.digest, `tag ${this.repo}:${tag} does not name its last push`);
    }
  }
}

const ws = Workspace.create('reliability-load');
const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS * 2 });
after(async () => {
  agent.destroy();
  await ws.dispose();
});

test(`load: ${CLIENTS} clients, small blobs and 32-64 MiB layers, zero errors, bounded memory (seed ${SEED})`, async (t) => {
  t.diagnostic(`seed ${SEED}: replay with RELIABILITY_SEED=${SEED}`);
  const registry = registryService(ws, ws.mkdir('registry-data'));
  const url = await registry.start();
  ws.defer('stop the registry', () => registry.stop());
  const rng = new Prng(SEED);
  const pushed: Pushed[] = [];
  const tally: Tally = { operations: 0, blobsPushed: 0, bytesPushed: 0, manifestsPushed: 0, pulls: 0, bytesPulled: 0 };
  const clients = Array.from({ length: CLIENTS }, (_, i) => new LoadClient(i, new OciClient(url, agent), rng.fork(), pushed, tally));

  let peakRss = registry.rssBytes();
  const idleRss = peakRss;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peakRss = Math.max(peakRss, registry.rssBytes());
      await sleep(100);
    }
  })();
  const deadline = Date.now() + DEADLINE_MS;
  try {
    await Promise.all(clients.map((client) => client.run(deadline)));
    // Then every large layer is downloaded by two clients at once: 16 concurrent streams.
    const large = pushed.filter((p) => p.content.size >= 32 * MIB);
    await Promise.all(
      large.flatMap(({ repo, content }) =>
        [0, 1].map(async () => {
          const pulled = await new OciClient(url, agent).pullBlob(repo, content.digest());
          assert.equal(pulled.status, 200, `${repo}@${content.digest()}: ${pulled.status}`);
          assert.equal(pulled.digest, content.digest(), `${repo}@${content.digest()} served with bytes hashing to ${pulled.digest}`);
          tally.pulls += 1;
          tally.bytesPulled += pulled.size;
        }),
      ),
    );
  } finally {
    sampling = false;
    await sampler;
  }
  t.diagnostic(
    `${tally.operations} operations: ${tally.blobsPushed} blobs (${(tally.bytesPushed / MIB).toFixed(0)} MiB) and ` +
      `${tally.manifestsPushed} manifests pushed, ${tally.pulls} pulls (${(tally.bytesPulled / MIB).toFixed(0)} MiB); ` +
      `registry RSS idle ${(idleRss / MIB).toFixed(0)} MiB, peak ${(peakRss / MIB).toFixed(0)} MiB (limit ${RSS_LIMIT_BYTES / MIB} MiB)`,
  );
  assert.ok(peakRss < RSS_LIMIT_BYTES, `registry RSS peaked at ${(peakRss / MIB).toFixed(0)} MiB, over the ${RSS_LIMIT_BYTES / MIB} MiB bound`);
  assert.ok(registry.running(), 'the registry died under load');

  // Everything acknowledged is there, byte for byte.
  const verifier = new OciClient(url, agent);
  for (const { repo, content } of pushed) {
    const pulled = await verifier.pullBlob(repo, content.digest());
    assert.equal(pulled.status, 200, `${repo}@${content.digest()}: ${pulled.status}`);
    assert.equal(pulled.digest, content.digest(), `${repo}@${content.digest()} served with bytes hashing to ${pulled.digest}`);
  }
  for (const client of clients) await client.verifyManifests();
  assert.ok(pushed.some((p) => p.content.size >= 32 * MIB), 'no large layer was pushed');
});
