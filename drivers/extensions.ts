/**
 * Additions to the CardChannel contract (channel.ts) that some drivers offer. Kept apart so channel.ts stays
 * the minimal contract every driver, including PC/SC, must meet.
 */
import { encodeResponse, securityLevelText, toHex, type Transmit, type WrappedExchange } from '../gp/index.ts';
import type { SecureChannelInfo } from '../trace/index.ts';
import type { CardChannel, TransmitOptions } from './channel.ts';

/** What a layer above (a secure channel) knows about a command that the wire bytes do not show. */
export interface TraceAnnotation {
  /** The plain command before wrapping (hex). */
  plainHex?: string;
  secureChannel?: SecureChannelInfo;
  /**
   * The plain response (data ‖ SW, hex) of the wire response, from the sender's own unwrap; throws when it does
   * not verify. Called at most once, by the tracer, before the sender sees the response.
   */
  plainResponse?: (response: Uint8Array) => string;
}

/** The annotation of one command wrapped on an open channel: plain command, level, and its response's unwrap. */
export function annotationOf(x: WrappedExchange): TraceAnnotation {
  return {
    plainHex: toHex(x.plain),
    secureChannel: { scp: `SCP${x.scp}`, level: securityLevelText(x.level), macLength: x.macLength },
    plainResponse: (response) => toHex(encodeResponse(x.unwrap(response))),
  };
}

/** A gp Transmit over `channel` that hands each wrapped command's annotation to the tracer. */
export function secureTransmit(channel: Pick<AnnotatedChannel, 'transmit'>, opts?: TransmitOptions): Transmit {
  return (command, exchange) => channel.transmit(command, exchange ? { ...opts, annotate: annotationOf(exchange) } : opts);
}

export interface AnnotatedTransmitOptions extends TransmitOptions {
  /** Attached to the apdu.command trace event by the traced() wrapper; drivers ignore it. */
  annotate?: TraceAnnotation;
}

/** Any CardChannel: a driver ignores the annotation; a traced channel records it. */
export interface AnnotatedChannel extends CardChannel {
  transmit(command: Uint8Array, opts?: AnnotatedTransmitOptions): Promise<Uint8Array>;
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
