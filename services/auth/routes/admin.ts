/**
 * The JSON admin API under /api/v1: every operation of the operations table
 * (operations/catalog.ts) mounted as a route, plus /api/v1/openapi.json describing them.
 * `admin` operations require an enabled admin (AdminGate), `self` operations any enabled
 * user or robot acting on itself. Errors use the shared envelope (400/401/403/404/409).
 */
import { Router } from '@koa/router';
import type { Context, Next } from 'koa';
import { fail } from '../../../shared/http/errors.js';
import type { AdminGate } from '../admin-gate.js';
import { readJsonObject } from '../../../shared/http/request-body.js';
import { singleQuery } from '../http.js';
import { guardAdminWrites } from '../../../shared/http/middleware/admin-writes.js';
import { OPERATIONS, type Operation } from '../operations/catalog.js';
import type { AdminOperations } from '../operations/index.js';
import { openApiDocument } from '../operations/openapi.js';

/** Koa state of an authenticated admin API request. */
interface AdminState {
  /** Read by the access log. */
  subject: string;
}

const PREFIX = '/api/v1';

/** `/users/{name}` → `/users/:name`. */
const koaPath = (path: string): string => path.replace(/\{(\w+)\}/g, ':$1');

async function guard(ctx: Context, next: Next): Promise<void> {
  // No name or filter holds NUL, and PostgreSQL refuses it as a query parameter.
  if (ctx.url.includes('%00')) throw fail('REQUEST_INVALID', 'NUL characters are not allowed in admin API paths or parameters');
  ctx.set('Cache-Control', 'no-store');
  await next();
}

function mount(router: Router<AdminState>, op: Operation, ops: AdminOperations, gate: AdminGate): void {
  router[op.method](koaPath(op.path), guard, async (ctx) => {
    const { actor, caller } = op.access === 'admin' ? await gate.requireAdmin(ctx).then((a) => ({ actor: a, caller: `user:${a.name}` })) : await gate.requireAccount(ctx);
    ctx.state.subject = actor.name;
    const result = await op.handle(ops, {
      actor,
      caller,
      params: ctx.params as Record<string, string>,
      query: (name) => singleQuery(ctx, name),
      body: () => readJsonObject(ctx),
    });
    for (const [name, value] of Object.entries(result.headers ?? {})) ctx.set(name, value);
    ctx.status = result.status;
    if (result.body !== undefined) ctx.body = result.body;
  });
}

/**
 * The /api/v1 router: the operations table, and its OpenAPI document (public, like any API
 * reference); every POST, PUT, PATCH and DELETE needs a JSON content type from the
 * service's own origin (shared/http/middleware/admin-writes.ts).
 */
export function adminRouter(ops: AdminOperations, gate: AdminGate): Router<AdminState> {
  const router = new Router<AdminState>({ prefix: PREFIX });
  router.use(guardAdminWrites);
  const document = JSON.stringify(openApiDocument());
  router.get('/openapi.json', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.type = 'application/json';
    ctx.body = document;
  });
  for (const op of OPERATIONS) mount(router, op, ops, gate);
  return router;
}
