/**
 * The SP's callback endpoint in a scenario: a real HTTP listener on 127.0.0.1 (port 0) that records every POST
 * the central TSM makes to it. Steps wait for a delivery with `next`, never by sleeping.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CallbackDelivery {
  path: string;
  headers: IncomingMessage['headers'];
  /** The parsed JSON body (undefined when it was not JSON; `raw` has it then). */
  body: Record<string, unknown> | undefined;
  raw: string;
}

export class CallbackTimeout extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CallbackTimeout';
  }
}

const MAX_BODY = 1024 * 1024;

export class CallbackReceiver {
  readonly deliveries: CallbackDelivery[] = [];
  private waiters: { match: (d: CallbackDelivery) => boolean; resolve: (d: CallbackDelivery) => void }[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** Starts listening; the SP registers `url` as its callback URL. */
  static async start(path = '/tsm-callback'): Promise<CallbackReceiver> {
    let receiver: CallbackReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY) chunks.push(c);
      });
      req.on('end', () => {
        if (req.method !== 'POST') {
          res.writeHead(405).end();
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown> | undefined;
        try {
          const parsed: unknown = JSON.parse(raw);
          if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
        } catch {
          body = undefined;
        }
        res.writeHead(204).end();
        receiver!.record({ path: req.url ?? '/', headers: req.headers, body, raw });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    receiver = new CallbackReceiver(server, `http://127.0.0.1:${port}${path}`);
    return receiver;
  }

  /** The first delivery (already received or still to come) that matches, within `timeoutMs`. */
  next(match: (d: CallbackDelivery) => boolean = () => true, timeoutMs = 10_000): Promise<CallbackDelivery> {
    const found = this.deliveries.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (d: CallbackDelivery) => {
          clearTimeout(timer);
          resolve(d);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new CallbackTimeout(`no matching callback within ${timeoutMs} ms (received ${this.deliveries.length})`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private record(d: CallbackDelivery): void {
    this.deliveries.push(d);
    const w = this.waiters.find((x) => x.match(d));
    if (w) {
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(d);
    }
  }
}
