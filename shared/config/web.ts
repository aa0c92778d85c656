/**
 * The web UI's settings (services/web) and their loader. The web service reaches the
 * registry and the auth service over HTTP only, so its whole configuration is where it
 * listens and where those two are, plus where it keeps its sessions (a database and the
 * key file sealing them); `npm start` fills in the ones it runs itself.
 */
import { join } from 'node:path';
import type { DatabaseConfig } from '../db/index.js';
import { tlsFrom } from './build.js';
import { readConfigFile } from './file.js';
import { ConfigSource } from './source.js';
import type { ListenConfig } from './types.js';
import { WEB_SETTINGS } from './web-settings.js';
import { SETTINGS } from './settings.js';


/** The web service's validated configuration. */
export interface WebConfig {
  http: ListenConfig;
  /** Base URL of the registry (no trailing slash). */
  registryUrl: string;
  /** Base URL of the auth service, when set; otherwise taken from the registry's challenge. */
  authUrl?: string;
  /** Host shown in pull commands, when set; otherwise the registry URL's host. */
  pullHost?: string;
  secureCookies: boolean;
  /** The web UI's single sign-on callback URL; single sign-on is offered only when set. */
  ssoCallbackUrl?: string;
  /** Where sessions are kept (migrations/web). */
  database: DatabaseConfig;
  /** The key file sealing sessions' refresh tokens (created when absent). */
  sessionKeyFile: string;
}

const trimSlash = (url: string): string => url.replace(/\/+$/, '');

/** The web configuration from a source; `registryDefault` is the registry URL when none is set. */
export function buildWebConfig(src: ConfigSource, registryDefault = 'http://127.0.0.1:5000'): WebConfig {
  const s = WEB_SETTINGS;
  const authUrl = src.url(s.authUrl);
  const pullHost = src.string(s.pullHost);
  const ssoCallbackUrl = src.url(s.ssoCallbackUrl);
  const dataDir = src.path(SETTINGS.common.dataDir)!;
  return {
    http: { ...src.addr(s.addr), tls: tlsFrom(src, s.tlsCertificate, s.tlsKey) },
    registryUrl: trimSlash(src.url(s.registryUrl) ?? registryDefault),
    ...(authUrl === undefined ? {} : { authUrl: trimSlash(authUrl) }),
    ...(pullHost === undefined ? {} : { pullHost }),
    secureCookies: src.bool(s.secureCookies),
    ...(ssoCallbackUrl === undefined ? {} : { ssoCallbackUrl }),
    database: src.database(s.databaseUrl, join(dataDir, 'web', 'web.sqlite')),
    sessionKeyFile: src.path(s.sessionKeyFile) ?? join(dataDir, 'web', 'session.key'),
  };
}

/** Web configuration from a YAML file (optional) and the environment. */
export function loadWebConfig(options: { file?: string; env?: Record<string, string | undefined> } = {}, registryDefault?: string): WebConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? (env.DOCKYARD_CONFIG || undefined);
  return buildWebConfig(new ConfigSource(file === undefined ? undefined : readConfigFile(file), env), registryDefault);
}
