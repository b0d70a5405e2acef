/** The one interface every card driver implements (in-process, WebSocket, PC/SC). */

export interface TransmitOptions {
  /** Cancels the exchange; the driver rejects with a DriverError of kind 'aborted'. */
  signal?: AbortSignal;
  /** Deadline in ms for this exchange (shorter than the step timeout). */
  timeoutMs?: number;
}

export interface CardChannel {
  /** A short human name: "inproc:se-1", "ws://127.0.0.1:7070/se/se-1", "pcsc:Virtual PCD 00 00". */
  readonly name: string;
  /** Sends one raw command APDU, resolves with the raw response (data ‖ SW1 SW2). */
  transmit(command: Uint8Array, opts?: TransmitOptions): Promise<Uint8Array>;
  /** The ATR of the card as last powered/reset. */
  atr(opts?: TransmitOptions): Promise<Uint8Array>;
  /** Resets the card (warm by default); resolves with the new ATR. */
  reset(cold?: boolean, opts?: TransmitOptions): Promise<Uint8Array>;
  /** Releases the channel; idempotent. */
  close(): Promise<void>;
}

export type DriverErrorKind = 'closed' | 'timeout' | 'aborted' | 'removed' | 'protocol' | 'unavailable';

/** Typed failure of a driver: the harness maps 'removed'/'closed' to INCONCLUSIVE, never a hang. */
export class DriverError extends Error {
  constructor(
    readonly kind: DriverErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'DriverError';
  }
}
