/**
 * The live trace viewer: an express server for the static page and the event details, a WebSocket that
 * streams compact rows in batches. Sources: the in-process bus, a saved NDJSON trace (replay), or a directory
 * of trace files written by other processes (Cucumber workers), followed as they grow.
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseTraceLine, readTrace, subscribe as busSubscribe, type TraceEvent } from '../trace/index.ts';
import { EventStore } from './store.ts';

export type ViewerSource =
  | 'bus'
  | { subscribe: (listener: (e: TraceEvent) => void) => () => void }
  | { file: string }
  | { followDir: string; pattern?: RegExp; intervalMs?: number };

export interface ViewerOptions {
  /** Default 127.0.0.1: the trace may show card data; expose it deliberately. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  source?: ViewerSource | ViewerSource[];
  /** Events kept in memory (older ones are dropped from the page too). Default 200 000. */
  maxEvents?: number;
  title?: string;
  /** Milliseconds between live batches. Default 50. */
  batchMs?: number;
}

export interface Viewer {
  url: string;
  host: string;
  port: number;
  store: EventStore;
  /** Adds an event as if a source had delivered it. */
  push(event: TraceEvent): void;
  /** Resolves when every file source has been read once (replay loaded, followed files caught up). */
  ready: Promise<void>;
  close(): Promise<void>;
}

export class ViewerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ViewerError';
  }
}

const staticDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'static');
const BACKLOG_CHUNK = 5000;
const MAX_BUFFERED = 32 * 1024 * 1024;

interface Client {
  ws: WebSocket;
  next: number;
}

/** Tails NDJSON files in a directory: complete lines only, each file from where it was left. */
function followDir(dir: string, pattern: RegExp, intervalMs: number, onEvent: (e: TraceEvent) => void): { stop(): void; caughtUp: Promise<void> } {
  const offsets = new Map<string, { pos: number; rest: string; line: number }>();
  const buf = Buffer.alloc(1024 * 1024);
  const poll = () => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).filter((n) => pattern.test(n)).sort()) {
      const file = path.join(dir, name);
      const st = offsets.get(file) ?? { pos: 0, rest: '', line: 0 };
      offsets.set(file, st);
      const size = statSync(file).size;
      if (size < st.pos) Object.assign(st, { pos: 0, rest: '', line: 0 }); // truncated: start over
      if (size === st.pos) continue;
      const fd = openSync(file, 'r');
      try {
        while (st.pos < size) {
          const n = readSync(fd, buf, 0, Math.min(buf.length, size - st.pos), st.pos);
          if (n <= 0) break;
          st.pos += n;
          const text = st.rest + buf.toString('utf8', 0, n);
          const lines = text.split('\n');
          st.rest = lines.pop() ?? '';
          for (const l of lines) {
            st.line++;
            if (!l.trim()) continue;
            try {
              onEvent(parseTraceLine(l, file, st.line));
            } catch {
              /* a torn or foreign line: skip it, keep following */
            }
          }
        }
      } finally {
        closeSync(fd);
      }
    }
  };
  poll();
  const timer = setInterval(poll, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), caughtUp: Promise.resolve() };
}

export async function startViewer(opts: ViewerOptions = {}): Promise<Viewer> {
  const host = opts.host ?? '127.0.0.1';
  const store = new EventStore(opts.maxEvents ?? 200_000);
  const clients = new Set<Client>();
  const title = opts.title ?? 'tsmlab trace';
  const stops: (() => void)[] = [];
  const loads: Promise<void>[] = [];

  const app = express();
  app.disable('x-powered-by');
  app.get('/api/info', (_req, res) => {
    res.json({ title, size: store.size, next: store.next });
  });
  app.get('/api/event/:i', (req, res) => {
    const i = Number(req.params.i);
    const d = Number.isInteger(i) ? store.detail(i) : undefined;
    if (!d) {
      res.status(404).json({ error: `no event ${req.params.i} (dropped or never seen)` });
      return;
    }
    res.json(d);
  });
  app.use(express.static(staticDir, { index: 'index.html', maxAge: 0 }));

  const server: Server = createServer(app);
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (ws) => {
    const c: Client = { ws, next: store.next };
    ws.send(JSON.stringify({ type: 'hello', title, total: store.next }));
    // The backlog goes out in chunks so the page can render the first screen before the rest arrives.
    const backlog = store.rowsFrom(0);
    for (let k = 0; k < backlog.length; k += BACKLOG_CHUNK) ws.send(JSON.stringify({ type: 'rows', rows: backlog.slice(k, k + BACKLOG_CHUNK) }));
    c.next = store.next;
    clients.add(c);
    ws.on('close', () => clients.delete(c));
    ws.on('error', () => clients.delete(c));
    // The page sends nothing the server needs; unknown messages are ignored rather than closing the socket.
    ws.on('message', () => undefined);
  });

  const flush = () => {
    for (const c of clients) {
      if (c.next >= store.next || c.ws.readyState !== c.ws.OPEN) continue;
      if (c.ws.bufferedAmount > MAX_BUFFERED) continue; // a slow page catches up on a later tick
      const rows = store.rowsFrom(c.next);
      c.next = store.next;
      for (let k = 0; k < rows.length; k += BACKLOG_CHUNK) c.ws.send(JSON.stringify({ type: 'rows', rows: rows.slice(k, k + BACKLOG_CHUNK) }));
    }
  };
  const timer = setInterval(flush, opts.batchMs ?? 50);
  timer.unref();

  const push = (e: TraceEvent) => {
    store.add(e);
  };

  const sources = Array.isArray(opts.source) ? opts.source : [opts.source ?? 'bus'];
  for (const s of sources) {
    if (s === 'bus') stops.push(busSubscribe(push));
    else if ('subscribe' in s) stops.push(s.subscribe(push));
    else if ('file' in s) {
      if (!existsSync(s.file)) throw new ViewerError(`trace file not found: ${s.file}`);
      loads.push(
        (async () => {
          for await (const e of readTrace(s.file)) push(e);
        })(),
      );
    } else {
      const f = followDir(s.followDir, s.pattern ?? /^trace-.*\.ndjson$/, s.intervalMs ?? 250, push);
      stops.push(f.stop);
      loads.push(f.caughtUp);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new ViewerError(`cannot listen on ${host}:${opts.port ?? 0}: ${(e as Error).message}`)));
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const ready = Promise.all(loads).then(() => undefined);
  ready.catch(() => undefined); // the caller sees the failure through `ready`; never an unhandled rejection
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    host,
    port,
    store,
    push,
    ready,
    close: async () => {
      clearInterval(timer);
      for (const s of stops) s();
      for (const c of clients) c.ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
