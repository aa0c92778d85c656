// The docker-compose profile "scale" (docs/scaling.md): two registries and two auth
// services on PostgreSQL and an S3 server behind an nginx balancer. Parsed, and every
// replica's environment loaded through the real config loaders: the same settings on both
// replicas of a service, the database in the postgres service, the bucket the init job
// creates, the signing keys in the database sealed with the shared key file, and the
// balancer listing every replica on its port.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ALL_SETTINGS, loadAuthConfig, loadRegistryConfig, type Env } from '../../../shared/config/index.js';

const root = new URL('../../../', import.meta.url);
interface Service {
  image?: string;
  build?: unknown;
  profiles?: string[];
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
}
const compose = parse(readFileSync(new URL('docker-compose.yml', root), 'utf8'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const nginx = readFileSync(new URL('deploy/nginx-scale.conf', root), 'utf8');
const knownEnv = new Set(ALL_SETTINGS.map((s) => s.env));
const services = compose.services;

function envOf(name: string): Env {
  const env: Env = {};
  for (const [key, value] of Object.entries(services[name]!.environment ?? {})) env[key] = String(value).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
  return env;
}

describe('docker-compose profile "scale"', () => {
  const replicas = { auth: ['auth-1', 'auth-2'], registry: ['registry-1', 'registry-2'] };

  it('puts every scale service, PostgreSQL included, in the profile; the default services stay outside it', () => {
    for (const name of ['s3', 's3-bucket', 'auth-kek', 'lb', ...replicas.auth, ...replicas.registry]) assert.deepEqual(services[name]?.profiles, ['scale'], name);
    assert.ok(services.postgres!.profiles!.includes('scale'));
    assert.equal(services.auth!.profiles, undefined);
    assert.equal(services.registry!.profiles, undefined);
    assert.ok(services['auth-kek']!.build, 'the profile builds the image itself');
  });

  it('runs both replicas of a service with the same settings and only names the loaders know', () => {
    for (const [kind, [a, b]] of Object.entries(replicas)) {
      assert.deepEqual(envOf(a!), envOf(b!), kind);
      assert.deepEqual(services[a!]!.command, ['npm', 'run', kind]);
      for (const key of Object.keys(envOf(a!))) assert.ok(knownEnv.has(key), `${a}: ${key}`);
    }
  });

  it('auth replicas: PostgreSQL, signing keys in the database sealed with the shared key file', () => {
    const config = loadAuthConfig({ env: envOf('auth-1') });
    assert.equal(config.database.client, 'pg');
    if (config.database.client === 'pg') assert.equal(new URL(config.database.connection).hostname, 'postgres');
    assert.equal(config.keyStore?.kind, 'database');
    if (config.keyStore?.kind !== 'database') return;
    const [volume, mount] = services['auth-1']!.volumes![0]!.split(':');
    assert.ok(config.keyStore.encryptionKeyFile.startsWith(`${mount}/`));
    assert.ok(services['auth-kek']!.volumes!.some((v) => v.startsWith(`${volume}:`)), 'the init job writes the key file into the same volume');
    assert.match(services['auth-kek']!.command!.join(' '), new RegExp(config.keyStore.encryptionKeyFile.replace(/\//g, '\\/')));
    assert.equal(services['auth-1']!.depends_on?.['auth-kek']?.condition, 'service_completed_successfully');
  });

  it('registry replicas: PostgreSQL, the S3 bucket the init job creates, tokens and keys through the balancer', () => {
    const config = loadRegistryConfig({ env: envOf('registry-1') });
    assert.equal(config.database.client, 'pg');
    assert.equal(config.storage.driver, 's3');
    if (config.storage.driver !== 's3') return;
    const s3 = config.storage.s3;
    assert.match(s3.regionEndpoint ?? '', /^http:\/\/s3:9000/);
    assert.equal(s3.secure, false);
    assert.equal(s3.forcePathStyle, true);
    const bucket = s3.bucket;
    assert.match(services['s3-bucket']!.entrypoint!.join(' '), new RegExp(`mb --ignore-existing s3/${bucket}`));
    assert.equal(services['registry-1']!.depends_on?.['s3-bucket']?.condition, 'service_completed_successfully');
    assert.equal(config.auth.kind, 'token');
    if (config.auth.kind !== 'token') return;
    assert.equal(new URL(config.auth.jwksUrl!).host, 'lb:5001');
    assert.equal(new URL(config.auth.realm).port, '5001');
    const auth = loadAuthConfig({ env: envOf('auth-1') });
    assert.equal(config.auth.service, auth.token.service);
    assert.equal(config.auth.issuer, auth.token.issuer);
  });

  it('the balancer publishes 5000 and 5001 and lists every replica on its port, waiting for all of them', () => {
    assert.deepEqual(services.lb!.ports, ['5000:5000', '5001:5001']);
    assert.ok(services.lb!.volumes!.some((v) => v.startsWith('./deploy/nginx-scale.conf:')));
    for (const name of [...replicas.auth, ...replicas.registry]) assert.equal(services.lb!.depends_on?.[name]?.condition, 'service_healthy', name);
    const upstream = (label: string) => [...(new RegExp(`upstream ${label} \\{([^}]*)\\}`).exec(nginx)?.[1] ?? '').matchAll(/server (\S+);?/g)].map((m) => m[1]);
    assert.deepEqual(upstream('dockyard_registry'), ['registry-1:5000', 'registry-2:5000']);
    assert.deepEqual(upstream('dockyard_auth'), ['auth-1:5001', 'auth-2:5001']);
    assert.match(nginx, /client_max_body_size 0;/);
    assert.match(nginx, /proxy_request_buffering off;/);
    assert.doesNotMatch(nginx, /^\s*(ip_hash|sticky|hash)\b/m, 'no sticky sessions');
    for (const volume of ['s3-data', 'scale-secrets']) assert.ok(volume in compose.volumes);
  });
});
