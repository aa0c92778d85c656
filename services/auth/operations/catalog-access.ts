/** Operations table, access part: grants, refresh tokens, keys, audit, self-service (see catalog.ts). */
import { fail } from '../../../shared/http/errors.js';
import type { AuditQuery } from '../store/audit.js';
import type { Operation, OperationInput, QueryParam } from './catalog.js';
import { AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX } from './index.js';
import { listOf, ref } from './schemas.js';

function integerQuery(input: OperationInput, name: string): number | undefined {
  const raw = input.query(name);
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw fail('REQUEST_INVALID', `${name} must be a non-negative integer`);
  return Number(raw);
}

/** A time filter: epoch milliseconds or an RFC 3339 date. */
function timeQuery(input: OperationInput, name: string): number | undefined {
  const raw = input.query(name);
  if (raw === undefined || raw === '') return undefined;
  const value = /^\d{1,15}$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(value)) throw fail('REQUEST_INVALID', `${name} must be epoch milliseconds or an RFC 3339 time`);
  return value;
}

function auditFilter(input: OperationInput): Partial<AuditQuery> {
  const filter: Partial<AuditQuery> = {};
  for (const field of ['actor', 'action', 'target', 'outcome'] as const) {
    const value = input.query(field);
    if (value !== undefined) filter[field] = value;
  }
  filter.since = timeQuery(input, 'since');
  filter.until = timeQuery(input, 'until');
  filter.before = integerQuery(input, 'before');
  filter.limit = integerQuery(input, 'limit');
  for (const key of Object.keys(filter) as Array<keyof AuditQuery>) if (filter[key] === undefined) delete filter[key];
  return filter;
}

const text = { type: 'string' };
const timeParam = { type: 'string', description: 'epoch milliseconds or RFC 3339' };
const AUDIT_QUERY: QueryParam[] = [
  { name: 'actor', description: 'only entries by this actor', schema: text },
  { name: 'action', description: 'only this action, e.g. user.create', schema: text },
  { name: 'target', description: 'only this target, e.g. user:alice', schema: text },
  { name: 'outcome', description: 'only this outcome, e.g. ok, refused, denied', schema: text },
  { name: 'since', description: 'entries at or after this time', schema: timeParam },
  { name: 'until', description: 'entries at or before this time', schema: timeParam },
  { name: 'before', description: 'entries older than this id (nextBefore of the previous page)', schema: { type: 'integer' } },
  { name: 'limit', description: `entries per page, 1 to ${AUDIT_PAGE_MAX} (default ${AUDIT_PAGE_DEFAULT})`, schema: { type: 'integer' } },
];

const subjectQuery: QueryParam = { name: 'subject', description: 'user:NAME or robot:NAME', schema: text };

export const ACCESS_OPERATIONS: readonly Operation[] = [
  {
    id: 'listGrants', method: 'get', path: '/grants', access: 'admin', tag: 'grants', summary: 'List grants, all or those of one subject',
    query: [{ name: 'subject', description: 'user:NAME, group:NAME, robot:NAME, anonymous or authenticated', schema: text }],
    response: { status: 200, description: 'the grants', schema: listOf('grants', 'Grant') },
    handle: async (ops, input) => ({ status: 200, body: { grants: await ops.grants.list(input.query('subject')) } }),
  },
  {
    id: 'addGrant', method: 'post', path: '/grants', access: 'admin', tag: 'grants', summary: 'Allow a subject actions on the repositories a pattern matches',
    body: {
      type: 'object',
      required: ['subject', 'pattern', 'actions'],
      properties: { subject: { type: 'string' }, pattern: { type: 'string' }, actions: { description: "'pull,push' or ['pull','push']; * for every action", oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] } },
    },
    response: { status: 201, description: 'the grant', schema: ref('Grant') }, errors: [404],
    handle: async (ops, { actor, body }) => {
      const b = await body();
      return { status: 201, body: await ops.grants.add(actor, { subject: b.subject, pattern: b.pattern, actions: b.actions }) };
    },
  },
  {
    id: 'removeGrant', method: 'delete', path: '/grants/{id}', access: 'admin', tag: 'grants', summary: 'Remove a grant', params: { id: 'grant id' },
    response: { status: 204, description: 'removed' }, errors: [404],
    handle: async (ops, { actor, params }) => {
      await ops.grants.remove(actor, params.id);
      return { status: 204 };
    },
  },
  {
    id: 'listRefreshTokens', method: 'get', path: '/refresh-tokens', access: 'admin', tag: 'refresh tokens', summary: 'List the live refresh tokens of a user or robot (never the tokens)',
    query: [subjectQuery],
    response: { status: 200, description: 'the tokens', schema: listOf('refreshTokens', 'RefreshToken') },
    handle: async (ops, input) => ({ status: 200, body: { refreshTokens: await ops.listRefreshTokens(input.query('subject')) } }),
  },
  {
    id: 'revokeRefreshTokens', method: 'post', path: '/refresh-tokens/revoke', access: 'admin', tag: 'refresh tokens', summary: 'Revoke every refresh token of a user or robot',
    body: { type: 'object', required: ['subject'], properties: { subject: { type: 'string', description: 'user:NAME or robot:NAME' } } },
    response: { status: 200, description: 'how many were revoked', schema: { type: 'object', required: ['revoked'], properties: { revoked: { type: 'integer' } } } },
    handle: async (ops, { actor, body }) => ({ status: 200, body: { revoked: await ops.revokeRefreshTokens(actor, (await body()).subject) } }),
  },
  {
    id: 'revokeOwnRefreshTokens', method: 'post', path: '/me/refresh-tokens/revoke', access: 'self', tag: 'self-service', summary: 'Revoke every refresh token of the calling user or robot',
    description: 'For any enabled user or robot, with its own credentials: what `docker logout` does not do on the server.',
    response: { status: 200, description: 'how many were revoked', schema: { type: 'object', required: ['revoked'], properties: { revoked: { type: 'integer' } } } },
    handle: async (ops, { actor, caller }) => ({ status: 200, body: { revoked: await ops.revokeRefreshTokens(actor, caller) } }),
  },
  {
    id: 'rotateKeys', method: 'post', path: '/keys/rotate', access: 'admin', tag: 'keys', summary: 'Make a new signing key current (the old one stays published until its tokens expire)',
    response: { status: 200, description: 'the new key id', schema: { type: 'object', required: ['kid'], properties: { kid: { type: 'string' } } } },
    handle: async (ops, { actor }) => ({ status: 200, body: await ops.rotateKeys(actor) }),
  },
  {
    id: 'queryAudit', method: 'get', path: '/audit', access: 'admin', tag: 'audit', summary: 'Audit entries, newest first, a page at a time',
    query: AUDIT_QUERY,
    response: {
      status: 200,
      description: 'one page; pass nextBefore as before= for the next',
      schema: { type: 'object', required: ['entries', 'nextBefore'], properties: { entries: { type: 'array', items: ref('AuditEntry') }, nextBefore: { type: ['integer', 'null'] } } },
    },
    handle: async (ops, input) => ({ status: 200, body: await ops.queryAudit(auditFilter(input)) }),
  },
];
