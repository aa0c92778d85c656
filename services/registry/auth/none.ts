/**
 * The `none` access controller: every request may do everything, as anonymous. For a
 * registry on a trusted network or behind a proxy that authenticates on its own.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AccessRecord } from '../../../shared/grammar/scope.js';
import type { AccessController, Grant } from './controller.js';

/** Grants every required access record to the anonymous subject ''. */
export class NoneAccessController implements AccessController {
  /** Resolves with exactly the required access; never challenges. */
  async authorize(_headers: IncomingHttpHeaders, required: AccessRecord[]): Promise<Grant> {
    return { subject: '', access: required.map((r) => ({ type: r.type, name: r.name, actions: [...r.actions] })) };
  }
}
