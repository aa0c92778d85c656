/**
 * Debian's stock registry:2 configuration (/etc/docker/registry/config.yml from the
 * docker-registry package) copied into a workspace with only its paths rewritten: the
 * storage root and the htpasswd file. The listening address stays `:5000` in the file;
 * tests move it with REGISTRY_HTTP_ADDR, which both distribution and Dockyard read.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import type { Workspace } from './workspace.js';

export const STOCK_CONFIG = '/etc/docker/registry/config.yml';

/** The copied file and what it points at. */
export interface StockConfig {
  path: string;
  root: string;
  htpasswd: string;
  user: string;
  password: string;
}

/** True when the stock file is installed (the docker-registry package). */
export function hasStockConfig(): boolean {
  return existsSync(STOCK_CONFIG);
}

/** Copies the stock file, rewriting exactly its two paths, and writes the htpasswd file it names. */
export function stockConfig(ws: Workspace, name = 'config'): StockConfig {
  const stock = readFileSync(STOCK_CONFIG, 'utf8');
  const root = ws.mkdir(`${name}-root`);
  const htpasswd = ws.path(`${name}.htpasswd`);
  const rewritten = stock.replace('rootdirectory: /var/lib/docker-registry', `rootdirectory: ${root}`).replace('path: /etc/docker/registry', `path: ${htpasswd}`);
  if (!rewritten.includes(root) || !rewritten.includes(htpasswd)) throw new Error(`${STOCK_CONFIG} no longer has the paths this test rewrites:\n${stock}`);
  const path = ws.path(`${name}.yml`);
  writeFileSync(path, rewritten);
  const user = 'alice';
  const password = `pw-${name}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(htpasswd, `${user}:${bcrypt.hashSync(password, 10)}\n`);
  return { path, root, htpasswd, user, password };
}
