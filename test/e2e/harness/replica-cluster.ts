/**
 * A Dockyard deployment as on four hosts, for the multi-replica end-to-end scenarios: two
 * auth services and two registries, each with its own data directory, sharing only
 * PostgreSQL (one schema per service, as two databases) and the object store of a
 * ReplicaBackend; two round-robin proxies in front (one for the registries, one for the
 * auth services), which are what clients and the registries' realm and JWKS URL name.
 * Signing keys live in the auth database (auth.keystore: database) sealed with one
 * key-encryption key file. Both auth services start at once on the empty schema, so the
 * migrations' turn-taking is exercised on every run.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { POSTGRES_URL } from '../../support/postgres.js';
import type { ReplicaStore } from './replica-backends.js';
import { startRoundRobinProxy, type RoundRobinProxy } from './round-robin-proxy.js';
import { startAuthService, startRegistry, type AuthService, type RunningService } from './services.js';
import type { Workspace } from './workspace.js';

export const SERVICE = 'dockyard-cluster';
export const ISSUER = 'dockyard-cluster-auth';

export interface ReplicaCluster {
  auths: AuthService[];
  registries: RunningService[];
  authProxy: RoundRobinProxy;
  registryProxy: RoundRobinProxy;
  adminPassword: string;
  /** The registry's settings (store, database), for tools that open the same store. */
  registryEnv: Record<string, string>;
  /** A PostgreSQL client whose search_path is the registry schema. */
  registryDb: pg.Client;
}

function schemaUrl(schema: string): string {
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

/** Starts the deployment in `ws` on `store`; everything is stopped by the workspace's dispose. */
export async function startReplicaCluster(ws: Workspace, store: ReplicaStore): Promise<ReplicaCluster> {
  const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const schemas = { auth: `dockyard_cluster_auth_${suffix}`, registry: `dockyard_cluster_registry_${suffix}` };
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  for (const schema of Object.values(schemas)) await admin.query(`create schema "${schema}"`);
  ws.defer('drop the PostgreSQL schemas', async () => {
    for (const schema of Object.values(schemas)) await admin.query(`drop schema if exists "${schema}" cascade`);
    await admin.end();
  });

  const kek = ws.path('key-encryption-key');
  writeFileSync(kek, randomBytes(32).toString('base64'), { mode: 0o600 });
  const adminPassword = `admin-${randomBytes(6).toString('hex')}`;
  const authEnv = {
    AUTH_DATABASE_URL: schemaUrl(schemas.auth),
    AUTH_KEY_STORE: 'database',
    AUTH_KEY_ENCRYPTION_KEY_FILE: kek,
  };
  const auths = await Promise.all(
    ['auth-a', 'auth-b'].map((name) => startAuthService(ws, { name, issuer: ISSUER, service: SERVICE, adminPassword, env: authEnv })),
  );
  const authProxy = await startRoundRobinProxy(auths.map((a) => a.url));
  ws.defer('stop the auth proxy', () => authProxy.close());

  const registryEnv = { ...store.env, REGISTRY_DATABASE_URL: schemaUrl(schemas.registry) };
  const tokenEnv = {
    REGISTRY_AUTH: 'token',
    REGISTRY_AUTH_TOKEN_REALM: `${authProxy.url}/token`,
    REGISTRY_AUTH_TOKEN_SERVICE: SERVICE,
    REGISTRY_AUTH_TOKEN_ISSUER: ISSUER,
    REGISTRY_AUTH_TOKEN_JWKS: `${authProxy.url}/.well-known/jwks.json`,
  };
  // One after the other: the second finds the registry schema migrated.
  const registries: RunningService[] = [];
  for (const name of ['registry-a', 'registry-b']) registries.push(await startRegistry(ws, { name, env: { ...registryEnv, ...tokenEnv } }));
  const registryProxy = await startRoundRobinProxy(registries.map((r) => r.url));
  ws.defer('stop the registry proxy', () => registryProxy.close());

  const registryDb = new pg.Client({ connectionString: schemaUrl(schemas.registry) });
  await registryDb.connect();
  ws.defer('close the registry database client', () => registryDb.end());
  return { auths, registries, authProxy, registryProxy, adminPassword, registryEnv, registryDb };
}
