/**
 * What the administration pages share: the section type admin-routes.ts dispatches to, the
 * navigation between sections, the registry admin API call (with the admin's own
 * `registry:catalog:*` token: the registry decides every call again), and the formats
 * the pages show sizes and times in.
 */
import { html, type Html } from '../html.js';
import type { Session } from '../session.js';
import { CATALOG_SCOPE, type Upstream } from '../upstream.js';
import type { Page } from './context.js';

/** A signed-in administrator's request. */
export interface AdminRequest {
  upstream: Upstream;
  session: Session;
  query: URLSearchParams;
}

/** A change a form asks for: a message for the section page (after a redirect), or a page of its own. */
export type AdminAction = (req: AdminRequest, form: URLSearchParams, match: RegExpExecArray) => Promise<string | Page>;

/** One administration page, with the forms it posts. */
export interface AdminSection {
  path: string;
  label: string;
  page(req: AdminRequest): Promise<Page>;
  actions: Array<{ path: RegExp; run: AdminAction }>;
}

const SECTIONS: Array<{ path: string; label: string }> = [
  { path: '/admin', label: 'Users and grants' },
  { path: '/admin/rules', label: 'Tag rules' },
  { path: '/admin/quotas', label: 'Quotas and usage' },
  { path: '/admin/retention', label: 'Retention' },
  { path: '/admin/gc', label: 'Garbage collection' },
  { path: '/admin/notifications', label: 'Notifications' },
  { path: '/admin/audit', label: 'Audit log' },
];

/** An administration page: the section navigation above its body. */
export function adminPage(current: string, title: string, body: Html): Page {
  const nav = html`<nav class="admin-nav" aria-label="Administration"><ul>${SECTIONS.map((s) =>
    s.path === current ? html`<li><a href="${s.path}" aria-current="page">${s.label}</a></li>` : html`<li><a href="${s.path}">${s.label}</a></li>`,
  )}</ul></nav>`;
  return { title, body: html`${nav}<h1>${title}</h1>${body}` };
}

/** A registry admin API call (JSON both ways); non-2xx answers become UpstreamErrors with the registry's message. */
export async function registryAdmin<T>(req: AdminRequest, method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = method === 'GET' ? {} : { method, headers: { 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) };
  const res = await req.upstream.registry(req.session, CATALOG_SCOPE, path, init);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** Form input an action refuses before asking anyone (shown as "Not done: …" like the APIs' refusals). */
export class FormError extends Error {}

/** A field of a form, trimmed ('' when absent). */
export function field(form: URLSearchParams, name: string): string {
  return (form.get(name) ?? '').trim();
}

/** `2026-12-05 02:21` from an ISO time or milliseconds. */
export function when(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString().slice(0, 16).replace('T', ' ');
}

const UNITS: Record<string, number> = { '': 1, B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3, TIB: 1024 ** 4 };

/** Bytes from `500MB`, `10 GiB` or `1234`; null for '' (no limit); FormError otherwise. */
export function parseSize(text: string, what: string): number | null {
  if (text === '') return null;
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?$/i.exec(text);
  const unit = UNITS[(m?.[2] ?? '').toUpperCase()];
  if (!m || unit === undefined) throw new FormError(`${what} must be a size such as 500MB, 10GiB or a number of bytes`);
  const bytes = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new FormError(`${what} is too large`);
  return bytes;
}
