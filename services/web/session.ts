/**
 * Sessions of the web UI, held on the server: the browser's cookie carries only a random
 * id. A signed-in session holds the user's refresh token (never sent to the browser) and
 * the short-lived registry tokens obtained with it; every session, signed in or not, holds
 * the CSRF token its forms carry. Kept in this process's memory, bounded in number and
 * age (the oldest go first), so a restart signs everyone out and several web replicas
 * need sticky sessions (docs/ui.md).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

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

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly options: { maxSessions: number; idleMs: number; now?: () => number } = { maxSessions: 10_000, idleMs: 12 * 3600_000 },
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** The live session with this id, touched; undefined for an unknown or idle one. */
  get(id: string | undefined): Session | undefined {
    if (id === undefined || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.lastSeen + this.options.idleMs < this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    session.lastSeen = this.now();
    // Re-insert: the map's order is then least recently used first.
    this.sessions.delete(id);
    this.sessions.set(id, session);
    return session;
  }

  /** A new session with fresh id and CSRF token (sign-in always makes a new one: no fixation). */
  create(user?: Session['user']): Session {
    while (this.sessions.size >= this.options.maxSessions) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
    }
    const session: Session = { id: randomBytes(ID_BYTES).toString('base64url'), csrf: randomBytes(ID_BYTES).toString('base64url'), tokens: new Map(), lastSeen: this.now(), ...(user ? { user } : {}) };
    this.sessions.set(session.id, session);
    return session;
  }

  destroy(id: string): void {
    this.sessions.delete(id);
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
