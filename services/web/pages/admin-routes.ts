/**
 * The administration pages' dispatcher. Everything under `/admin` is for administrators
 * only: anyone else gets the 403 page for every page and every form, before anything is
 * asked of the auth service or the registry (which would refuse them anyway: each call
 * carries the user's own token). A form's change that the API refuses (a bad pattern, a
 * duplicate name) is told on the section's page, not as an error page.
 */
import type { Context } from 'koa';
import type { Session } from '../session.js';
import { UpstreamError, type Upstream } from '../upstream.js';
import type { Page } from './context.js';
import { forbiddenPage } from './errors.js';
import { usersSection } from './admin.js';
import { auditSection } from './admin-audit.js';
import { gcSection } from './admin-gc.js';
import { notificationsSection } from './admin-notifications.js';
import { quotasSection } from './admin-quotas.js';
import { retentionSection } from './admin-retention.js';
import { rulesSection } from './admin-rules.js';
import { FormError, type AdminRequest, type AdminSection } from './admin-shared.js';

const SECTIONS: AdminSection[] = [usersSection, rulesSection, quotasSection, retentionSection, gcSection, notificationsSection, auditSection];

/** Serves `/admin` and everything below it; false for a path no section knows (the caller renders 404). */
export async function adminRoutes(ctx: Context, session: Session | undefined, form: URLSearchParams | undefined, upstream: Upstream, render: (page: Page) => void): Promise<boolean> {
  if (!session?.user?.admin) {
    return render(forbiddenPage('The administration pages are for administrators only.')), true;
  }
  const req: AdminRequest = { upstream, session, query: new URLSearchParams(ctx.querystring) };
  if (ctx.method !== 'POST') {
    const section = SECTIONS.find((s) => s.path === ctx.path);
    return section ? (render(await section.page(req)), true) : false;
  }
  for (const section of SECTIONS) {
    for (const action of section.actions) {
      const match = action.path.exec(ctx.path);
      if (!match) continue;
      let outcome: string | Page;
      try {
        outcome = await action.run(req, form!, match);
      } catch (err) {
        const refused = err instanceof FormError || (err instanceof UpstreamError && (err.failure === 'invalid' || err.failure === 'not-found'));
        if (!refused) throw err;
        outcome = `Not done: ${err.message}`;
      }
      if (typeof outcome !== 'string') return render(outcome), true;
      session.flash = outcome;
      ctx.status = 303;
      ctx.redirect(section.path);
      return true;
    }
  }
  return false;
}
