/**
 * AccessController: decides whether a request may have the access it requires.
 * Implementations: token (JWT from a Docker-token-spec server), htpasswd (Basic), none.
 * A refusal is a ChallengeError, which renders its own WWW-Authenticate header.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { DockyardError } from '../../../shared/http/errors.js';
import type { AccessRecord } from '../../../shared/grammar/scope.js';

/** Who the request is and what it was granted (the subset of required access it holds). */
export interface Grant {
  /** Subject name for logs and upload ownership; '' for anonymous. */
  subject: string;
  access: AccessRecord[];
  /**
   * Patterns of the repositories the catalog lists for this subject, when its credentials
   * say (a token's `dockyard_catalog` claim); absent means the controller set no limit.
   */
  catalog?: readonly string[];
}

export interface AccessController {
  /**
   * Resolves with the grant when the request holds every required access record;
   * otherwise throws ChallengeError. `required` may be empty (GET /v2/ only needs a
   * valid identity).
   */
  authorize(headers: IncomingHttpHeaders, required: AccessRecord[]): Promise<Grant>;
}

/** 401 (or 403) carrying the WWW-Authenticate challenge a client must answer. */
export class ChallengeError extends DockyardError {
  constructor(challenge: string, message = 'authentication required', options: { status?: number; detail?: unknown } = {}) {
    super(options.status === 403 ? 'DENIED' : 'UNAUTHORIZED', message, {
      headers: { 'WWW-Authenticate': challenge },
      status: options.status,
      detail: options.detail,
    });
    this.name = 'ChallengeError';
  }
}
