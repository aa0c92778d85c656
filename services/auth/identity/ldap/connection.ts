/**
 * One short-lived connection to the directory per operation, opened with the configured
 * TLS (ldaps:// or StartTLS, certificates verified against the CA bundle) and closed when
 * the operation ends. Every step has a time limit: ldapts's own connect and per-operation
 * timeouts, and over the whole operation a deadline that destroys the sockets, because a
 * StartTLS handshake with a server that never answers has no timeout of its own.
 */
import type { Socket } from 'node:net';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { Client } from 'ldapts';

/** How to reach the directory. */
export interface ConnectionSettings {
  url: string;
  startTls: boolean;
  /** PEM CA bundle; the system CAs when absent. */
  ca?: Buffer;
  timeoutMs: number;
}

export class DeadlineError extends Error {}

/** The host name certificates are checked against (the URL's host, brackets dropped). */
function hostOf(url: string): string {
  return new URL(url).hostname.replace(/^\[|\]$/g, '');
}

/**
 * Runs `fn` on a fresh connection (StartTLS done first when configured) and closes it; a
 * DeadlineError when the whole operation takes longer than `deadlineMs`.
 */
export async function withConnection<T>(settings: ConnectionSettings, deadlineMs: number, fn: (client: Client) => Promise<T>): Promise<T> {
  const sockets: Socket[] = [];
  const host = hostOf(settings.url);
  const tlsOptions: ConnectionOptions = { ...(settings.ca ? { ca: settings.ca } : {}), host, minVersion: 'TLSv1.2' };
  const client = new Client({
    url: settings.url,
    timeout: settings.timeoutMs,
    connectTimeout: settings.timeoutMs,
    // ldapts speaks TLS from the start whenever tlsOptions are given, so only for ldaps://.
    ...(/^ldaps:/i.test(settings.url) ? { tlsOptions } : {}),
    // The DNs we send come from the directory's own answers; pass them through as written.
    strictDN: false,
    createConnection: ((...args: Parameters<typeof netConnect>) => {
      const socket = netConnect(...(args as [never]));
      sockets.push(socket);
      return socket;
    }) as typeof netConnect,
    createSecureConnection: ((...args: Parameters<typeof tlsConnect>) => {
      const socket = tlsConnect(...(args as [never]));
      sockets.push(socket);
      return socket;
    }) as typeof tlsConnect,
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      for (const socket of sockets) socket.destroy();
      reject(new DeadlineError(`no answer from the directory within ${deadlineMs} ms`));
    }, deadlineMs);
  });
  const work = (async () => {
    if (settings.startTls) await client.startTLS({ ...tlsOptions });
    return fn(client);
  })();
  // The loser of the race must not surface as an unhandled rejection.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    // Not awaited: unbind has no reply; ldapts closes the socket once the request is written.
    client.unbind().catch(() => undefined);
  }
}
