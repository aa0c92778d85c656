/**
 * `GET /v2/`: the version check clients make first. Answering 200 tells them this is a
 * v2 registry and that their credentials (if any) are good; the access controller has
 * already challenged when they are not.
 */
import type { RequestContext } from './context.js';

/** 200 `{}`. */
export async function getBase({ ctx }: RequestContext): Promise<void> {
  ctx.status = 200;
  ctx.body = {};
}
