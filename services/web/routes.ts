/**
 * The page routes. Repository names keep their slashes in URLs (`/r/team/app`); what follows
 * `/-/` (which no repository name can contain) names a sub-page: `readme/edit`, `readme`,
 * `tags/<tag>`, `manifests/<digest>`, each tag and manifest with `/delete`. Every name,
 * tag and digest passes the OCI grammar before it is put into a registry URL.
 */
import type { Context } from 'koa';
import { isValidName, isValidTag, tryParseDigest } from '../../shared/grammar/reference.js';
import type { WebState } from './app.js';
import { ensureSession, setSessionCookie } from './http.js';
import type { Page, WebRequest } from './pages/context.js';
import { repositoryHref } from './pages/context.js';
import { confirmDeletePage, loginPage, safeNext } from './pages/forms.js';
import { adminRoutes } from './pages/admin-routes.js';
import { imagePage } from './pages/image.js';
import { layout } from './pages/layout.js';
import { readmeEditPage, repositoryPage } from './pages/repository.js';
import { repositoriesPage } from './pages/repositories.js';
import type { SessionStore } from './session.js';
import { repositoryScope, UpstreamError, type Upstream } from './upstream.js';
import { accessTokenRoutes } from './pages/access-tokens.js';
import { ssoRoutes } from './sso/routes.js';

export interface RouteDeps {
  sessions: SessionStore;
  upstream: Upstream;
  secure: boolean;
  /** The single sign-on callback URL when single sign-on is on (sso/routes.ts). */
  ssoCallbackUrl?: string;
}

function render(ctx: Context, state: WebState, page: Page): void {
  ctx.status = page.status ?? 200;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = layout({ title: page.title, session: state.session, body: page.body }).text;
}

type Target = { tag: string } | { digest: string };

/** `/r/<name>[/-/<rest>]` split and validated; null when it is no such page. */
function repositoryPath(path: string): { name: string; rest: string[] } | null {
  const m = /^\/r\/(.+?)(?:\/-\/(.*))?$/.exec(path);
  if (!m || !isValidName(m[1]!)) return null;
  try {
    return { name: m[1]!, rest: m[2] === undefined ? [] : m[2].split('/').map(decodeURIComponent) };
  } catch {
    return null;
  }
}

function targetOf(kind: string | undefined, value: string | undefined): Target | null {
  if (kind === 'tags' && value !== undefined && isValidTag(value)) return { tag: value };
  if (kind === 'manifests' && value !== undefined && tryParseDigest(value)) return { digest: value };
  return null;
}

async function login(ctx: Context, state: WebState, deps: RouteDeps): Promise<void> {
  const form = state.form!;
  const username = form.get('username') ?? '';
  const next = safeNext(form.get('next'));
  const session = state.session!;
  try {
    const password = form.get('password') ?? '';
    const refreshToken = await deps.upstream.login(username, password);
    const adminApi = await deps.upstream.adminLogin(username, password);
    await deps.sessions.destroy(session.id);
    const signedIn = await deps.sessions.create({ name: username, refreshToken, ...(adminApi ? { adminRefreshToken: adminApi.refreshToken, admin: adminApi.admin } : {}) });
    setSessionCookie(ctx, signedIn, deps.secure);
    ctx.status = 303;
    ctx.redirect(next);
  } catch (err) {
    if (!(err instanceof UpstreamError) || !['unauthorized', 'throttled', 'invalid'].includes(err.failure)) throw err;
    const error = err.failure === 'throttled' ? 'Too many failed sign-ins. Wait a few minutes and try again.' : err.failure === 'invalid' ? err.message : 'Wrong username or password.';
    render(ctx, state, loginPage(session, { error, username, next, status: err.failure === 'throttled' ? 429 : 401 }));
  }
}

async function logout(ctx: Context, state: WebState, deps: RouteDeps): Promise<void> {
  const session = state.session!;
  await deps.sessions.destroy(session.id);
  setSessionCookie(ctx, null, deps.secure);
  // The session is gone here either way; the refresh token must be gone at the auth service too.
  if (session.user) await deps.upstream.revoke(session.user.refreshToken);
  if (session.user?.adminRefreshToken) await deps.upstream.revoke(session.user.adminRefreshToken);
  ctx.status = 303;
  ctx.redirect('/');
}

