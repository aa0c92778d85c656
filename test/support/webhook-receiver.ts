/**
 * A webhook receiver for the notification tests: a real HTTP server on 127.0.0.1 that
 * records every request (headers and exact body bytes). It can go down (stop listening,
 * connections refused) and come back on the same port, answer with an error status, or
 * hang (never answer, as a stuck CI server does).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type ReceiverMode = 'ok' | 'error' | 'hang';

export interface ReceivedEvent {
  id: string;
  action: string;
  target: Record<string, unknown>;
  [key: string]: unknown;
}

export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  mode: ReceiverMode = 'ok';
  /** Requests that arrived, whatever the answer (also those refused or left hanging). */
  arrivals = 0;
  private server: Server;
  port = 0;

  private constructor() {
    this.server = this.newServer();
  }

  private newServer(): Server {
    return createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.arrivals++;
        if (this.mode === 'hang') return;
        if (this.mode === 'error') {
          res.writeHead(503).end();
          return;
        }
        this.requests.push({ headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(200).end();
      });
    });
  }

  static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    await receiver.up();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/events`;
  }

  /** Listens (again) on the same port as before. */
  async up(): Promise<void> {
    this.server = this.newServer();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stops listening and cuts open connections: deliveries are refused until up(). */
  async down(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Every event received, in arrival order (envelopes flattened). */
  events(): ReceivedEvent[] {
    return this.requests.flatMap((r) => (JSON.parse(r.body.toString('utf8')) as { events: ReceivedEvent[] }).events);
  }

  /** Waits until `done(events)` holds (polling); fails after `timeoutMs` with what arrived. */
  async waitFor(done: (events: ReceivedEvent[]) => boolean, timeoutMs = 20_000): Promise<ReceivedEvent[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const events = this.events();
      if (done(events)) return events;
      if (Date.now() > deadline) throw new Error(`receiver: condition not met within ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => [e.action, e.target]))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async close(): Promise<void> {
    this.mode = 'ok';
    if (this.server.listening) await this.down();
  }
}
