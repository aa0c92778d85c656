/**
 * JSON Schemas (OpenAPI 3.1 dialect) of what the admin API takes and returns. They describe
 * the records the operations return (store/*.ts types); `components.schemas` in the
 * OpenAPI document is this table.
 */
export type JsonSchema = Record<string, unknown>;

const time = (description: string): JsonSchema => ({ type: 'integer', description: `${description} (epoch milliseconds)` });
const nullableTime = (description: string): JsonSchema => ({ type: ['integer', 'null'], description: `${description} (epoch milliseconds, null: never)` });

export const SCHEMAS: Record<string, JsonSchema> = {
  User: {
    type: 'object',
    required: ['name', 'admin', 'disabled', 'passwordChangedAt', 'createdAt'],
    properties: {
      name: { type: 'string' },
      admin: { type: 'boolean' },
      disabled: { type: 'boolean' },
      passwordChangedAt: time('last password change'),
      createdAt: time('creation'),
    },
  },
  Group: {
    type: 'object',
    required: ['name', 'members', 'createdAt'],
    properties: { name: { type: 'string' }, members: { type: 'array', items: { type: 'string' }, description: 'user names' }, createdAt: time('creation') },
  },
  Robot: {
    type: 'object',
    required: ['name', 'expiresAt', 'revoked', 'lastUsedAt', 'createdBy', 'createdAt'],
    properties: {
      name: { type: 'string', description: 'the login name, robot$NAME' },
      expiresAt: nullableTime('expiry'),
      revoked: { type: 'boolean' },
      lastUsedAt: nullableTime('last token request'),
      createdBy: { type: 'string' },
      createdAt: time('creation'),
    },
  },
  CreatedRobot: {
    type: 'object',
    required: ['robot', 'username', 'secret'],
    properties: {
      robot: { $ref: '#/components/schemas/Robot' },
      username: { type: 'string', description: 'for docker login -u' },
      secret: { type: 'string', description: 'shown once; only its SHA-256 is stored' },
    },
  },
  Grant: {
    type: 'object',
    required: ['id', 'subject', 'pattern', 'actions', 'createdBy', 'createdAt'],
    properties: {
      id: { type: 'integer' },
      subject: { type: 'string', description: 'user:NAME, group:NAME, robot:NAME, anonymous or authenticated' },
      pattern: { type: 'string', description: 'repository pattern: team/app, team/*, team/**, ${user}/*' },
      actions: { type: 'array', items: { type: 'string', enum: ['pull', 'push', 'delete', '*'] } },
      createdBy: { type: 'string' },
      createdAt: time('creation'),
    },
  },
  RefreshToken: {
    type: 'object',
    required: ['id', 'subjectKind', 'subjectName', 'service', 'clientId', 'createdAt', 'lastUsedAt', 'revoked'],
    properties: {
      id: { type: 'integer' },
      subjectKind: { type: 'string', enum: ['user', 'robot'] },
      subjectName: { type: 'string' },
      service: { type: 'string' },
      clientId: { type: 'string', description: 'client_id the token was issued to, e.g. docker' },
      createdAt: time('issue'),
      lastUsedAt: time('last use'),
      revoked: { type: 'boolean' },
    },
  },
  AuditEntry: {
    type: 'object',
    required: ['id', 'at', 'actor', 'action', 'target', 'clientAddress', 'outcome', 'details'],
    properties: {
      id: { type: 'integer', description: 'pass as before= for older entries' },
      at: time('when'),
      actor: { type: 'string', description: "admin user, cli:OSUSER, or '' for anonymous" },
      action: { type: 'string', description: 'e.g. user.create, grant.remove, token.issue' },
      target: { type: 'string' },
      clientAddress: { type: 'string' },
      outcome: { type: 'string', description: 'ok, refused, denied, throttled…' },
      details: { type: 'object' },
    },
  },
  Errors: {
    type: 'object',
    required: ['errors'],
    properties: {
      errors: {
        type: 'array',
        items: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, detail: {} } },
      },
    },
  },
};

/** A `$ref` to one of SCHEMAS. */
export const ref = (name: keyof typeof SCHEMAS & string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/** `{ <field>: [<schema>] }`, the shape of the list endpoints. */
export const listOf = (field: string, name: string): JsonSchema => ({ type: 'object', required: [field], properties: { [field]: { type: 'array', items: ref(name) } } });
