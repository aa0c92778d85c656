/** The sign-in form and the delete confirmation: the pages that only exist to carry a form. */
import { html } from '../html.js';
import type { Session } from '../session.js';
import { repositoryHref, type Page } from './context.js';
import { csrfField } from './layout.js';

/** Only a local path is a place to go back to after signing in. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) ? next : '/';
}

export function loginPage(session: Session, options: { error?: string; username?: string; next?: string; status?: number; disabled?: boolean; sso?: boolean } = {}): Page {
  if (options.disabled) {
    return { title: 'Sign in', status: 404, body: html`<h1>Sign in</h1><p>This registry does not use token sign-in; everything it serves is shown without signing in.</p>` };
  }
  return {
    title: 'Sign in',
    status: options.status ?? 200,
    body: html`<h1>Sign in</h1>
${options.error ? html`<p class="notice error" role="alert">${options.error}</p>` : ''}
<form method="post" action="/login">
${csrfField(session)}
<input type="hidden" name="next" value="${safeNext(options.next)}">
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required value="${options.username ?? ''}">
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<p><button type="submit">Sign in</button></p>
</form>
<p class="muted">The same account you use for <code>docker login</code>.</p>
${options.sso ? html`<p><a class="button" href="/login/sso?next=${encodeURIComponent(safeNext(options.next))}">Sign in with single sign-on</a></p>` : ''}`,
  };
}

/** "Delete the tag X?" / "Delete the manifest D?" with a POST form. */
export function confirmDeletePage(session: Session, name: string, target: { tag: string } | { digest: string }): Page {
  const isTag = 'tag' in target;
  const what = isTag ? `the tag ${target.tag}` : `the manifest ${target.digest}`;
  const action = isTag ? repositoryHref(name, 'tags', target.tag, 'delete') : repositoryHref(name, 'manifests', target.digest, 'delete');
  const back = isTag ? repositoryHref(name, 'tags', target.tag) : repositoryHref(name, 'manifests', target.digest);
  return {
    title: `Delete ${what}`,
    body: html`<h1>Delete ${what} of ${name}?</h1>
<p>${isTag ? 'Only this tag is removed: the image and every other tag pointing at it stay.' : 'The manifest and every tag pointing at it are removed. This cannot be undone.'}</p>
<form method="post" action="${action}">${csrfField(session)}
<p><button type="submit" class="danger">Delete ${what}</button> <a href="${back}">Cancel</a></p></form>`,
  };
}
