/**
 * The only door to the `pcsclite` native module: loaded lazily, on first use, so tsmlab runs where it cannot
 * load (no libpcsclite, no build tools) and only the PC/SC commands say what to install. Also maps PC/SC
 * error codes to DriverError kinds.
 */
import { createRequire } from 'node:module';
import { DriverError, type DriverErrorKind } from './channel.ts';

export const PCSC_INSTALL_HINT =
  'PC/SC support needs the pcsclite native module: apt-get install libpcsclite-dev pcscd && npm rebuild pcsclite';

export const PCSCD_NOT_RUNNING_HINT =
  'pcscd is not running (start it: systemctl start pcscd.socket, or run pcscd --foreground)';

/** The parts of pcsclite's CardReader tsmlab uses (declared here: the package is optional). */
export interface NativeReader {
  readonly name: string;
  readonly connected: boolean;
  readonly SCARD_SHARE_SHARED: number;
  readonly SCARD_SHARE_EXCLUSIVE: number;
  readonly SCARD_PROTOCOL_T0: number;
  readonly SCARD_PROTOCOL_T1: number;
  readonly SCARD_STATE_EMPTY: number;
  readonly SCARD_STATE_PRESENT: number;
  readonly SCARD_STATE_EXCLUSIVE: number;
  readonly SCARD_STATE_INUSE: number;
  readonly SCARD_STATE_MUTE: number;
  readonly SCARD_LEAVE_CARD: number;
  readonly SCARD_RESET_CARD: number;
  readonly SCARD_UNPOWER_CARD: number;
  on(event: 'status', listener: (status: { state: number; atr?: Buffer }) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'end', listener: () => void): this;
  removeAllListeners(event?: string): this;
  get_status(cb: (err: Error | null | undefined, state: number, atr?: Buffer) => void): void;
  connect(options: { share_mode?: number; protocol?: number }, cb: (err: Error | null | undefined, protocol: number) => void): void;
  disconnect(disposition: number, cb: (err: Error | null | undefined) => void): void;
  transmit(data: Buffer, resLen: number, protocol: number, cb: (err: Error | null | undefined, response: Buffer) => void): void;
  close(): void;
}

export interface NativeContext {
  on(event: 'reader', listener: (reader: NativeReader) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  removeAllListeners(event?: string): this;
  emit(event: string, ...args: unknown[]): boolean;
  /** Native; called by pcsclite on the next tick with a callback run for every change of the reader list. */
  start: (cb: (err: Error | null | undefined, data: Buffer) => void) => void;
  close(): void;
}

export type NativeFactory = () => NativeContext;

let cached: NativeFactory | undefined;

/** Loads pcsclite once; throws DriverError('unavailable') with the install hint when it cannot load. */
export function loadPcsclite(): NativeFactory {
  if (cached) return cached;
  try {
    const require = createRequire(import.meta.url);
    const mod = require('pcsclite') as unknown;
    if (typeof mod !== 'function') throw new Error('unexpected module shape');
    cached = mod as NativeFactory;
    return cached;
  } catch (e) {
    throw new DriverError('unavailable', `${PCSC_INSTALL_HINT} (${firstLine(e)})`);
  }
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

/** PC/SC return codes (pcsclite.h) that tsmlab tells apart. */
export const ScardCode = {
  E_NO_SERVICE: 0x8010001d,
  E_SERVICE_STOPPED: 0x8010001e,
  E_NO_READERS_AVAILABLE: 0x8010002e,
  E_UNKNOWN_READER: 0x80100009,
  E_READER_UNAVAILABLE: 0x80100017,
  E_NO_SMARTCARD: 0x8010000c,
  W_REMOVED_CARD: 0x80100069,
  W_RESET_CARD: 0x80100068,
  W_UNPOWERED_CARD: 0x80100067,
  W_UNRESPONSIVE_CARD: 0x80100066,
  E_SHARING_VIOLATION: 0x8010000b,
  E_INSUFFICIENT_BUFFER: 0x80100008,
  E_INVALID_PARAMETER: 0x80100004,
  E_NOT_TRANSACTED: 0x80100016,
  E_COMM_ERROR: 0x80100013,
  E_PROTO_MISMATCH: 0x8010000f,
  E_TIMEOUT: 0x8010000a,
} as const;

/** The PC/SC code in a pcsclite error message ("SCardTransmit error: Card was removed.(0x80100069)"). */
export function scardCodeOf(e: unknown): number | undefined {
  const m = /\(0x([0-9a-f]{8})\)/i.exec(e instanceof Error ? e.message : String(e));
  return m ? parseInt(m[1], 16) : undefined;
}

/** Turns a pcsclite failure into the DriverError the harness understands; `what` names the operation. */
export function driverErrorOf(e: unknown, what: string): DriverError {
  if (e instanceof DriverError) return e;
  const code = scardCodeOf(e);
  const text = firstLine(e);
  let kind: DriverErrorKind = 'protocol';
  let why = text;
  switch (code) {
    case ScardCode.E_NO_SERVICE:
    case ScardCode.E_SERVICE_STOPPED:
      kind = 'unavailable';
      why = `${PCSCD_NOT_RUNNING_HINT}: ${text}`;
      break;
    case ScardCode.E_NO_SMARTCARD:
    case ScardCode.W_REMOVED_CARD:
      kind = 'removed';
      why = `the card was removed: ${text}`;
      break;
    case ScardCode.E_READER_UNAVAILABLE:
    case ScardCode.E_UNKNOWN_READER:
      kind = 'removed';
      why = `the reader went away: ${text}`;
      break;
    case ScardCode.W_RESET_CARD:
      // Someone else reset the card: our session (selection, secure channel) is gone just as if it had been pulled.
      kind = 'removed';
      why = `the card was reset by another application: ${text}`;
      break;
    case ScardCode.W_UNPOWERED_CARD:
    case ScardCode.W_UNRESPONSIVE_CARD:
      kind = 'removed';
      why = `the card does not respond: ${text}`;
      break;
    case ScardCode.E_NOT_TRANSACTED:
    case ScardCode.E_COMM_ERROR:
      // The reader's link to the card failed (a card pulled before pcscd polled the slot): no answer came from the
      // card, so the product's behaviour is undecided, exactly as for a card reported removed.
      kind = 'removed';
      why = `the reader could not complete the exchange (card gone or not answering): ${text}`;
      break;
    case ScardCode.E_SHARING_VIOLATION:
      kind = 'unavailable';
      why = `the card is in exclusive use by another application: ${text}`;
      break;
    case ScardCode.E_TIMEOUT:
      kind = 'timeout';
      break;
  }
  return new DriverError(kind, `${what}: ${why}`);
}
