/**
 * A real OpenID provider for the tests (oidc-provider-server.mjs, the `oidc-provider`
 * package in its own process, stopped after the suite, also on failure) and a minimal
 * browser that drives a sign-in over HTTP: it follows redirects by hand with a cookie jar
 * (cookies are per host, not per port, as in browsers) and submits the provider's login and
 * consent forms. Without the package, suites skip with the reason locally and fail under CI.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const SCRIPT = fileURLToPath(new URL('./oidc-provider-server.mjs', import.meta.url));
export const OIDC_CLIENT_ID = 'dockyard';
export const OIDC_CLIENT_SECRET = 'dockyard-test-secret';

/** Null when the `oidc-provider` package can be loaded, else why not. */
export async function oidcProviderUnavailable(): Promise<string | null> {
  try {
    // Loaded by name only: the server script uses it; the package ships no type declarations.
    const name: string = 'oidc-provider';
    await import(name);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** True when the provider can run; otherwise registers a test in the suite's place (failing under CI). */
export async function oidcProviderSuiteGate(name: string): Promise<boolean> {
  const reason = await oidcProviderUnavailable();
  if (reason === null) return true;
  if (process.env.CI) test(`the OpenID provider runs for ${name}`, () => assert.fail(`oidc-provider cannot be loaded under CI: ${reason}`));
  else test(`${name}: OpenID provider`, { skip: `oidc-provider cannot be loaded (${reason}); set CI=1 to make this a failure` }, () => {});
  return false;
}

/** What the next token response's ID token gets wrong (see the server script). */
export type TamperMode = 'aud' | 'iss' | 'nonce' | 'exp' | 'signature' | 'userinfo_sub';

/** A running provider. */
export interface TestOidcProvider {
  issuer: string;
  tamperNext(mode: TamperMode): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the provider with a client allowed to return to `redirectUris` and these accounts (id → claims). */
export async function startOidcProvider(options: {
  redirectUris: string[];
  accounts: Record<string, Record<string, unknown>>;
  /** Claims of scopes (profile, groups) only from userinfo, not in the ID token. */
  userinfoOnly?: boolean;
}): Promise<TestOidcProvider> {
  const child: ChildProcess = spawn(process.execPath, [SCRIPT], {
    env: {
      ...process.env,
      OIDC_TEST_REDIRECT_URIS: options.redirectUris.join(','),
      OIDC_TEST_ACCOUNTS: JSON.stringify(options.accounts),
      OIDC_TEST_CLIENT_ID: OIDC_CLIENT_ID,
      OIDC_TEST_CLIENT_SECRET: OIDC_CLIENT_SECRET,
      OIDC_TEST_CONFORM: options.userinfoOnly ? '1' : '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  // A test run that dies without its after() still takes the provider down.
  process.once('exit', () => child.kill('SIGKILL'));
  const issuer = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve((JSON.parse(line) as { issuer: string }).issuer));
    child.once('exit', (code) => reject(new Error(`the OpenID provider exited (${code}) before it was ready:\n${stderr}`)));
    setTimeout(() => reject(new Error(`the OpenID provider was not ready within 30 s:\n${stderr}`)), 30_000).unref();
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return {
    issuer,
    async tamperNext(mode) {
      const res = await fetch(`${issuer}/__test/tamper`, { method: 'POST', body: JSON.stringify({ mode }) });
      assert.equal(res.status, 204);
    },
    stop,
  };
}

/** Cookies by name for host 127.0.0.1 (browsers do not separate cookies by port). */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  set(name: string, value: string): void {
    this.cookies.set(name, value);
  }
}

/** One request as a browser makes it: cookies sent and stored, no automatic redirect. */
export async function browse(jar: CookieJar, url: string, form?: Record<string, string>): Promise<Response> {
  const headers: Record<string, string> = { cookie: jar.header() };
  if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
  const res = await fetch(url, { method: form ? 'POST' : 'GET', headers, body: form ? new URLSearchParams(form).toString() : undefined, redirect: 'manual' });
  jar.store(res);
  return res;
}

/**
 * Follows a sign-in from `url` until a redirect leaves for a URL starting with `stopAt`
 * (returned), logging in as `login` at the provider's form and consenting. `onRedirect`
 * may rewrite a redirect before it is followed (to tamper with the callback).
 */
export async function signIn(
  jar: CookieJar,
  url: string,
  options: { login: string; stopAt: string; onRedirect?: (location: string) => string },
): Promise<URL> {
  let next = url;
  let form: Record<string, string> | undefined;
  for (let step = 0; step < 20; step++) {
    const res = await browse(jar, next, form);
    form = undefined;
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      const target = new URL(location, next).toString();
      if (target.startsWith(options.stopAt)) return new URL(target);
      next = options.onRedirect ? options.onRedirect(target) : target;
      await res.arrayBuffer();
      continue;
    }
    const html = await res.text();
    assert.equal(res.status, 200, `unexpected ${res.status} at ${next}: ${html.slice(0, 500)}`);
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
    assert.ok(action && prompt, `no login or consent form at ${next}: ${html.slice(0, 500)}`);
    next = new URL(action.replace(/&amp;/g, '&'), next).toString();
    form = prompt === 'login' ? { prompt, login: options.login, password: 'any' } : { prompt };
  }
  throw new Error('the sign-in did not finish within 20 steps');
}
