// A directory that accepts connections and never answers must not stall anyone else: the
// local user's login, the admin API and robots keep working while directory logins hang;
// those use at most `maxconnections` sockets, a queue of bounded length, and fail with 503
// (audited) when their time is up or the queue is full. No timing is asserted: a stall
// would show as this file's tests never finishing.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { adminApi, startHarness, type AuthHarness, type Reply } from '../harness.js';
import { openLdapConfig } from './config.js';
import { lastAudit, login } from './helpers.js';

/** A TCP server that accepts and then says nothing. */
async function silentServer(): Promise<{ url: string; sockets: Set<Socket>; accepted: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `ldap://127.0.0.1:${port}`,
    sockets,
    accepted: () => accepted,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A server that accepts StartTLS (a success ExtendedResponse to the client's first
 * message) and then never takes part in the TLS handshake: only the deadline over the
 * whole operation ends that wait (ldapts has no timeout for the handshake).
 */
async function stuckStartTls(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('data', (request: Buffer) => {
      // LDAPMessage: 30 LEN 02 IDLEN ID...; answer with the same message id, resultCode 0.
      const id = request.subarray(4, 4 + request[3]!);
      const op = Buffer.from([0x78, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00]);
      const body = Buffer.concat([Buffer.from([0x02, id.length]), id, op]);
      socket.write(Buffer.concat([Buffer.from([0x30, body.length]), body]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `ldap://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('a directory that never answers', () => {
  let silent: Awaited<ReturnType<typeof silentServer>>;
  let h: AuthHarness;
  const MAX_CONNECTIONS = 2;

  before(async () => {
    silent = await silentServer();
    // Long limits: the hanging logins stay in flight for the whole test.
    h = await startHarness({ config: { ldap: openLdapConfig(silent.url, { timeoutSeconds: 120, maxConnections: MAX_CONNECTIONS }) } });
    assert.equal((await adminApi(h, 'POST', '/users', { name: 'local', password: 'local-password-1' })).status, 201);
  });
  after(async () => {
    await silent?.close();
    await h?.close();
  });

  it('does not delay local logins, the admin API or robots; directory logins hold a bounded number of sockets', async () => {
    const waiting = MAX_CONNECTIONS * 4;
    const hanging: Array<Promise<Reply>> = [];
    for (let i = 0; i < MAX_CONNECTIONS + waiting; i += 1) hanging.push(login(h, `dir${i}`, 'directory-password'));
    // Wait until the directory holds its full share of connections.
    while (silent.accepted() < MAX_CONNECTIONS) await new Promise((resolve) => setTimeout(resolve, 20));

    assert.equal((await login(h, 'local', 'local-password-1')).status, 200);
    assert.equal((await adminApi(h, 'GET', '/users')).status, 200);
    const robot = await adminApi(h, 'POST', '/robots', { name: 'ci' });
    assert.equal((await login(h, String(robot.body.username), String(robot.body.secret))).status, 200);

    // The queue is full: one more directory login fails at once instead of piling up.
    const overflow = await login(h, 'one-too-many', 'directory-password');
    assert.equal(overflow.status, 503, overflow.text);
    assert.equal((await lastAudit(h, 'one-too-many')).details.reason, 'directory_unavailable');
    assert.equal(silent.accepted(), MAX_CONNECTIONS, 'no more sockets than maxconnections');

    // The directory goes away: every hanging login ends, with 503, and none got in.
    for (const socket of silent.sockets) socket.destroy();
    // Queued ones reach the (now closing) server in turn; keep dropping them.
    const dropper = setInterval(() => {
      for (const socket of silent.sockets) socket.destroy();
    }, 20);
    try {
      const replies = await Promise.all(hanging);
      assert.deepEqual(new Set(replies.map((r) => r.status)), new Set([503]));
    } finally {
      clearInterval(dropper);
    }
  });

  it('a StartTLS handshake that never completes ends at the sign-in deadline with 503', { timeout: 60_000 }, async () => {
    const stuck = await stuckStartTls();
    const quick = await startHarness({ config: { ldap: openLdapConfig(stuck.url, { startTls: true, timeoutSeconds: 1, maxConnections: 1 }) } });
    try {
      const r = await login(quick, 'someone', 'directory-password');
      assert.equal(r.status, 503, r.text);
      assert.match(String((await lastAudit(quick, 'someone')).details.directory), /within/);
    } finally {
      await quick.close();
      await stuck.close();
    }
  });

  it('a directory login ends with 503 once the operation timeout passes', async () => {
    const quick = await startHarness({ config: { ldap: openLdapConfig(silent.url, { timeoutSeconds: 1, maxConnections: 1 }) } });
    try {
      const r = await login(quick, 'someone', 'directory-password');
      assert.equal(r.status, 503, r.text);
      const audit = await lastAudit(quick, 'someone');
      assert.equal(audit.outcome, 'unavailable');
      assert.match(String(audit.details.directory), /timed out|within/i);
    } finally {
      await quick.close();
    }
  });
});
