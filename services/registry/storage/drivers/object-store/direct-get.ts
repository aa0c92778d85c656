/**
 * One HTTP/1.1 GET whose response body is read from the socket into the caller's buffers.
 * Node's HTTP client (and the AWS SDK's stream over it) allocates a fresh 64 KiB buffer for
 * every socket read; at a few hundred MiB/s that garbage cost more CPU than everything else
 * a proxied blob pull does (docs/performance.md). Here the socket reads (net.Socket's
 * `onread`) straight into the free end of the buffer the caller is reading into, or, when
 * no read waits or the head is still arriving, into one reused staging buffer whose bytes
 * the next read copies out; a full caller buffer pauses the socket until the next read.
 *
 * Only what a store's object GET needs: a Content-Length body (no chunked framing), one
 * request per connection (`Connection: close`), a connect timeout and an idle timeout that
 * runs only while the caller waits for bytes (a paused download of a slow client is not
 * idle). Signing is the caller's (a presigned URL); retries too.
 */
import { connect as netConnect, type OnReadOpts, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

export interface DirectGetOptions {
  /** Extra request headers (e.g. Range). */
  headers: Record<string, string>;
  rejectUnauthorized: boolean;
  connectTimeoutMs: number;
  /** The store sent nothing this long while a read waited: the download fails. */
  idleTimeoutMs: number;
}

/** The store answered with a status other than 200/206; `body` is its start (error XML). */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${status}${body ? `: ${body.slice(0, 300)}` : ''}`);
    this.name = 'HttpStatusError';
  }
}

/** Socket reads go here; bytes a full caller buffer could not take wait here too. */
const STAGING_BYTES = 256 * 1024;
const MAX_HEAD_BYTES = 64 * 1024;
const MAX_ERROR_BODY_BYTES = 16 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');
/** Below this much room a waiting read's buffer is not worth a socket read of its own. */
const MIN_DIRECT_READ_BYTES = 16 * 1024;

interface PendingRead {
  target: Buffer;
  filled: number;
  end: number;
  resolve: (n: number) => void;
  reject: (err: Error) => void;
}

export interface DirectResponse {
  status: number;
  /** Lower-case header names. */
  headers: Map<string, string>;
  /** Body bytes the response announced. */
  length: number;
  /** Fills target[offset, offset+length) as far as the body goes; 0 at its end. */
  read(target: Buffer, offset: number, length: number): Promise<number>;
  destroy(): void;
}

/** Sends the GET; resolves once the response head arrived with status 200 or 206. */
export function directGet(url: URL, options: DirectGetOptions): Promise<DirectResponse> {
  return new DirectGet(url, options).opened;
}

class DirectGet implements DirectResponse {
  status = 0;
  headers = new Map<string, string>();
  length = 0;
  readonly opened: Promise<DirectResponse>;
  private readonly socket: Socket;
  private readonly staging = Buffer.allocUnsafeSlow(STAGING_BYTES);
  private head: Buffer | null = Buffer.alloc(0);
  /** Body bytes not yet copied out: in `spill` (from the head's read) or staging[stagedAt, stagedEnd). */
  private spill: Buffer | null = null;
  private stagedAt = 0;
  private stagedEnd = 0;
  /** Body bytes the socket has yet to deliver. */
  private unreceived = 0;
  private errorBody: Buffer[] | null = null;
  private pending: PendingRead | null = null;
  private failure: Error | null = null;
  private settleOpen!: { resolve: (r: DirectResponse) => void; reject: (err: Error) => void };

  constructor(url: URL, private readonly options: DirectGetOptions) {
    this.opened = new Promise((resolve, reject) => {
      this.settleOpen = { resolve, reject };
    });
    const secure = url.protocol === 'https:';
    const port = Number(url.port) || (secure ? 443 : 80);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // Node asks `buffer` for the buffer of the next socket read after each one.
    const onread = { buffer: () => this.nextReadBuffer(), callback: (n: number, buf: Buffer) => this.received(n, buf) } as unknown as OnReadOpts;
    // tls.connect passes onread on to its socket (Node >= 12); its typings omit it.
    const tlsOptions: ConnectionOptions & { onread: OnReadOpts } = {
      host,
      port,
      servername: /^[\d.:]+$/.test(host) ? undefined : host,
      rejectUnauthorized: options.rejectUnauthorized,
      onread,
    };
    this.socket = secure ? tlsConnect(tlsOptions) : netConnect({ host, port, onread });
    this.socket.setNoDelay(true);
    this.socket.setTimeout(options.connectTimeoutMs);
    this.socket.on('timeout', () => this.fail(new Error(`no answer from ${url.host} within ${this.pending ? options.idleTimeoutMs : options.connectTimeoutMs} ms`)));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new Error(`connection to ${url.host} closed ${this.head ? 'before the response head' : `with ${this.unreceived} body bytes missing`}`)));
    this.socket.once(secure ? 'secureConnect' : 'connect', () => {
      this.socket.setTimeout(options.idleTimeoutMs);
      const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close', 'User-Agent: dockyard-registry'];
      for (const [name, value] of Object.entries(options.headers)) lines.push(`${name}: ${value}`);
      this.socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
  }

  read(target: Buffer, offset: number, length: number): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    const read: PendingRead = { target, filled: offset, end: offset + length, resolve: () => undefined, reject: () => undefined };
    if (this.spill) {
      const taken = this.spill.copy(target, offset, 0, Math.min(this.spill.length, length));
      read.filled += taken;
      this.spill = taken < this.spill.length ? this.spill.subarray(taken) : null;
    }
    if (this.stagedEnd > this.stagedAt && read.filled < read.end) {
      const taken = this.staging.copy(target, read.filled, this.stagedAt, Math.min(this.stagedEnd, this.stagedAt + read.end - read.filled));
      read.filled += taken;
      this.stagedAt += taken;
    }
    if (read.filled === read.end || this.unreceived === 0 || length === 0) return Promise.resolve(read.filled - offset);
    return new Promise((resolve, reject) => {
      read.resolve = (end) => resolve(end - offset);
      read.reject = reject;
      this.pending = read;
      this.socket.setTimeout(this.options.idleTimeoutMs);
      this.socket.resume();
    });
  }

  destroy(): void {
    this.fail(new Error('download closed'));
  }

  /**
   * Where the next socket read goes: the free end of the waiting read's buffer (never past
   * the body's end), else staging. Node calls this right after each read's callback, so a
   * read that completed there already got staging for whatever the socket reads next.
   */
  private nextReadBuffer(): Buffer {
    const read = this.pending;
    if (this.head || this.errorBody || !read) return this.staging;
    const room = Math.min(read.end - read.filled, this.unreceived);
    return room >= MIN_DIRECT_READ_BYTES ? read.target.subarray(read.filled, read.filled + room) : this.staging;
  }

  /** onread callback: `n` new bytes at the start of `buf` (staging or a waiting read's free end). Returning false pauses the socket. */
  private received(n: number, buf: Buffer): boolean {
    if (this.failure) return false;
    if (buf !== this.staging) return this.receivedInPlace(n);
    if (this.head) return this.receivedHead(n);
    if (this.errorBody) return this.receivedErrorBody(n);
    if (n > this.unreceived) {
      this.fail(new Error(`the store sent ${n - this.unreceived} bytes past Content-Length`));
      return false;
    }
    this.unreceived -= n;
    this.stagedAt = 0;
    this.stagedEnd = n;
    return this.deliver();
  }

  /** Copies staged bytes into the waiting read; pauses when they are not all taken. */
  private deliver(): boolean {
    const read = this.pending;
    if (read) {
      const taken = this.staging.copy(read.target, read.filled, this.stagedAt, Math.min(this.stagedEnd, this.stagedAt + read.end - read.filled));
      read.filled += taken;
      this.stagedAt += taken;
      if (read.filled === read.end || (this.unreceived === 0 && this.stagedAt === this.stagedEnd)) {
        this.pending = null;
        this.socket.setTimeout(0);
        read.resolve(read.filled);
      }
    }
    if (this.unreceived === 0) this.socket.destroy();
    return this.stagedAt === this.stagedEnd && this.pending !== null;
  }

  /** The bytes landed in the waiting read's buffer already (nextReadBuffer kept them within the body). */
  private receivedInPlace(n: number): boolean {
    const read = this.pending!;
    read.filled += n;
    this.unreceived -= n;
    if (read.filled === read.end || this.unreceived === 0) {
      this.pending = null;
      this.socket.setTimeout(0);
      read.resolve(read.filled);
    }
    if (this.unreceived === 0) this.socket.destroy();
    return this.pending !== null;
  }

  private receivedHead(n: number): boolean {
    const head = Buffer.concat([this.head!, this.staging.subarray(0, n)]);
    const end = head.indexOf(HEAD_END);
    if (end < 0) {
      if (head.length > MAX_HEAD_BYTES) this.fail(new Error('response head too long'));
      this.head = head;
      return true;
    }
    this.head = null;
    const lines = head.subarray(0, end).toString('latin1').split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!status) return this.failOpen(new Error(`malformed response status line: ${JSON.stringify(lines[0]?.slice(0, 100))}`));
    this.status = Number(status[1]);
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) this.headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const body = head.subarray(end + HEAD_END.length);
    const declared = this.headers.get('content-length');
    const length = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : -1;
    if (this.status !== 200 && this.status !== 206) {
      this.errorBody = [body];
      this.unreceived = length < 0 ? MAX_ERROR_BODY_BYTES : Math.min(length, MAX_ERROR_BODY_BYTES);
      this.unreceived -= Math.min(this.unreceived, body.length);
      if (this.unreceived === 0) return this.failOpen(this.statusError());
      return true;
    }
    if (length < 0 || this.headers.has('transfer-encoding')) return this.failOpen(new Error('the store answered without a Content-Length body'));
    if (body.length > length) return this.failOpen(new Error('the store sent bytes past Content-Length'));
    this.length = length;
    this.unreceived = length - body.length;
    this.spill = body.length > 0 ? Buffer.from(body) : null;
    // Until the first read, nothing is read: the caller may not want the body at all.
    this.socket.setTimeout(0);
    this.settleOpen.resolve(this);
    if (this.unreceived === 0) this.socket.destroy();
    return false;
  }

  private receivedErrorBody(n: number): boolean {
    const taken = Math.min(n, this.unreceived);
    this.errorBody!.push(Buffer.from(this.staging.subarray(0, taken)));
    this.unreceived -= taken;
    if (this.unreceived === 0) return this.failOpen(this.statusError());
    return true;
  }

  private statusError(): HttpStatusError {
    return new HttpStatusError(this.status, Buffer.concat(this.errorBody ?? []).toString('utf8'));
  }

  private failOpen(err: Error): false {
    this.fail(err);
    return false;
  }

  /** The whole body came off the socket: a close now is the normal end. */
  private get receivedAll(): boolean {
    return this.head === null && this.errorBody === null && this.unreceived === 0;
  }

  private fail(err: Error): void {
    if (this.failure) return;
    if (this.receivedAll) {
      this.socket.destroy();
      return;
    }
    // An error body cut short by the close still names the status.
    if (this.errorBody) err = this.statusError();
    this.failure = err;
    this.socket.destroy();
    this.settleOpen.reject(err);
    const read = this.pending;
    this.pending = null;
    read?.reject(err);
  }
}
