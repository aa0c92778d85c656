/**
 * The pages shown when something cannot be shown: 401 (sign in first), 403, 404 (also for
 * a repository the user may not pull: the two must look the same, or the page would tell
 * which names exist), 429, and 503 when the registry or the auth service cannot be reached.
 */
import { html, type Html } from '../html.js';
import type { Session } from '../session.js';
import type { UpstreamError } from '../upstream.js';

export interface ErrorPage {
  status: number;
  title: string;
  body: Html;
}

export function notFoundPage(): ErrorPage {
  return {
    status: 404,
    title: 'Not found',
    body: html`<h1>Not found</h1><p>There is nothing here, or you have no access to it.</p><p><a href="/">Back to the repositories</a></p>`,
  };
}

export function signInPage(path: string): ErrorPage {
  return {
    status: 401,
    title: 'Sign in required',
    body: html`<h1>Sign in required</h1><p>This page is only for signed-in users with access to it.</p>
      <p><a class="button" href="/login?next=${encodeURIComponent(path)}">Sign in</a></p>`,
  };
}

export function forbiddenPage(message: string): ErrorPage {
  return { status: 403, title: 'Not allowed', body: html`<h1>Not allowed</h1><p>${message}</p><p><a href="/">Back to the repositories</a></p>` };
}

/** The page for an UpstreamError, seen by `session` at `path`. */
export function upstreamErrorPage(err: UpstreamError, session: Session | undefined, path: string): ErrorPage {
  switch (err.failure) {
    case 'unavailable': {
      const which = err.service === 'registry' ? 'The registry' : 'The auth service';
      return {
        status: 503,
        title: 'Unavailable',
        body: html`<h1>${which} is unavailable</h1><p>Dockyard could not reach ${which.toLowerCase()} just now. Try again in a moment; if it persists, tell the registry's administrators.</p>`,
      };
    }
    case 'unauthorized':
      return session?.user ? notFoundPage() : signInPage(path);
    case 'denied':
      return session?.user ? notFoundPage() : signInPage(path);
    case 'not-found':
      return notFoundPage();
    case 'throttled':
      return { status: 429, title: 'Too many requests', body: html`<h1>Too many requests</h1><p>Wait a little and try again.</p>` };
    default:
      return { status: 400, title: 'Request refused', body: html`<h1>Request refused</h1><p>${err.message}</p>` };
  }
}
