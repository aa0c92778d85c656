/**
 * The web service's HTTP plumbing: security headers on every response (a strict CSP: only
 * this origin's script and stylesheet, no inline code), the session cookie, bounded form
 * bodies, and the check every POST passes (a same-site request carrying the session's
 * CSRF token) before any handler runs.
 */
import type { Context } from 'koa';
import { csrfMatches, type Session, type SessionStore } from './session.js';

export const SESSION_COOKIE = 'dockyard_session';
const FORM_LIMIT_BYTES = 256 * 1024;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function securityHeaders(ctx: Context): void {
  ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Referrer-Policy', 'same-origin');
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
}

/** The session id the browser sent, if any. */
export function sessionIdOf(ctx: Context): string | undefined {
  const header = ctx.get('cookie');
  for (const part of header.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) return value.join('=');
  }
  return undefined;
}

/** Sets (or with null, clears) the session cookie: HttpOnly, SameSite=Lax, Secure when asked. */
export function setSessionCookie(ctx: Context, session: Session | null, secure: boolean): void {
  const attributes = ['Path=/', 'HttpOnly', 'SameSite=Lax', ...(secure ? ['Secure'] : [])];
  const value = session ? `${SESSION_COOKIE}=${session.id}` : `${SESSION_COOKIE}=; Max-Age=0`;
  ctx.append('Set-Cookie', [value, ...attributes].join('; '));
}

/** The session for a page with a form: the current one, or a new anonymous one (with its cookie). */
export async function ensureSession(ctx: Context, sessions: SessionStore, current: Session | undefined, secure: boolean): Promise<Session> {
  if (current) return current;
  const session = await sessions.create();
  setSessionCookie(ctx, session, secure);
  return session;
}

/** A urlencoded form body, bounded; null when it is not one or too large. */
export async function readForm(ctx: Context): Promise<URLSearchParams | null> {
  if (!ctx.is('application/x-www-form-urlencoded')) return null;
  if (Number(ctx.get('content-length') || '0') > FORM_LIMIT_BYTES) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > FORM_LIMIT_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Why a POST is refused before any handler sees it, or null when it may proceed. */
export function postRefusal(ctx: Context, session: Session | undefined, form: URLSearchParams | null): string | null {
  const site = ctx.get('sec-fetch-site');
  if (site !== '' && site !== 'same-origin' && site !== 'none') return 'This form was sent from another site.';
  if (!form) return 'The form could not be read.';
  if (!csrfMatches(session, form.get('_csrf') ?? undefined)) return 'This form has expired or did not come from this page. Go back, reload the page and try again.';
  return null;
}
