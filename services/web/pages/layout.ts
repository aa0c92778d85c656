/** The frame every page shares: skip link, header with sign-in state, main landmark, the two assets. */
import { html, type Html } from '../html.js';
import { SCRIPT, STYLESHEET } from '../assets.js';
import type { Session } from '../session.js';

export interface PageInput {
  title: string;
  session: Session | undefined;
  body: Html;
}

/** The hidden CSRF field every form carries. */
export function csrfField(session: Session): Html {
  return html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
}

function account(session: Session | undefined): Html {
  if (session?.user) {
    return html`<div>${session.user.admin ? html`<a href="/admin">Administration</a> · ` : ''}${session.user.adminRefreshToken ? html`<a href="/access-tokens">Access tokens</a> · ` : ''}<span>Signed in as <strong>${session.user.name}</strong></span>
      <form method="post" action="/logout">${csrfField(session)}<button type="submit" class="secondary">Sign out</button></form></div>`;
  }
  return html`<a href="/login">Sign in</a>`;
}

/** A whole HTML document. */
export function layout({ title, session, body }: PageInput): Html {
  const flash = session?.flash;
  if (session) session.flash = undefined;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Dockyard</title>
<link rel="stylesheet" href="${STYLESHEET.path}">
<script src="${SCRIPT.path}" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><a class="brand" href="/">Dockyard</a>${account(session)}</header>
<main id="main">
${flash ? html`<p class="notice" role="status">${flash}</p>` : ''}
${body}
</main>
</body>
</html>`;
}
