/**
 * A CardChannel over the WebSocket SE access protocol (docs/protocol-websocket.md). The server answers every
 * frame, in order, so replies are matched to requests by position; an exchange that timed out or was
 * aborted keeps its place in the queue and its late reply is dropped, so later replies stay aligned.
 */
import WebSocket, { type RawData } from 'ws';
import { DriverError, type CardChannel, type TransmitOptions } from './channel.ts';
import { DEFAULT_EXCHANGE_TIMEOUT_MS, guarded } from './deadline.ts';
import type { PowerControl } from './extensions.ts';

export interface WebSocketChannelOptions {
  /** Default deadline per exchange, ms. */
  timeoutMs?: number;
  /** Deadline for opening the connection, ms (default: timeoutMs). */
  connectTimeoutMs?: number;
  /** Cancels the connection attempt. */
  signal?: AbortSignal;
  /** Overrides the channel's name (default: the URL). */
  name?: string;
}

type Pending =
  | { expect: 'apdu'; resolve(v: Uint8Array): void; reject(e: DriverError): void }
  | { expect: 'control'; request: string; resolve(v: Record<string, unknown>): void; reject(e: DriverError): void };

const MAX_FRAME_BYTES = 131072;

export class WebSocketChannel implements CardChannel, PowerControl {
  private readonly pending: Pending[] = [];
  private closedBecause: string | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly name: string,
    private readonly ws: WebSocket,
    private readonly timeoutMs: number,
  ) {
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', (code, reason) => {
      const why = reason.length ? `${code} ${reason.toString()}` : `${code}`;
      this.shutDown(`connection closed by the far end (${why})`);
    });
    // 'close' always follows 'error'; the error text is folded into the reason there.
    ws.on('error', (e) => this.shutDown(`connection failed: ${e.message}`));
  }

  /** Opens ws://HOST:PORT/se/<seId>; an unknown SE rejects with DriverError('unavailable'). */
  static connect(url: string, opts: WebSocketChannelOptions = {}): Promise<WebSocketChannel> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_EXCHANGE_TIMEOUT_MS;
    const name = opts.name ?? url;
    let ws: WebSocket | undefined;
    const attempt = guarded(
      { signal: opts.signal, timeoutMs: opts.connectTimeoutMs ?? timeoutMs },
      timeoutMs,
      `connect ${url}`,
      () =>
        new Promise<WebSocketChannel>((resolve, reject) => {
          try {
            ws = new WebSocket(url, { maxPayload: MAX_FRAME_BYTES });
          } catch (e) {
            return reject(new DriverError('unavailable', `${url}: not a WebSocket URL (${(e as Error).message})`));
          }
          const socket = ws;
          socket.binaryType = 'nodebuffer';
          socket.once('open', () => {
            socket.removeAllListeners();
            resolve(new WebSocketChannel(name, socket, timeoutMs));
          });
          socket.once('unexpected-response', (req, res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (body += chunk.slice(0, 500)));
            res.on('end', () => {
              req.destroy();
              const kind = res.statusCode === 404 ? 'unavailable' : 'protocol';
              reject(new DriverError(kind, `${url}: HTTP ${res.statusCode}${body ? ` ${body.trim()}` : ''}`));
            });
          });
          socket.on('error', (e) => reject(new DriverError('unavailable', `${url}: cannot connect: ${e.message}`)));
        }),
    );
    // A timed-out or aborted attempt must not leave a socket behind.
    attempt.catch(() => ws?.terminate());
    return attempt;
  }

  transmit(command: Uint8Array, opts?: TransmitOptions): Promise<Uint8Array> {
    return this.exchange('transmit', opts, () => {
      const p = new Promise<Uint8Array>((resolve, reject) => this.pending.push({ expect: 'apdu', resolve, reject }));
      this.ws.send(command, { binary: true });
      return p;
    });
  }

  async atr(opts?: TransmitOptions): Promise<Uint8Array> {
    return hexField(await this.control({ type: 'atr' }, opts), this.name);
  }

  async reset(cold = false, opts?: TransmitOptions): Promise<Uint8Array> {
    return hexField(await this.control({ type: 'reset', cold }, opts), this.name);
  }

  async power(on: boolean, opts?: TransmitOptions): Promise<Uint8Array | undefined> {
    const reply = await this.control({ type: 'power', on }, opts);
    return on ? hexField(reply, this.name) : undefined;
  }

  /** Sends one JSON control message and resolves with its JSON reply; an "error" reply rejects. */
  control(message: { type: string } & Record<string, unknown>, opts?: TransmitOptions): Promise<Record<string, unknown>> {
    return this.exchange(message.type, opts, () => {
      const p = new Promise<Record<string, unknown>>((resolve, reject) =>
        this.pending.push({ expect: 'control', request: message.type, resolve, reject }),
      );
      this.ws.send(JSON.stringify(message));
      return p;
    });
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.shutDown('channel closed by the harness');
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      const timer = setTimeout(() => this.ws.terminate(), 500);
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.close(1000, 'done');
    });
    return this.closing;
  }

  private exchange<T>(what: string, opts: TransmitOptions | undefined, send: () => Promise<T>): Promise<T> {
    if (this.closedBecause !== undefined) {
      return Promise.reject(new DriverError('closed', `${this.name}: ${what} on a closed channel (${this.closedBecause})`));
    }
    return guarded(opts, this.timeoutMs, `${this.name} ${what}`, send);
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const waiting = this.pending.shift();
    // Nothing asked for this frame: the server broke the protocol; there is no one to tell but the next caller.
    if (!waiting) return;
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
    const text = isBinary ? undefined : bytes.toString('utf8');
    const json = text === undefined ? undefined : parseObject(text);
    if (waiting.expect === 'apdu') {
      if (isBinary && bytes.length >= 2) return waiting.resolve(new Uint8Array(bytes));
      const why = json?.type === 'error' ? String(json.message) : isBinary ? `${bytes.length}-byte response` : `text ${text}`;
      return waiting.reject(new DriverError('protocol', `${this.name}: expected a response APDU, got ${why}`));
    }
    if (!json) {
      return waiting.reject(
        new DriverError('protocol', `${this.name}: expected a JSON reply to "${waiting.request}", got ${isBinary ? 'binary' : text}`),
      );
    }
    if (json.type === 'error') {
      return waiting.reject(new DriverError('protocol', `${this.name}: "${waiting.request}" refused: ${String(json.message)}`));
    }
    if (json.type !== waiting.request) {
      return waiting.reject(
        new DriverError('protocol', `${this.name}: expected a "${waiting.request}" reply, got "${String(json.type)}"`),
      );
    }
    waiting.resolve(json);
  }

  private shutDown(reason: string): void {
    if (this.closedBecause !== undefined) return;
    this.closedBecause = reason;
    for (const p of this.pending.splice(0)) p.reject(new DriverError('closed', `${this.name}: ${reason}`));
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function hexField(reply: Record<string, unknown>, name: string): Uint8Array {
  const hex = reply.hex;
  if (typeof hex !== 'string' || !/^([0-9a-fA-F]{2})+$/.test(hex)) {
    throw new DriverError('protocol', `${name}: "${String(reply.type)}" reply without a valid "hex" ATR`);
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
