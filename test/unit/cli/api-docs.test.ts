// The generated references: docs/api.md is what `npm run docs:api` makes today (and
// docs/cli.md's command list what `npm run docs:cli` makes), the served
// /api/v1/openapi.json is the same document, every operation in it is a mounted route, and
// every CLI command that names an operation names a real one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { API_DOC_PATH, renderApiReference } from '../../../scripts/api-docs.js';
import { CLI_DOC_PATH, renderCliDoc } from '../../../scripts/cli-docs.js';
import { COMMANDS } from '../../../services/auth/cli/commands/index.js';
import { OPERATIONS } from '../../../services/auth/operations/catalog.js';
import { openApiDocument } from '../../../services/auth/operations/openapi.js';
import { startHarness, type AuthHarness } from '../../api/auth/harness.js';

let h: AuthHarness;
before(async () => {
  h = await startHarness();
});
after(async () => h.close());

test('docs/api.md is current (run `npm run docs:api` after changing the operations table)', () => {
  assert.equal(readFileSync(API_DOC_PATH, 'utf8'), renderApiReference());
});

test('docs/cli.md lists every command as the table defines it (run `npm run docs:cli` after changing a command)', () => {
  const current = readFileSync(CLI_DOC_PATH, 'utf8');
  assert.equal(current, renderCliDoc(current));
  for (const c of COMMANDS) assert.ok(current.includes(`\`dockyard ${c.name}`), c.name);
});

test('GET /api/v1/openapi.json serves the OpenAPI 3.1 document without credentials', async () => {
  const res = await fetch(`${h.url}/api/v1/openapi.json`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const served = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { operationId: string }>> };
  assert.deepEqual(served, JSON.parse(JSON.stringify(openApiDocument())));
  assert.equal(served.openapi, '3.1.0');
  const ids = Object.values(served.paths).flatMap((methods) => Object.values(methods).map((o) => o.operationId));
  assert.deepEqual([...ids].sort(), OPERATIONS.map((o) => o.id).sort());
  assert.equal(new Set(ids).size, ids.length, 'operation ids are unique');
});

test('every operation in the document is a mounted route that asks for credentials', async () => {
  for (const op of OPERATIONS) {
    const path = op.path.replace(/\{(\w+)\}/g, (_m, name: string) => (name === 'id' ? '1' : 'someone'));
    // JSON, so that writes pass the cross-site guard (tested on its own) and meet the credential check.
    const res = await fetch(`${h.url}/api/v1${path}`, { method: op.method.toUpperCase(), headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 401, `${op.method.toUpperCase()} ${path}`);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Basic /);
  }
});

test('CLI commands name only operations of the table', () => {
  const ids = new Set(OPERATIONS.map((o) => o.id));
  const named = COMMANDS.filter((c) => c.operation);
  assert.ok(named.length >= 20);
  for (const c of named) assert.ok(ids.has(c.operation!), `${c.name} → ${c.operation}`);
});
