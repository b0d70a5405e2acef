/**
 * Serves CardEndpoints over WebSocket: ws://HOST:PORT/se/<seId> (docs/protocol-websocket.md), plus GET /se,
 * a JSON listing. Any number of clients may connect to one SE; they share the card like readers in shared
 * mode. Every frame is answered synchronously from its 'message' event, so the exchanges of one SE are
 * processed strictly one after another in arrival order and never interleave.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { CardEndpoint } from '../gp/index.ts';
import { answerApdu, answerControl } from './ws-protocol.ts';

/** Largest frame accepted: an extended case 4 APDU (4 + 3 + 65535 + 2 bytes) with room to spare. */
export const MAX_FRAME_BYTES = 131072;
/** Close code sent to clients when the server shuts down. */
export const CLOSE_GOING_AWAY = 1001;

export interface SeServerOptions {
  /** Interface to listen on; 127.0.0.1 unless told otherwise. */
  host?: string;
  /** Port; 0 (the default) picks a free one. */
  port?: number;
  endpoints: Iterable<CardEndpoint>;
  /** Extra fields for an SE's entry in GET /se (e.g. type and MNO). */
  describe?: (endpoint: CardEndpoint) => Record<string, unknown>;
}

export interface SeServer {
  readonly host: string;
  /** The port actually bound. */
  readonly port: number;
  readonly seIds: string[];
  /** ws://HOST:PORT/se/<seId>; throws for an SE this server does not serve. */
  url(seId: string): string;
  /** Base http:// URL (GET /se lists the SEs). */
  readonly httpUrl: string;
  /** Closes every client (code 1001) and the listener; idempotent. */
  close(): Promise<void>;
}

export async function startSeServer(opts: SeServerOptions): Promise<SeServer> {
  const host = opts.host ?? '127.0.0.1';
  const endpoints = new Map<string, CardEndpoint>();
  for (const e of opts.endpoints) {
    if (endpoints.has(e.seId)) throw new Error(`two SEs share the id "${e.seId}"`);
    endpoints.set(e.seId, e);
  }
  const clients = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const http = createServer((req, res) => serveHttp(req, res));
  let port = 0;
  const base = (scheme: string) => `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const entry = (e: CardEndpoint) => ({
    seId: e.seId,
    url: `${base('ws')}/se/${encodeURIComponent(e.seId)}`,
    powered: e.powered,
    ...(opts.describe?.(e) ?? {}),
  });

  function serveHttp(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { error: 'only GET is served' });
    if (path === '/se' || path === '/se/') return send(200, { ses: [...endpoints.values()].map(entry) });
    const seId = seIdOf(path);
    const e = seId === undefined ? undefined : endpoints.get(seId);
    if (e) return send(200, entry(e));
    send(404, { error: seId === undefined ? `nothing at ${path}; GET /se lists the SEs` : unknownSe(seId) });
  }

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const seId = seIdOf(path);
    const endpoint = seId === undefined ? undefined : endpoints.get(seId);
    if (!endpoint) {
      const body = seId === undefined ? `nothing at ${path}; SEs are at /se/<seId>` : unknownSe(seId);
      socket.end(
        `HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws, endpoint));
  });

  function attach(ws: WebSocket, endpoint: CardEndpoint): void {
    clients.add(ws);
    ws.on('close', () => clients.delete(ws));
    // Protocol violations (oversized or malformed frames) make ws close the socket itself; nothing to add.
    ws.on('error', () => {});
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = toBytes(data);
      if (isBinary) ws.send(answerApdu(endpoint, bytes), { binary: true });
      else ws.send(JSON.stringify(answerControl(endpoint, Buffer.from(bytes).toString('utf8'))));
    });
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port ?? 0, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  port = (http.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    seIds: [...endpoints.keys()],
    httpUrl: base('http'),
    url(seId) {
      if (!endpoints.has(seId)) throw new Error(unknownSe(seId));
      return `${base('ws')}/se/${encodeURIComponent(seId)}`;
    },
    close() {
      closing ??= shutDown();
      return closing;
    },
  };

  async function shutDown(): Promise<void> {
    await Promise.all([...clients].map((ws) => closeClient(ws)));
    wss.close();
    await new Promise<void>((resolve) => {
      http.close(() => resolve());
      http.closeAllConnections();
    });
  }

  function unknownSe(seId: string): string {
    return `no SE "${seId}" on this simulator (serving: ${[...endpoints.keys()].join(', ') || 'none'})`;
  }
}

/** Closes with a handshake, but never waits on a client that does not answer it. */
function closeClient(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === ws.CLOSED) return resolve();
    const timer = setTimeout(() => ws.terminate(), 500);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.close(CLOSE_GOING_AWAY, 'simulator shutting down');
  });
}

function seIdOf(path: string): string | undefined {
  const m = /^\/se\/([^/]+)\/?$/.exec(path);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return undefined;
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
  return new Uint8Array(data);
}
