/**
 * Additions to the CardChannel contract (channel.ts) that some drivers offer. Kept apart so channel.ts stays
 * the minimal contract every driver, including PC/SC, must meet.
 */
import type { CardChannel, TransmitOptions } from './channel.ts';

/** What a layer above (a secure channel) knows about a command that the wire bytes do not show. */
export interface TraceAnnotation {
  /** The plain command before wrapping (hex). */
  plainHex?: string;
  secureChannel?: { scp: string; level: string };
}

export interface AnnotatedTransmitOptions extends TransmitOptions {
  /** Attached to the apdu.command trace event by the traced() wrapper; drivers ignore it. */
  annotate?: TraceAnnotation;
}

/** Card power control, offered by drivers whose far end can switch the card (simulator, vpcd, rigs). */
export interface PowerControl {
  /** Powers the card off (resolves undefined) or on (resolves with the ATR). */
  power(on: boolean, opts?: TransmitOptions): Promise<Uint8Array | undefined>;
}

export type PoweredChannel = CardChannel & PowerControl;

export function hasPower(channel: CardChannel): channel is PoweredChannel {
  return typeof (channel as Partial<PowerControl>).power === 'function';
}
