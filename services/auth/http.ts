/**
 * HTTP input helpers for the auth service's routes: Basic credentials, bounded request
 * bodies (form and JSON), and single-valued query parameters. Every malformed input
 * becomes a REQUEST_INVALID (or PAYLOAD_TOO_LARGE) with a message, never a 500.
 */
import type { Context } from 'koa';
import { fail } from '../../shared/http/errors.js';
import { clientAddressOf } from '../../shared/http/middleware/client-address.js';
import { readBody } from '../../shared/http/request-body.js';

/** Credentials from an `Authorization: Basic` header. */
export interface BasicCredentials {
  username: string;
  password: string;
}

/**
 * The Authorization header parsed: null when absent, `basic` with credentials, `bearer`
 * with its token, or `invalid` for anything else (a malformed or unknown scheme).
 */
export type AuthorizationHeader =
  | null
  | { scheme: 'basic'; credentials: BasicCredentials }
  | { scheme: 'bearer'; token: string }
  | { scheme: 'invalid' };

/** Parses the Authorization header of a request. */
export function authorizationHeader(ctx: Context): AuthorizationHeader {
  const header = ctx.get('authorization');
  if (header === '') return null;
  const space = header.indexOf(' ');
  const scheme = (space > 0 ? header.slice(0, space) : header).toLowerCase();
  const value = space > 0 ? header.slice(space + 1).trim() : '';
  if (scheme === 'bearer' && value !== '') return { scheme: 'bearer', token: value };
  if (scheme !== 'basic' || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return { scheme: 'invalid' };
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return { scheme: 'invalid' };
  return { scheme: 'basic', credentials: { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) } };
}

/** The client address used for throttling and audit (resolved once per request, trusted proxies believed). */
export function clientAddress(ctx: Context): string {
  return clientAddressOf(ctx);
}

/** One query parameter: undefined when absent, REQUEST_INVALID when given twice. */
export function singleQuery(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  if (Array.isArray(value)) throw fail('REQUEST_INVALID', `query parameter ${name} must be given at most once`);
  return value;
}

/** Every value of a repeatable query parameter. */
export function repeatedQuery(ctx: Context, name: string): string[] {
  const value = ctx.query[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Reads an `application/x-www-form-urlencoded` body; a field given twice is refused. */
export async function readForm(ctx: Context): Promise<Map<string, string>> {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    throw fail('REQUEST_INVALID', 'expected a body of type application/x-www-form-urlencoded');
  }
  const form = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(await readBody(ctx))) {
    if (form.has(key)) throw fail('REQUEST_INVALID', `form field ${key} must be given at most once`);
    form.set(key, value);
  }
  return form;
}

