/**
 * The tag rules that apply to one repository (`GET /v2/<name>/_dockyard/rules`), for the
 * web UI's release-rule badges: read with pull on the repository like the rest of the
 * browse API (access.ts), where the full rule list needs catalog access. Only what a
 * puller meets when pushing is shown: kind and patterns, not who wrote the rule.
 */
import { fail } from '../../../shared/http/errors.js';
import { matchesPattern } from '../../../shared/grammar/repository-pattern.js';
import type { RequestContext } from '../routes/context.js';
import type { RouteOf } from '../routes/path.js';

/** GET: 200 `{"repository","rules":[{"kind","repositoryPattern","tagPattern"}]}`, oldest rule first. */
export async function listRepositoryRules({ ctx, route, services }: RequestContext<RouteOf<'repositoryRules'>>): Promise<void> {
  if (!(await services.metadata.repositoryExists(route.name))) throw fail('NAME_UNKNOWN', 'repository name not known to registry', { name: route.name });
  const rules = (await services.ruleStore.list()).filter((rule) => matchesPattern(rule.repositoryPattern, route.name));
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { repository: route.name, rules: rules.map(({ kind, repositoryPattern, tagPattern }) => ({ kind, repositoryPattern, tagPattern })) };
}
