/**
 * The token-auth deployment e2e files share: the auth service, a token recorder in front of
 * it (the registry's realm points at the recorder), and the registry under test trusting the
 * auth service's /certs.pem. Also thin wrappers over the admin CLI for users, robots, grants.
 */
import { startRegistry, startAuthService, type AuthService, type RunningService } from './services.js';
import { startTokenRecorder, type TokenRecorder } from './token-recorder.js';
import type { Workspace } from './workspace.js';

/** Auth service + recorder + token-mode registry. */
export interface TokenStack {
  auth: AuthService;
  recorder: TokenRecorder;
  registry: RunningService;
}

/** Starts the three pieces in order (the registry needs the auth service's certificates); `authEnv` adds auth settings. */
export async function startTokenStack(ws: Workspace, authEnv: Record<string, string> = {}): Promise<TokenStack> {
  const auth = await startAuthService(ws, { env: authEnv });
  const rootCertBundle = await auth.saveCertBundle();
  const recorder = await startTokenRecorder(ws, auth.url);
  const registry = await startRegistry(ws, {
    auth: { kind: 'token', realm: `${recorder.url}/token`, service: auth.service, issuer: auth.issuer, rootCertBundle },
  });
  return { auth, recorder, registry };
}

/** A throwaway password that is obviously not a real one. */
export function testPassword(label: string): string {
  return `${label}-pw-${Math.random().toString(36).slice(2, 10)}`;
}

/** `users add NAME --password-stdin`. */
export async function addUser(auth: AuthService, name: string, password: string): Promise<void> {
  await auth.cli(['users', 'add', name, '--password-stdin'], `${password}\n`);
}

/** `grants add SUBJECT PATTERN ACTIONS`, e.g. grant(auth, 'user:alice', 'team/*', 'pull,push'). */
export async function grant(auth: AuthService, subject: string, pattern: string, actions: string): Promise<void> {
  await auth.cli(['grants', 'add', subject, pattern, actions]);
}

/** `robots add NAME --json`: the robot's login name and its one-time secret. */
export async function addRobot(auth: AuthService, name: string): Promise<{ username: string; secret: string }> {
  const result = await auth.cli(['robots', 'add', name, '--json']);
  let parsed: unknown;
  try {
    parsed = JSON.parse(result.stdout);
  } catch {
    throw new Error(`robots add --json printed no JSON:\n${result.stdout}`);
  }
  const { username, secret } = (parsed ?? {}) as { username?: unknown; secret?: unknown };
  if (typeof username !== 'string' || typeof secret !== 'string' || !username || !secret) {
    throw new Error(`robots add --json must print {"username","secret"}, got keys ${Object.keys(parsed ?? {}).join(',')}`);
  }
  return { username, secret };
}
