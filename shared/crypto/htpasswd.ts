/**
 * Apache htpasswd files with bcrypt entries (`htpasswd -B`), as CNCF distribution's
 * htpasswd auth reads them. Other hash kinds are refused at load with the line that holds
 * them, so a misconfigured file fails at startup instead of locking users out later.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import bcrypt from 'bcryptjs';
import type { Logger } from '../observability/logger.js';

/** An htpasswd file that cannot be used. */
export class HtpasswdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HtpasswdError';
  }
}

const BCRYPT = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;
const SUCCESS_CACHE_SIZE = 1000;

function hashKind(hash: string): string {
  if (hash.startsWith('$apr1$')) return 'MD5 (apr1)';
  if (hash.startsWith('{SHA}')) return 'SHA-1';
  if (/^\$[56]\$/.test(hash)) return 'SHA-crypt';
  if (hash.startsWith('$2')) return 'malformed bcrypt';
  if (/^[./A-Za-z0-9]{13}$/.test(hash)) return 'DES crypt';
  return 'plain-text or unknown';
}

/** Parses htpasswd text into user → bcrypt hash; `source` names the file in errors. */
export function parseHtpasswd(text: string, source: string): Map<string, string> {
  const users = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HtpasswdError(`${source}:${index + 1}: expected "user:hash"`);
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (!BCRYPT.test(hash)) {
      throw new HtpasswdError(
        `${source}:${index + 1}: user "${user}" has a ${hashKind(hash)} hash; only bcrypt is supported (create entries with htpasswd -B)`,
      );
    }
    // Like distribution, a later line for the same user replaces an earlier one.
    users.set(user, hash);
  });
  return users;
}

/** The cost most entries use, so a dummy comparison takes as long as a real one. */
function typicalCost(users: Map<string, string>): number {
  const counts = new Map<number, number>();
  for (const hash of users.values()) {
    const cost = bcrypt.getRounds(hash);
    counts.set(cost, (counts.get(cost) ?? 0) + 1);
  }
  let best = 10;
  let bestCount = 0;
  for (const [cost, count] of counts) if (count > bestCount) [best, bestCount] = [cost, count];
  return best;
}

interface Loaded {
  users: Map<string, string>;
  dummyHash: string;
  stamp: string;
}

/** An htpasswd file, re-read when it changes; verification is constant-time for unknown users. */
export class HtpasswdFile {
  private loaded: Loaded;
  /**
   * Recently verified credentials, as HMACs under a per-process key: bcrypt on every
   * registry request would cost more than the request itself.
   */
  private verified = new Set<string>();
  private readonly cacheKey = randomBytes(32);

  private constructor(
    private readonly path: string,
    private readonly logger: Logger | undefined,
    loaded: Loaded,
  ) {
    this.loaded = loaded;
  }

  /** Loads the file; throws HtpasswdError when it is missing or holds a non-bcrypt entry. */
  static async open(path: string, options: { logger?: Logger } = {}): Promise<HtpasswdFile> {
    try {
      return new HtpasswdFile(path, options.logger, await load(path, null));
    } catch (err) {
      if (err instanceof HtpasswdError) throw err;
      throw new HtpasswdError(`cannot read htpasswd file ${path}: ${(err as Error).message}`);
    }
  }

  /** True when `user` exists and `password` matches its hash. */
  async verify(user: string, password: string): Promise<boolean> {
    await this.reloadIfChanged();
    const { users, dummyHash } = this.loaded;
    // Length-prefixed so no (user, password) pair can collide with another split of the same bytes.
    const key = createHmac('sha256', this.cacheKey).update(`${Buffer.byteLength(user)}:${user}`).update(password).digest('base64');
    if (this.verified.has(key)) return true;
    const hash = users.get(user);
    // Unknown users still pay for one bcrypt comparison, so timing does not reveal who exists.
    const matches = await bcrypt.compare(password, hash ?? dummyHash);
    if (!matches || hash === undefined) return false;
    if (this.verified.size >= SUCCESS_CACHE_SIZE) this.verified.clear();
    this.verified.add(key);
    return true;
  }

  /** Number of users currently loaded. */
  get size(): number {
    return this.loaded.users.size;
  }

  private async reloadIfChanged(): Promise<void> {
    let stamp: string;
    try {
      stamp = await fileStamp(this.path);
    } catch (err) {
      this.logger?.error({ path: this.path, err: (err as Error).message }, 'htpasswd file unreadable; keeping the users loaded before');
      return;
    }
    if (stamp === this.loaded.stamp) return;
    try {
      this.loaded = await load(this.path, this.loaded);
      this.verified = new Set();
      this.logger?.info({ path: this.path, users: this.loaded.users.size }, 'htpasswd file reloaded');
    } catch (err) {
      this.logger?.error({ path: this.path, err: (err as Error).message }, 'htpasswd file invalid; keeping the users loaded before');
      // Remember the broken version so it is not parsed again on every request.
      this.loaded = { ...this.loaded, stamp };
    }
  }
}

async function fileStamp(path: string): Promise<string> {
  const s = await stat(path);
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}

async function load(path: string, previous: Loaded | null): Promise<Loaded> {
  const stamp = await fileStamp(path);
  const users = parseHtpasswd(await readFile(path, 'utf8'), path);
  const cost = typicalCost(users);
  const dummyHash =
    previous && bcrypt.getRounds(previous.dummyHash) === cost
      ? previous.dummyHash
      : await bcrypt.hash(randomBytes(18).toString('base64'), cost);
  return { users, dummyHash, stamp };
}
