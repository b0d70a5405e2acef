/**
 * The vpcd bridge: a simulated SE becomes a card in a virtual reader of Debian's vsmartcard-vpcd driver for
 * pcscd, so PC/SC clients (our pcsc driver, opensc-tool, anything) reach it for real.
 *
 * vpcd listens; the card is the TCP client. Every message, both ways, is a 2-byte big-endian length and a
 * payload. A 1-byte payload from vpcd is a control: 00 power off, 01 power on, 02 reset (none of them is
 * answered), 04 get ATR (answered with the ATR). A longer payload is a command APDU, answered data ‖ SW.
 * A zero-length answer means "card removed" to vpcd, so the card never sends one.
 */
import { Socket } from 'node:net';
import type { CardEndpoint } from '../gp/index.ts';
import { answerApdu, SW_NO_PRECISE_DIAGNOSIS } from './ws-protocol.ts';

/** vpcd's first reader slot; slot n of a reader listens on its base port + n. */
export const VPCD_DEFAULT_PORT = 0x8c7b;

export const VpcdControl = { POWER_OFF: 0x00, POWER_ON: 0x01, RESET: 0x02, GET_ATR: 0x04 } as const;

export interface VpcdOptions {
  host?: string;
  port?: number;
  /** First wait before reconnecting after vpcd refused or dropped the connection, ms (doubles up to 2 s). */
  reconnectMs?: number;
  /** Told about connection changes (for `tsmlab sim` to print, and for tests to wait on). */
  onState?: (state: VpcdState, detail?: string) => void;
}

export type VpcdState = 'connecting' | 'inserted' | 'removed' | 'closed';

export interface VpcdAttachment {
  /** "HOST:PORT" of the vpcd slot. */
  readonly address: string;
  /** Whether the card is currently connected to vpcd (inserted in the virtual reader). */
  readonly inserted: boolean;
  /** Resolves once the card is connected to vpcd (at once if it is). */
  whenInserted(): Promise<void>;
  /** Removes the card from the reader and stops reconnecting; idempotent. */
  close(): Promise<void>;
}

const MAX_BACKOFF_MS = 2000;

/** Splits a byte stream into vpcd messages (2-byte big-endian length + payload). */
export class VpcdFramer {
  private buffer = new Uint8Array(0);

  push(chunk: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    const out: Uint8Array[] = [];
    let pos = 0;
    while (joined.length - pos >= 2) {
      const len = (joined[pos] << 8) | joined[pos + 1];
      if (joined.length - pos - 2 < len) break;
      out.push(joined.slice(pos + 2, pos + 2 + len));
      pos += 2 + len;
    }
    this.buffer = joined.slice(pos);
    return out;
  }
}

export function vpcdFrame(payload: Uint8Array): Uint8Array {
  if (payload.length === 0) throw new RangeError('vpcd: a zero-length message means card removal; never sent');
  if (payload.length > 0xffff) throw new RangeError(`vpcd: message of ${payload.length} bytes exceeds 65535`);
  const out = new Uint8Array(payload.length + 2);
  out[0] = payload.length >> 8;
  out[1] = payload.length & 0xff;
  out.set(payload, 2);
  return out;
}

/**
 * What the card answers to one vpcd message, or undefined when vpcd expects no answer (power and reset).
 * Never throws and never answers zero bytes.
 */