async function repositoryRoutes(ctx: Context, state: WebState, deps: RouteDeps, name: string, rest: string[]): Promise<boolean> {
  const req: WebRequest = { ctx, session: state.session, upstream: deps.upstream };
  const post = ctx.method === 'POST';
  const scope = repositoryScope(name);
  if (rest.length === 0 && !post) return render(ctx, state, await repositoryPage(req, name)), true;
  if (rest.join('/') === 'readme/edit' && !post) {
    req.session = state.session = await ensureSession(ctx, deps.sessions, state.session, deps.secure);
    return render(ctx, state, await readmeEditPage(req, name)), true;
  }
  if (rest.join('/') === 'readme' && post) {
    const content = (state.form!.get('content') ?? '').replace(/\r\n?/g, '\n');
    await deps.upstream.registry(state.session, scope, `/v2/${name}/_dockyard/readme`, { method: 'PUT', headers: { 'Content-Type': 'text/markdown' }, body: content });
    state.session!.flash = 'README saved.';
    ctx.status = 303;
    ctx.redirect(repositoryHref(name));
    return true;
  }
  const target = targetOf(rest[0], rest[1]);
  if (!target) return false;
  if (rest.length === 2 && !post) return render(ctx, state, await imagePage(req, name, target)), true;
  if (rest.length !== 3 || rest[2] !== 'delete') return false;
  if (!post) {
    state.session = await ensureSession(ctx, deps.sessions, state.session, deps.secure);
    return render(ctx, state, confirmDeletePage(state.session, name, target)), true;
  }
  const reference = 'tag' in target ? target.tag : target.digest;
  try {
    await deps.upstream.registry(state.session, scope, `/v2/${name}/manifests/${reference}`, { method: 'DELETE' });
  } catch (err) {
    // With delete granted, a refusal is a tag rule's (an immutable tag): told, not hidden behind the 404 page.
    if (!(err instanceof UpstreamError && err.failure === 'denied' && (await deps.upstream.repositoryActions(state.session, name)).has('delete'))) throw err;
    state.session!.flash = `Not deleted: ${err.message}`;
    ctx.status = 303;
    ctx.redirect('tag' in target ? repositoryHref(name, 'tags', target.tag) : repositoryHref(name, 'manifests', target.digest));
    return true;
  }
  state.session!.flash = 'tag' in target ? `Deleted the tag ${target.tag}.` : `Deleted the manifest ${target.digest}.`;
  ctx.status = 303;
  ctx.redirect(repositoryHref(name));
  return true;
}

/** Serves the request if it names a page; false otherwise (the caller renders 404). */
export async function route(ctx: Context, state: WebState, deps: RouteDeps): Promise<boolean> {
  const post = ctx.method === 'POST';
  if (ctx.path === '/' && !post) return render(ctx, state, await repositoriesPage({ ctx, session: state.session, upstream: deps.upstream })), true;
  if (ctx.path === '/login') {
    if (post) return await login(ctx, state, deps), true;
    const disabled = (await deps.upstream.endpoint()) === null;
    state.session = await ensureSession(ctx, deps.sessions, state.session, deps.secure);
    return render(ctx, state, loginPage(state.session, { next: typeof ctx.query.next === 'string' ? ctx.query.next : undefined, disabled, sso: deps.ssoCallbackUrl !== undefined })), true;
  }
  if (deps.ssoCallbackUrl !== undefined) {
    const sso = { sessions: deps.sessions, upstream: deps.upstream, secure: deps.secure, callbackUrl: deps.ssoCallbackUrl, render: (page: Page) => render(ctx, state, page) };
    if (await ssoRoutes(ctx, state, sso)) return true;
  }
  if (await accessTokenRoutes(ctx, state.session, state.form, deps.upstream, (page) => render(ctx, state, page))) return true;
  if (ctx.path === '/logout' && post) return await logout(ctx, state, deps), true;
  if (ctx.path === '/admin' || ctx.path.startsWith('/admin/')) return adminRoutes(ctx, state.session, state.form, deps.upstream, (page) => render(ctx, state, page));
  const repository = repositoryPath(ctx.path);
  return repository ? repositoryRoutes(ctx, state, deps, repository.name, repository.rest) : false;
}
