/**
 * A TCP forwarder on a fixed loopback port that a test can stall (traffic silently dropped:
 * a network partition), cut (every connection closed, new ones refused: the database host
 * is down) and restore on the same port, so a service configured with the proxy's address
 * loses and regains its database.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** A proxy to one upstream address. */
export class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private listenPort = 0;
  private stalled = false;
  /** Bytes dropped while stalled (a test waits for them to know a query is stuck). */
  swallowed = 0;

  constructor(
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
  ) {}

  /** The loopback port clients connect to (fixed after the first start). */
  get port(): number {
    return this.listenPort;
  }

  /** Starts forwarding (on the same port as before after a cut). */
  async start(): Promise<void> {
    this.stalled = false;
    if (this.server) return;
    const server = createServer((client) => {
      const upstream = connect(this.upstreamPort, this.upstreamHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      // Forwarded by hand rather than piped, so a stall can swallow traffic like a dead network.
      const forward = (from: Socket, to: Socket) =>
        from.on('data', (data: Buffer) => {
          if (this.stalled) this.swallowed += data.length;
          else to.write(data);
        });
      forward(client, upstream);
      forward(upstream, client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenPort, '127.0.0.1', () => resolve());
    });
    this.listenPort = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** From now on drops every byte in both directions, connections staying open: a network that went silent. */
  stall(): void {
    this.stalled = true;
  }

  /** Closes every open connection and stops accepting new ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
