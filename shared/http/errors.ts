/**
 * The one table of error codes: each OCI distribution / token error code is registered
 * here once with its HTTP status and default message. Handlers throw `DockyardError`
 * (or a subclass); the outermost middleware renders `{"errors":[{code,message,detail}]}`.
 */
export const ERROR_CODES = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 404, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  TAG_INVALID: { status: 400, message: 'manifest tag did not match URI' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 415, message: 'the operation is unsupported' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'the method is not allowed for this resource' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  RANGE_INVALID: { status: 416, message: 'invalid content range' },
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested' },
  REQUEST_INVALID: { status: 400, message: 'the request is malformed' },
  NOT_FOUND: { status: 404, message: 'not found' },
  CONFLICT: { status: 409, message: 'the resource is in a conflicting state' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'request body too large' },
  READ_ONLY: { status: 405, message: 'the registry is in read-only mode' },
  UNAVAILABLE: { status: 503, message: 'service unavailable' },
  STORAGE_FULL: { status: 507, message: 'insufficient storage' },
  UNKNOWN: { status: 500, message: 'unknown error' },
} as const satisfies Record<string, { status: number; message: string }>;

/** A registered error code, e.g. `BLOB_UNKNOWN`. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** An error that renders as the spec's JSON envelope with the status of its code. */
export class DockyardError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: unknown;
  /** Extra response headers (e.g. WWW-Authenticate, Retry-After, Range). */
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    message?: string,
    options: { detail?: unknown; status?: number; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message ?? ERROR_CODES[code].message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DockyardError';
    this.code = code;
    this.status = options.status ?? ERROR_CODES[code].status;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }

  /** The JSON body every error response carries. */
  toBody(): { errors: Array<{ code: ErrorCode; message: string; detail?: unknown }> } {
    const entry: { code: ErrorCode; message: string; detail?: unknown } = { code: this.code, message: this.message };
    if (this.detail !== undefined) entry.detail = this.detail;
    return { errors: [entry] };
  }
}

/** Shorthand used by handlers: `throw fail('BLOB_UNKNOWN', 'no such blob', { digest })`. */
export function fail(code: ErrorCode, message?: string, detail?: unknown): DockyardError {
  return new DockyardError(code, message, detail === undefined ? {} : { detail });
}

/** True for any DockyardError (including subclasses from other modules). */
export function isDockyardError(err: unknown): err is DockyardError {
  return err instanceof DockyardError;
}
