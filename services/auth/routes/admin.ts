/**
 * The JSON admin API under /api/v1 (admins only). Thin handlers over AdminOperations,
 * which the CLI uses too; errors use the shared envelope (400/401/403/404/409).
 *
 *   GET/POST        /users                     PATCH/DELETE /users/:name {disabled?, admin?}
 *   GET             /users/:name               PUT          /users/:name/password {password}
 *   POST            /users/:name/unlock        (clears the failed logins counted against the user)
 *   GET/POST        /groups                    GET/DELETE   /groups/:name
 *   PUT/DELETE      /groups/:name/members/:user
 *   GET/POST        /robots {name, expires?}   POST /robots/:name/revoke   DELETE /robots/:name
 *   GET/POST        /grants {subject, pattern, actions}   (GET ?subject=)   DELETE /grants/:id
 *   GET             /refresh-tokens?subject=   POST /refresh-tokens/revoke {subject}
 *   POST            /keys/rotate
 *   GET             /audit ?actor&action&target&outcome&since&until&before&limit
 */
import { Router } from '@koa/router';
import type { Context, Next } from 'koa';
import { fail } from '../../../shared/http/errors.js';
import type { AdminGate } from '../admin-gate.js';
import { readJsonObject } from '../../../shared/http/request-body.js';
import { singleQuery } from '../http.js';
import { guardAdminWrites } from '../../../shared/http/middleware/admin-writes.js';
import type { Actor, AdminOperations } from '../operations/index.js';
import type { AuditQuery } from '../store/audit.js';

/** Koa state of an authenticated admin request. */
interface AdminState {
  actor: Actor;
  /** Read by the access log. */
  subject: string;
}

type AdminContext = Context & { state: AdminState };

function created(ctx: Context, body: unknown): void {
  ctx.status = 201;
  ctx.body = body;
}

function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw fail('REQUEST_INVALID', `${field} must be true or false`);
  return value;
}

function integerQuery(ctx: Context, name: string): number | undefined {
  const raw = singleQuery(ctx, name);
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw fail('REQUEST_INVALID', `${name} must be a non-negative integer`);
  return Number(raw);
}

/** A time filter: epoch milliseconds or an RFC 3339 date. */
function timeQuery(ctx: Context, name: string): number | undefined {
  const raw = singleQuery(ctx, name);
  if (raw === undefined || raw === '') return undefined;
  const value = /^\d{1,15}$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(value)) throw fail('REQUEST_INVALID', `${name} must be epoch milliseconds or an RFC 3339 time`);
  return value;
}

function auditFilter(ctx: Context): Partial<AuditQuery> {
  const filter: Partial<AuditQuery> = {};
  for (const field of ['actor', 'action', 'target', 'outcome'] as const) {
    const value = singleQuery(ctx, field);
    if (value !== undefined) filter[field] = value;
  }
  filter.since = timeQuery(ctx, 'since');
  filter.until = timeQuery(ctx, 'until');
  filter.before = integerQuery(ctx, 'before');
  filter.limit = integerQuery(ctx, 'limit');
  for (const key of Object.keys(filter) as Array<keyof AuditQuery>) if (filter[key] === undefined) delete filter[key];
  return filter;
}

function mountUsers(router: Router<AdminState>, ops: AdminOperations): void {
  router.get('/users', async (ctx) => {
    ctx.body = { users: await ops.users.list() };
  });
  router.post('/users', async (ctx) => {
    const body = await readJsonObject(ctx);
    created(ctx, await ops.users.create(ctx.state.actor, { name: body.name, password: body.password, admin: body.admin }));
  });
  router.get('/users/:name', async (ctx) => {
    ctx.body = await ops.users.get(ctx.params.name);
  });
  router.patch('/users/:name', async (ctx) => {
    const body = await readJsonObject(ctx);
    const disabled = optionalBoolean(body, 'disabled');
    const admin = optionalBoolean(body, 'admin');
    if (disabled === undefined && admin === undefined) throw fail('REQUEST_INVALID', 'expected disabled and/or admin');
    const { actor } = ctx.state;
    let user = await ops.users.get(ctx.params.name);
    if (disabled !== undefined && disabled !== user.disabled) user = await ops.users.setDisabled(actor, ctx.params.name, disabled);
    if (admin !== undefined && admin !== user.admin) user = await ops.users.setAdmin(actor, ctx.params.name, admin);
    ctx.body = user;
  });
  router.put('/users/:name/password', async (ctx) => {
    const body = await readJsonObject(ctx);
    await ops.users.setPassword(ctx.state.actor, ctx.params.name, body.password);
    ctx.status = 204;
  });
  router.delete('/users/:name', async (ctx) => {
    await ops.users.delete(ctx.state.actor, ctx.params.name);
    ctx.status = 204;
  });
  router.post('/users/:name/unlock', async (ctx) => {
    ctx.body = { attemptsCleared: await ops.users.unlock(ctx.state.actor, ctx.params.name) };
  });
}

