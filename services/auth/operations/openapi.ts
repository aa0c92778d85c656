/**
 * The OpenAPI 3.1 document of the admin API, made from the operations table (catalog.ts):
 * served at /api/v1/openapi.json and rendered to docs/api.md (scripts/api-docs.ts).
 */
import { OPERATIONS, type Operation } from './catalog.js';
import { ref, SCHEMAS, type JsonSchema } from './schemas.js';

const STATUS_TEXT: Record<number, string> = {
  400: 'invalid request (REQUEST_INVALID, …)',
  401: 'no or wrong credentials (UNAUTHORIZED)',
  403: 'not an administrator (DENIED)',
  404: 'no such user, group, robot or grant (NOT_FOUND)',
  409: 'conflict: exists already, or would leave no enabled admin (CONFLICT)',
  429: 'too many failed logins (TOOMANYREQUESTS)',
};

function errorResponse(status: number): JsonSchema {
  return { description: STATUS_TEXT[status] ?? 'error', content: { 'application/json': { schema: ref('Errors') } } };
}

function operationObject(op: Operation): JsonSchema {
  const parameters = [
    ...Object.entries(op.params ?? {}).map(([name, description]) => ({ name, in: 'path', required: true, description, schema: { type: 'string' } })),
    ...(op.query ?? []).map((q) => ({ name: q.name, in: 'query', required: false, description: q.description, schema: q.schema })),
  ];
  const success: JsonSchema = { description: op.response.description };
  if (op.response.schema) success.content = { 'application/json': { schema: op.response.schema } };
  const errors = [400, 401, ...(op.access === 'admin' ? [403] : []), ...(op.errors ?? []), 429].sort((a, b) => a - b);
  return {
    operationId: op.id,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [op.tag],
    ...(parameters.length ? { parameters } : {}),
    ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: op.body } } } } : {}),
    responses: { [String(op.response.status)]: success, ...Object.fromEntries(errors.map((s) => [String(s), errorResponse(s)])) },
    security: [{ basic: [] }, { bearer: [] }],
    'x-dockyard-access': op.access,
  };
}

/** The document. Its server URL is relative: the API is wherever the document was fetched from. */
export function openApiDocument(): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operationObject(op);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Dockyard admin API',
      version: 'v1',
      description:
        'Users, groups, robots, grants, refresh tokens, signing keys and the audit log of the Dockyard auth service. ' +
        "Admin operations need an enabled admin user's Basic credentials or a bearer token the service issued to one; " +
        'self-service operations any enabled user or robot. The `dockyard` CLI performs the same operations.',
    },
    servers: [{ url: '/api/v1' }],
    paths,
    components: {
      schemas: SCHEMAS,
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic' },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'a token from GET /token' },
      },
    },
  };
}
