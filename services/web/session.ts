/**
 * Sessions of the web UI, held on the server: the browser's cookie carries only a random
 * id. A signed-in session holds the user's refresh tokens (never sent to the browser);
 * every session, signed in or not, holds the CSRF token its forms carry. Sessions live in
 * the web service's database (SQLite in its data directory, or PostgreSQL shared by every
 * web replica: migrations/web), so a restart signs nobody out and any replica serves any
 * browser. A row is keyed by the SHA-256 of the id and its secrets are sealed
 * (session-key.ts): a copy of the table yields no cookie and no refresh token. The
 * short-lived registry tokens obtained with a refresh token are only cached in this
 * process's memory (another replica fetches its own).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Knex } from '../../shared/db/index.js';
import type { SessionSealer } from './session-key.js';

/** A registry token and what it grants, cached until shortly before it expires. */
export interface CachedToken {
  token: string;
  expiresAt: number;
  access: Array<{ type: string; name: string; actions: string[] }>;
}

export interface Session {
  readonly id: string;
  readonly csrf: string;
  /**
   * Set once signed in: the registry refresh token, and the admin API one (every user's:
   * the self-service API needs it; `admin` says whether the admin pages are theirs too).
   */
  user?: { name: string; refreshToken: string; adminRefreshToken?: string; admin?: boolean };
  /** A single sign-on under way in this browser (sso.ts). */
  sso?: SsoPending;
  /** Registry tokens by requested scope. */
  readonly tokens: Map<string, CachedToken>;
  lastSeen: number;
  /** A one-time message for the next page (e.g. "tag deleted"). */
  flash?: string;
}

/**
 * The state of a single sign-on this session started, its leg (the one-time code buys one
 * refresh token for one audience, so a sign-in runs twice: registry, then admin API) and
 * what the first leg got.
 */
export interface SsoPending {
  state: string;
  next: string;
  leg: 'registry' | 'admin';
  registry?: { name: string; refreshToken: string };
}

const ID_BYTES = 32;
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** Registry token caches kept for this many sessions at most (the least recently used go first). */
const TOKEN_CACHES = 10_000;

export interface SessionStoreOptions {
  /** A signed-in session unused for this long ends. */
  idleMs: number;
  /** A session without a user (a form's CSRF token, a single sign-on under way) unused for this long ends. */
  anonymousIdleMs: number;
  /** The row's last use is written at most this often (a page view is otherwise a read only). */
  touchEveryMs: number;
  now?: () => number;
}

const DEFAULTS: SessionStoreOptions = { idleMs: 12 * 3600_000, anonymousIdleMs: 3600_000, touchEveryMs: 60_000 };

interface SessionRow {
  csrf: string;
  sealed: string | null;
  flash: string | null;
  last_seen_at: number | string;
  expires_at: number | string;
}

/** What is sealed in a row: everything the session holds of its user. */
interface Secrets {
  user?: Session['user'];
  sso?: SsoPending;
}