function mountGroups(router: Router<AdminState>, ops: AdminOperations): void {
  router.get('/groups', async (ctx) => {
    ctx.body = { groups: await ops.groups.list() };
  });
  router.post('/groups', async (ctx) => {
    const body = await readJsonObject(ctx);
    created(ctx, await ops.groups.create(ctx.state.actor, { name: body.name }));
  });
  router.get('/groups/:name', async (ctx) => {
    ctx.body = await ops.groups.get(ctx.params.name);
  });
  router.delete('/groups/:name', async (ctx) => {
    await ops.groups.delete(ctx.state.actor, ctx.params.name);
    ctx.status = 204;
  });
  router.put('/groups/:name/members/:user', async (ctx) => {
    await ops.groups.addMember(ctx.state.actor, ctx.params.name, ctx.params.user);
    ctx.status = 204;
  });
  router.delete('/groups/:name/members/:user', async (ctx) => {
    await ops.groups.removeMember(ctx.state.actor, ctx.params.name, ctx.params.user);
    ctx.status = 204;
  });
}

function mountRobotsAndGrants(router: Router<AdminState>, ops: AdminOperations): void {
  router.get('/robots', async (ctx) => {
    ctx.body = { robots: await ops.robots.list() };
  });
  router.post('/robots', async (ctx) => {
    const body = await readJsonObject(ctx);
    ctx.set('Cache-Control', 'no-store');
    created(ctx, await ops.robots.create(ctx.state.actor, { name: body.name, expires: body.expires }));
  });
  router.post('/robots/:name/revoke', async (ctx) => {
    await ops.robots.revoke(ctx.state.actor, ctx.params.name);
    ctx.status = 204;
  });
  router.delete('/robots/:name', async (ctx) => {
    await ops.robots.delete(ctx.state.actor, ctx.params.name);
    ctx.status = 204;
  });
  router.get('/grants', async (ctx) => {
    ctx.body = { grants: await ops.grants.list(singleQuery(ctx, 'subject')) };
  });
  router.post('/grants', async (ctx) => {
    const body = await readJsonObject(ctx);
    created(ctx, await ops.grants.add(ctx.state.actor, { subject: body.subject, pattern: body.pattern, actions: body.actions }));
  });
  router.delete('/grants/:id', async (ctx) => {
    await ops.grants.remove(ctx.state.actor, ctx.params.id);
    ctx.status = 204;
  });
}

function mountMaintenance(router: Router<AdminState>, ops: AdminOperations): void {
  router.get('/refresh-tokens', async (ctx) => {
    ctx.body = { refreshTokens: await ops.listRefreshTokens(singleQuery(ctx, 'subject')) };
  });
  router.post('/refresh-tokens/revoke', async (ctx) => {
    const body = await readJsonObject(ctx);
    ctx.body = { revoked: await ops.revokeRefreshTokens(ctx.state.actor, body.subject) };
  });
  router.post('/keys/rotate', async (ctx) => {
    ctx.body = await ops.rotateKeys(ctx.state.actor);
  });
  router.get('/audit', async (ctx) => {
    ctx.body = await ops.queryAudit(auditFilter(ctx));
  });
}

/**
 * The /api/v1 router: every route requires an admin (see AdminGate); every POST, PUT,
 * PATCH and DELETE a JSON content type from the service's own origin (shared/http/middleware/admin-writes.ts).
 */
export function adminRouter(ops: AdminOperations, gate: AdminGate): Router<AdminState> {
  const router = new Router<AdminState>({ prefix: '/api/v1' });
  router.use(guardAdminWrites);
  router.use(async (ctx: AdminContext, next: Next) => {
    ctx.state.actor = await gate.requireAdmin(ctx);
    ctx.state.subject = ctx.state.actor.name;
    // No name or filter holds NUL, and PostgreSQL refuses it as a query parameter.
    if (ctx.url.includes('%00')) throw fail('REQUEST_INVALID', 'NUL characters are not allowed in admin API paths or parameters');
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  mountUsers(router, ops);
  mountGroups(router, ops);
  mountRobotsAndGrants(router, ops);
  mountMaintenance(router, ops);
  return router;
}
