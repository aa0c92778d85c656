/**
 * Administration: garbage collection (docs/lifecycle.md "Garbage collection") through the
 * registry's admin API: the run under way, the last run's report (what it deleted, or for
 * a dry run what it would delete), and starting a run or a dry run in the background.
 */
import { html, type Html } from '../html.js';
import { formatBytes } from './context.js';
import { csrfField } from './layout.js';
import { adminPage, field, registryAdmin, when, type AdminSection } from './admin-shared.js';

interface GcRun {
  dryRun: boolean;
  actor: string;
  startedAt: string;
  finishedAt: string | null;
  report: {
    counts: { manifests: number; links: number; blobs: number };
    manifests: Array<{ repository: string; digest: string }>;
    links: Array<{ repository: string; digest: string }>;
    blobs: Array<{ digest: string; size: number }>;
    bytesFreed: number;
    durationMs: number;
  } | null;
  error: string | null;
}

function list(heading: string, total: number, items: Html[]): Html {
  if (total === 0) return html`<h3>${heading}: none</h3>`;
  return html`<h3>${heading}: ${total}</h3><ul class="gc-items">${items}</ul>${total > items.length ? html`<p class="muted">and ${total - items.length} more (the report keeps the first ${items.length}).</p>` : ''}`;
}

function report(run: GcRun): Html {
  const kind = run.dryRun ? 'dry run' : 'run';
  const head = html`<p>A ${kind} started by ${run.actor} at ${when(run.startedAt)} UTC${run.finishedAt ? html`, finished at ${when(run.finishedAt)} UTC` : ''}.</p>`;
  if (run.error) return html`${head}<p class="notice error" role="alert">It failed: ${run.error}</p>`;
  const r = run.report;
  if (!r) return head;
  const verb = run.dryRun ? 'would delete' : 'deleted';
  return html`${head}
<p class="gc-summary"><strong>${run.dryRun ? 'Would free' : 'Freed'} ${formatBytes(r.bytesFreed)}</strong> in ${(r.durationMs / 1000).toFixed(1)} s: it ${verb} ${r.counts.manifests} manifests, ${r.counts.links} blob links and ${r.counts.blobs} blobs.</p>
${list('Manifests', r.counts.manifests, r.manifests.map((m) => html`<li><code>${m.repository}@${m.digest}</code></li>`))}
${list('Blob links', r.counts.links, r.links.map((l) => html`<li><code>${l.repository}</code> → <code>${l.digest}</code></li>`))}
${list('Blobs', r.counts.blobs, r.blobs.map((b) => html`<li><code>${b.digest}</code> (${formatBytes(b.size)})</li>`))}`;
}

export const gcSection: AdminSection = {
  path: '/admin/gc',
  label: 'Garbage collection',
  async page(req) {
    const status = await registryAdmin<{ running: GcRun | null; last: GcRun | null }>(req, 'GET', '/v2/_dockyard/gc');
    const csrf = csrfField(req.session);
    return adminPage(
      this.path,
      'Garbage collection',
      html`<p>Garbage collection deletes manifests, blob links and layers nothing refers to once the grace period has passed, while pushes and pulls go on. It also runs on its own schedule (<code>registry.gc.intervalseconds</code>); runs started here are shown here.</p>
<section aria-labelledby="gc-running-h"><h2 id="gc-running-h">Now</h2>
${status.running ? html`<p class="notice" role="status">A ${status.running.dryRun ? 'dry run' : 'run'} started by ${status.running.actor} at ${when(status.running.startedAt)} UTC is under way. <a href="/admin/gc">Reload</a> to see its report.</p>` : html`<p>No run started here is under way.</p>
<form method="post" action="/admin/gc/runs" class="buttons">${csrf}<button type="submit" name="mode" value="dry-run">Start a dry run</button> <button type="submit" name="mode" value="run" class="danger">Collect garbage now</button></form>`}
</section>
<section aria-labelledby="gc-last-h"><h2 id="gc-last-h">Last run</h2>${status.last ? report(status.last) : html`<p class="muted">No run has been started here since the registry started.</p>`}</section>`,
    );
  },
  actions: [
    {
      path: /^\/admin\/gc\/runs$/,
      async run(req, form) {
        const dryRun = field(form, 'mode') !== 'run';
        await registryAdmin(req, 'POST', '/v2/_dockyard/gc/runs', { dryRun });
        return dryRun ? 'Dry run started: nothing is deleted; its report shows what a run would delete.' : 'Garbage collection started.';
      },
    },
  ],
};
