/**
 * The admin API's operations table: for each operation its id, HTTP method and path,
 * parameters, body and response schemas, who may call it, and the handler over
 * AdminOperations. routes/admin.ts mounts exactly this table, openapi.ts describes exactly
 * this table (served at /api/v1/openapi.json, rendered to docs/api.md), and CLI commands
 * name the operation they perform, so the API, its reference and the CLI cannot drift apart.
 */
import type { Actor, AdminOperations } from './index.js';
import type { JsonSchema } from './schemas.js';
import { ACCOUNT_OPERATIONS } from './catalog-accounts.js';
import { ACCESS_OPERATIONS } from './catalog-access.js';
import { ACCESS_TOKEN_OPERATIONS } from '../access-tokens/catalog.js';

/** What a handler gets from the HTTP request (already authenticated). */
export interface OperationInput {
  actor: Actor;
  /** The caller as a subject, `user:NAME` or `robot:NAME` (what `self` operations act on). */
  caller: string;
  /** Path parameters by name. */
  params: Record<string, string>;
  /** A single-valued query parameter. */
  query(name: string): string | undefined;
  /** The JSON object body (REQUEST_INVALID when it is not one). */
  body(): Promise<Record<string, unknown>>;
}

/** What a handler answers: status, optional JSON body, extra headers. */
export interface OperationResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A query parameter of an operation. */
export interface QueryParam {
  name: string;
  description: string;
  schema: JsonSchema;
}

/** One admin API operation. */
export interface Operation {
  id: string;
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Under /api/v1, OpenAPI style: `/users/{name}`. */
  path: string;
  /** `admin`: an enabled admin user; `self`: any enabled user or robot, acting on itself. */
  access: 'admin' | 'self';
  summary: string;
  description?: string;
  tag: string;
  /** Descriptions of the path parameters, by name. */
  params?: Record<string, string>;
  query?: QueryParam[];
  body?: JsonSchema;
  response: { status: number; description: string; schema?: JsonSchema };
  /** Other error statuses it answers with (besides 400/401/403 every operation may give). */
  errors?: number[];
  handle(ops: AdminOperations, input: OperationInput): Promise<OperationResult>;
}

export const OPERATIONS: readonly Operation[] = [...ACCOUNT_OPERATIONS, ...ACCESS_OPERATIONS, ...ACCESS_TOKEN_OPERATIONS];

/** `POST /api/v1/users` for an operation id, for help texts; undefined when unknown. */
export function operationRoute(id: string): string | undefined {
  const op = OPERATIONS.find((o) => o.id === id);
  return op && `${op.method.toUpperCase()} /api/v1${op.path}`;
}
