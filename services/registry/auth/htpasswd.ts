/**
 * Basic-auth access control against an htpasswd file (registry:2 semantics): any user
 * whose password matches gets every access; everyone else gets a Basic challenge.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { HtpasswdFile } from '../../../shared/crypto/htpasswd.js';
import type { Logger } from '../../../shared/observability/logger.js';
import { mergeAccess, type AccessRecord } from '../../../shared/grammar/scope.js';
import { ChallengeError, type AccessController, type Grant } from './controller.js';
import { assertHeaderSafe, authParam } from './token.js';

const BASIC = /^Basic[ \t]+([A-Za-z0-9+/]+=*)[ \t]*$/i;

/** User and password from an `Authorization: Basic` header, or null when absent or malformed. */
export function parseBasicAuthorization(header: string | undefined): { user: string; password: string } | null {
  const match = BASIC.exec(header ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Grants everything to any user of the htpasswd file. */
export class HtpasswdAccessController implements AccessController {
  private readonly challenge: string;

  constructor(
    private readonly file: HtpasswdFile,
    realm: string,
  ) {
    assertHeaderSafe('htpasswd realm', realm);
    this.challenge = `Basic ${authParam('realm', realm)}`;
  }

  /** Loads the htpasswd file (failing fast on a bad one) and builds the controller. */
  static async open(path: string, realm: string, logger?: Logger): Promise<HtpasswdAccessController> {
    return new HtpasswdAccessController(await HtpasswdFile.open(path, { logger }), realm);
  }

  /** Resolves with the user's grant, or throws a 401 Basic challenge. */
  async authorize(headers: IncomingHttpHeaders, required: AccessRecord[]): Promise<Grant> {
    const credentials = parseBasicAuthorization(headers.authorization);
    if (!credentials) throw new ChallengeError(this.challenge, 'authentication required');
    if (!(await this.file.verify(credentials.user, credentials.password))) {
      throw new ChallengeError(this.challenge, 'invalid username or password');
    }
    return { subject: credentials.user, access: mergeAccess(required) };
  }
}
