// docker-compose.yml wiring: services, ports, volumes, health checks, and that every
// environment name it sets is a setting the config loader knows and accepts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ALL_SETTINGS, loadAuthConfig, loadRegistryConfig, type Env } from '../../../shared/config/index.js';
import { runHealthcheck } from './healthcheck-probe.js';

const root = new URL('../../../', import.meta.url);
const composeText = readFileSync(new URL('docker-compose.yml', root), 'utf8');
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};
const packageJson = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> };
const knownEnv = new Set([...ALL_SETTINGS.map((s) => s.env), 'DOCKYARD_CONFIG']);

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
}

/** Resolves `${NAME:-default}` the way compose does when NAME is unset. */
function interpolate(value: string): string {
  return value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
}

function envOf(name: string): Env {
  const env: Env = {};
  for (const [key, value] of Object.entries(compose.services[name].environment ?? {})) env[key] = interpolate(String(value));
  return env;
}

/** The `host:container` pairs a service publishes. */
function ports(name: string): Array<[number, number]> {
  return (compose.services[name].ports ?? []).map((p) => {
    const [host, container] = p.split(':').slice(-2).map(Number);
    return [host, container];
  });
}

describe('docker-compose.yml', () => {
  const { auth, registry } = compose.services;

  it('runs both services from one image with the package scripts', () => {
    assert.ok(auth && registry, 'services auth and registry');
    assert.equal(auth.image, registry.image);
    assert.ok(auth.build ?? registry.build, 'one of them builds the image');
    assert.deepEqual(auth.command, ['npm', 'run', 'auth']);
    assert.deepEqual(registry.command, ['npm', 'run', 'registry']);
    assert.ok(packageJson.scripts.auth && packageJson.scripts.registry);
  });

  it('publishes 5001 (auth) and 5000 (registry) on the ports the services listen on', () => {
    const authConfig = loadAuthConfig({ env: envOf('auth') });
    const registryConfig = loadRegistryConfig({ env: envOf('registry') });
    assert.deepEqual(ports('auth'), [[5001, authConfig.http.port]]);
    assert.deepEqual(ports('registry'), [[5000, registryConfig.http.port]]);
    assert.equal(authConfig.http.host, '0.0.0.0', 'reachable from outside the container');
    assert.equal(registryConfig.http.host, '0.0.0.0');
  });

  it('keeps each service’s data in its own declared volume at the data directory', () => {
    for (const name of ['auth', 'registry']) {
      const [volume, target] = (compose.services[name].volumes ?? [])[0].split(':');
      assert.ok(volume in compose.volumes, `${volume} declared`);
      assert.equal(target, '/data');
      assert.equal(envOf(name).DOCKYARD_DATA_DIR, '/data');
    }
  });

  it('health-checks /healthz on each service’s own port', async () => {
    for (const name of ['auth', 'registry']) {
      const test = compose.services[name].healthcheck?.test ?? [];
      assert.equal(test[0], 'CMD');
      const port = ports(name)[0][1];
      assert.ok(test.join(' ').includes(`127.0.0.1:${port}/healthz`), `${name} probes its port`);
      assert.equal(test[1], 'node');
      assert.equal(test[2], '-e');
      // Run the probe itself against a local stand-in (the port rewritten to a free one).
      assert.equal(await runHealthcheck(test[3], { rewritePort: port, status: 200 }), 0);
      assert.equal(await runHealthcheck(test[3], { rewritePort: port, status: 503 }), 1);
    }
    assert.equal(registry.depends_on?.auth?.condition, 'service_healthy');
  });

  it('wires the token realm, JWKS, service and issuer between the two', () => {
    const env = envOf('registry');
    const config = loadRegistryConfig({ env });
    const authConfig = loadAuthConfig({ env: envOf('auth') });
    assert.equal(config.auth.kind, 'token');
    if (config.auth.kind !== 'token') return;
    const realm = new URL(config.auth.realm);
    assert.equal(realm.pathname, '/token');
    assert.equal(Number(realm.port), ports('auth')[0][0], 'clients reach the published auth port');
    const jwks = new URL(config.auth.jwksUrl ?? '');
    assert.equal(jwks.hostname, 'auth', 'the registry reaches auth inside the compose network');
    assert.equal(Number(jwks.port), authConfig.http.port);
    assert.equal(jwks.pathname, '/.well-known/jwks.json');
    assert.equal(config.auth.service, authConfig.token.service);
    assert.equal(config.auth.issuer, authConfig.token.issuer);
  });

  it('sets only environment names the config loader knows, commented ones included', () => {
    for (const name of ['auth', 'registry']) {
      for (const key of Object.keys(compose.services[name].environment ?? {})) assert.ok(knownEnv.has(key), `${name}: ${key}`);
    }
    const commented = [...composeText.matchAll(/^\s*#\s*([A-Z][A-Z0-9_]+):\s*(\S+)/gm)];
    assert.ok(commented.length >= 2);
    for (const [, key] of commented) assert.ok(knownEnv.has(key), `commented ${key}`);
  });

  it('offers PostgreSQL as a profile the commented URLs point at', () => {
    const postgres = compose.services.postgres;
    assert.ok(postgres.profiles?.includes('postgres'));
    const urls = Object.fromEntries([...composeText.matchAll(/^\s*#\s*((?:AUTH|REGISTRY)_DATABASE_URL):\s*(\S+)/gm)].map((m) => [m[1], m[2]]));
    assert.ok(urls.AUTH_DATABASE_URL && urls.REGISTRY_DATABASE_URL);
    const registryDb = loadRegistryConfig({ env: { ...envOf('registry'), REGISTRY_DATABASE_URL: urls.REGISTRY_DATABASE_URL } }).database;
    const authDb = loadAuthConfig({ env: { ...envOf('auth'), AUTH_DATABASE_URL: urls.AUTH_DATABASE_URL } }).database;
    for (const db of [registryDb, authDb]) {
      assert.equal(db.client, 'pg');
      if (db.client !== 'pg') continue;
      const url = new URL(db.connection);
      assert.equal(url.hostname, 'postgres');
      assert.equal(url.username, postgres.environment?.POSTGRES_USER);
      assert.equal(url.password, postgres.environment?.POSTGRES_PASSWORD);
      assert.equal(url.pathname.slice(1), postgres.environment?.POSTGRES_DB);
    }
  });

  it('passes `docker compose config` when the compose plugin is installed', (t) => {
    const version = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
    if (version.status !== 0) {
      t.skip('docker compose plugin not installed; YAML wiring checked above only');
      return;
    }
    const result = spawnSync('docker', ['compose', '-f', new URL('docker-compose.yml', root).pathname, 'config', '--quiet'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
  });
});