/** The row key of a session id: its SHA-256 (hex). */
export function sessionIdHash(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

export class SessionStore {
  private readonly options: SessionStoreOptions;
  /** Per session object, what its row held when last read or written (save() writes only changes). */
  private readonly stored = new WeakMap<Session, { secrets: string; flash: string | null; lastSeen: number }>();
  private readonly tokenCaches = new Map<string, Map<string, CachedToken>>();

  constructor(
    private readonly db: Knex,
    private readonly sealer: SessionSealer,
    options: Partial<SessionStoreOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private expiry(session: Session, lastSeen: number): number {
    return lastSeen + (session.user ? this.options.idleMs : this.options.anonymousIdleMs);
  }

  /** The process-local registry token cache of a session (bounded, least recently used first out). */
  private tokensOf(idHash: string): Map<string, CachedToken> {
    let tokens = this.tokenCaches.get(idHash);
    if (tokens) this.tokenCaches.delete(idHash);
    else tokens = new Map();
    this.tokenCaches.set(idHash, tokens);
    while (this.tokenCaches.size > TOKEN_CACHES) this.tokenCaches.delete(this.tokenCaches.keys().next().value as string);
    return tokens;
  }

  private secretsOf(session: Session): string {
    const secrets: Secrets = { ...(session.user ? { user: session.user } : {}), ...(session.sso ? { sso: session.sso } : {}) };
    return JSON.stringify(secrets);
  }

  private sealedOf(idHash: string, secrets: string): string | null {
    return secrets === '{}' ? null : this.sealer.seal(idHash, secrets);
  }

  /** The live session with this id; undefined for a malformed, unknown, expired or unopenable one. */
  async get(id: string | undefined): Promise<Session | undefined> {
    if (id === undefined || !ID_PATTERN.test(id)) return undefined;
    const idHash = sessionIdHash(id);
    const row = (await this.db('web_sessions').first('csrf', 'sealed', 'flash', 'last_seen_at', 'expires_at').where('id_hash', idHash)) as SessionRow | undefined;
    const now = this.now();
    if (!row || Number(row.expires_at) <= now) return undefined;
    let secrets: Secrets = {};
    if (row.sealed !== null) {
      const opened = this.sealer.open(idHash, row.sealed);
      // Sealed under another key file, or altered in the table: not a session this replica may use.
      if (opened === null) return undefined;
      secrets = JSON.parse(opened) as Secrets;
    }
    const session: Session = { id, csrf: row.csrf, tokens: this.tokensOf(idHash), lastSeen: Number(row.last_seen_at), ...secrets, ...(row.flash !== null ? { flash: row.flash } : {}) };
    this.stored.set(session, { secrets: this.secretsOf(session), flash: row.flash, lastSeen: session.lastSeen });
    if (now - session.lastSeen >= this.options.touchEveryMs) {
      session.lastSeen = now;
      await this.db('web_sessions').where('id_hash', idHash).update({ last_seen_at: now, expires_at: this.expiry(session, now) });
      this.stored.get(session)!.lastSeen = now;
    }
    return session;
  }

  /** A new session with fresh id and CSRF token (sign-in always makes a new one: no fixation). */
  async create(user?: Session['user']): Promise<Session> {
    const now = this.now();
    const id = randomBytes(ID_BYTES).toString('base64url');
    const idHash = sessionIdHash(id);
    const session: Session = { id, csrf: randomBytes(ID_BYTES).toString('base64url'), tokens: this.tokensOf(idHash), lastSeen: now, ...(user ? { user } : {}) };
    const secrets = this.secretsOf(session);
    await this.db('web_sessions').insert({
      id_hash: idHash,
      csrf: session.csrf,
      user_name: user?.name ?? null,
      sealed: this.sealedOf(idHash, secrets),
      flash: null,
      created_at: now,
      last_seen_at: now,
      expires_at: this.expiry(session, now),
    });
    this.stored.set(session, { secrets, flash: null, lastSeen: now });
    return session;
  }

  /** Writes what a request changed in the session (flash message, single sign-on state); nothing when nothing changed or it was destroyed. */
  async save(session: Session): Promise<void> {
    const before = this.stored.get(session);
    if (!before) return;
    const secrets = this.secretsOf(session);
    const flash = session.flash ?? null;
    if (secrets === before.secrets && flash === before.flash) return;
    const idHash = sessionIdHash(session.id);
    const change: Record<string, unknown> = { flash };
    if (secrets !== before.secrets) Object.assign(change, { sealed: this.sealedOf(idHash, secrets), user_name: session.user?.name ?? null, expires_at: this.expiry(session, before.lastSeen) });
    await this.db('web_sessions').where('id_hash', idHash).update(change);
    this.stored.set(session, { secrets, flash, lastSeen: before.lastSeen });
  }

  async destroy(id: string): Promise<void> {
    if (!ID_PATTERN.test(id)) return;
    const idHash = sessionIdHash(id);
    this.tokenCaches.delete(idHash);
    await this.db('web_sessions').where('id_hash', idHash).delete();
  }

  /** Deletes up to `limit` expired sessions (one bounded statement); returns how many went. */
  async sweep(limit = 500): Promise<number> {
    const now = this.now();
    const expired = (await this.db('web_sessions').where('expires_at', '<=', now).orderBy('expires_at').limit(limit).pluck('id_hash')) as string[];
    if (expired.length === 0) return 0;
    await this.db('web_sessions').whereIn('id_hash', expired).andWhere('expires_at', '<=', now).delete();
    return expired.length;
  }
}

/** A new random value for a session secret (CSRF token, single sign-on state). */
export function randomSecret(): string {
  return randomBytes(ID_BYTES).toString('base64url');
}

/** True when `sent` equals `expected` (constant time). */
export function secretMatches(expected: string | undefined, sent: string | undefined): boolean {
  if (expected === undefined || sent === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(sent);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** True when `sent` is the session's CSRF token (constant time). */
export function csrfMatches(session: Session | undefined, sent: string | undefined): boolean {
  return secretMatches(session?.csrf, sent);
}