export function answerVpcd(endpoint: CardEndpoint, message: Uint8Array): Uint8Array | undefined {
  if (message.length === 0) return undefined;
  if (message.length > 1) {
    const response = answerApdu(endpoint, message);
    return response.length > 0xffff ? SW_NO_PRECISE_DIAGNOSIS : response;
  }
  try {
    switch (message[0]) {
      case VpcdControl.POWER_OFF:
        endpoint.powerOff();
        return undefined;
      case VpcdControl.POWER_ON:
        endpoint.powerOn();
        return undefined;
      case VpcdControl.RESET:
        // vpcd has one reset control: treat it as a warm reset (pcscd issues it for SCARD_RESET_CARD).
        endpoint.reset(false);
        return undefined;
      case VpcdControl.GET_ATR:
        // pcscd polls the ATR whether or not the card is powered: always answer it.
        return endpoint.atr();
      default:
        // Not a control vpcd defines: a card cannot answer a one-byte message meaningfully, so ignore it.
        return undefined;
    }
  } catch {
    return message[0] === VpcdControl.GET_ATR ? SW_NO_PRECISE_DIAGNOSIS : undefined;
  }
}

/** Parses "HOST:PORT", "HOST" or ":PORT" (and "[v6]:PORT") for `tsmlab sim --vpcd`. */
export function parseVpcdAddress(text: string | undefined): { host: string; port: number } {
  const def = { host: '127.0.0.1', port: VPCD_DEFAULT_PORT };
  if (text === undefined || text === '' || text === 'true') return def;
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(text.trim());
  if (!m) throw new RangeError(`not a vpcd address: "${text}" (HOST:PORT, e.g. 127.0.0.1:${VPCD_DEFAULT_PORT})`);
  const host = m[1] ?? (m[2] || def.host);
  const port = m[3] === undefined ? def.port : Number(m[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`not a TCP port: "${m[3]}" in "${text}"`);
  return { host, port };
}

/**
 * Attaches `endpoint` as the card of the vpcd slot at host:port (default 127.0.0.1:35963). Keeps reconnecting
 * while vpcd is down or restarts; `close()` removes the card. Several SEs: one attachment per slot port.
 */
export function attachVpcd(endpoint: CardEndpoint, opts: VpcdOptions = {}): VpcdAttachment {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? VPCD_DEFAULT_PORT;
  const firstBackoff = opts.reconnectMs ?? 100;
  let backoff = firstBackoff;
  let socket: Socket | undefined;
  let inserted = false;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let waiters: { resolve(): void; reject(e: Error): void }[] = [];
  const tell = (s: VpcdState, detail?: string) => {
    try {
      opts.onState?.(s, detail);
    } catch {
      // An observer's mistake must not break the card.
    }
  };

  const connect = () => {
    if (closed) return;
    tell('connecting');
    const s = new Socket();
    socket = s;
    const framer = new VpcdFramer();
    s.setNoDelay(true);
    s.on('connect', () => {
      inserted = true;
      backoff = firstBackoff;
      tell('inserted', `${host}:${port}`);
      for (const w of waiters.splice(0)) w.resolve();
    });
    s.on('data', (chunk: Buffer) => {
      for (const message of framer.push(chunk)) {
        const answer = answerVpcd(endpoint, message);
        if (answer) s.write(vpcdFrame(answer));
      }
    });
    s.on('error', () => {
      // 'close' follows and decides what to do; the error itself is the usual "vpcd not up yet".
    });
    s.on('close', () => {
      if (socket === s) socket = undefined;
      if (inserted) {
        inserted = false;
        // Out of the reader the card has no power: its session (selection, secure channel) is gone.
        try {
          endpoint.powerOff();
        } catch {
          // The card's own failure cannot be reported to anyone here.
        }
        tell('removed');
      }
      if (closed) return;
      retry = setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    });
    s.connect(port, host);
  };
  connect();

  return {
    address: `${host}:${port}`,
    get inserted() {
      return inserted;
    },
    whenInserted() {
      if (inserted) return Promise.resolve();
      if (closed) return Promise.reject(new Error(`vpcd ${host}:${port}: attachment closed`));
      return new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      clearTimeout(retry);
      for (const w of waiters.splice(0)) w.reject(new Error(`vpcd ${host}:${port}: attachment closed`));
      const s = socket;
      if (!s) {
        tell('closed');
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        s.once('close', () => {
          tell('closed');
          resolve();
        });
        s.destroy();
      });
    },
  };
}
