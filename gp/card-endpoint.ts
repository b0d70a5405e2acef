/**
 * An ISO 7816 card as a transport (in-process driver, WebSocket server, vpcd bridge) reaches it: power, reset, ATR
 * and one APDU at a time. The simulator's SEs implement it and drivers talk to it; it lives in gp/ because both
 * sides share only gp/. Implementations never throw out of `process`: every malformed command gets a status word.
 */
export interface CardEndpoint {
  readonly seId: string;
  /** Whether the card is powered. Commands to an unpowered card are answered 6F00 by transports. */
  readonly powered: boolean;
  /** Powers the card on (if off) and returns the ATR. */
  powerOn(): Uint8Array;
  /** Powers the card off: drops the selected applet and any secure channel. */
  powerOff(): void;
  /** Warm or cold reset: drops the selected applet and any secure channel; returns the ATR. */
  reset(cold: boolean): Uint8Array;
  /** The ATR (announces T=1). */
  atr(): Uint8Array;
  /** Processes one raw command APDU and returns data ‖ SW1 SW2. Never throws, never returns zero bytes. */
  process(command: Uint8Array): Uint8Array;
}
