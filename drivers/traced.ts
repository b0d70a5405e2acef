/**
 * The one place driver traffic becomes trace events: wrap any CardChannel and every transmit emits a matched
 * apdu.command / apdu.response pair; reset, atr and power emit card.* events. Drivers themselves stay silent.
 */
import { emit, nextApduId, type Correlation } from '../trace/index.ts';
import type { CardChannel, TransmitOptions } from './channel.ts';
import { hasPower, type AnnotatedTransmitOptions, type PowerControl, type TraceAnnotation } from './extensions.ts';

/** The lane that sends to the card. */
export type SenderLane = 'harness' | 'tsm' | 'mno';

export interface TraceOptions {
  /** Who sends the commands (default 'harness'). */
  from?: SenderLane;
  /** Correlation fields added to every event (seId, conversationId, ...). */
  corr?: Correlation;
}

export interface TracedChannel extends CardChannel {
  transmit(command: Uint8Array, opts?: AnnotatedTransmitOptions): Promise<Uint8Array>;
  /** Present when the wrapped channel can switch power. */
  power?: PowerControl['power'];
  /** The untraced channel underneath. */
  readonly inner: CardChannel;
}

const TRACED = Symbol('tsmlab.traced');

/** Wraps `channel`; wrapping a traced channel again re-wraps its inner channel, so events are never doubled. */
export function traced(channel: CardChannel, opts: TraceOptions = {}): TracedChannel {
  const inner = isTraced(channel) ? channel.inner : channel;
  const from = opts.from ?? 'harness';
  // card.* events only know the harness and the TSM as senders; a relaying MNO acts for the TSM.
  const cardFrom = from === 'mno' ? 'tsm' : from;
  const corr = opts.corr ?? {};
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

  const wrapper: TracedChannel & { [TRACED]: true } = {
    [TRACED]: true,
    name: inner.name,
    inner,
    async transmit(command, o) {
      const apduId = nextApduId();
      const note = o?.annotate ?? claimAnnounced(command);
      emit(
        {
          kind: 'apdu.command',
          from,
          to: 'se',
          apduId,
          hex: hex(command),
          ...(note?.plainHex !== undefined ? { plainHex: note.plainHex.toUpperCase() } : {}),
          ...(note?.secureChannel ? { secureChannel: note.secureChannel } : {}),
        },
        corr,
      );
      const started = performance.now();
      let response: Uint8Array;
      try {
        response = await inner.transmit(command, driverOptions(o));
      } catch (e) {
        failed(from, 'apdu ' + apduId, e, corr);
        throw e;
      }
      const durationMs = performance.now() - started;
      emit(
        {
          kind: 'apdu.response',
          from: 'se',
          to: from,
          apduId,
          hex: hex(response),
          ...plainResponseOf(note, response),
          ...(note?.secureChannel ? { secureChannel: note.secureChannel } : {}),
          sw: response.length >= 2 ? hex(response.subarray(response.length - 2)) : '',
          durationMs,
        },
        corr,
      );
      return response;
    },
    async atr(o) {
      const atr = await inner.atr(o);
      emit({ kind: 'card.atr', from: 'se', to: cardFrom, atr: hex(atr) }, corr);
      return atr;
    },
    async reset(cold = false, o) {
      let atr: Uint8Array;
      try {
        atr = await inner.reset(cold, o);
      } catch (e) {
        failed(from, cold ? 'cold reset' : 'warm reset', e, corr);
        throw e;
      }
      emit({ kind: 'card.reset', from: cardFrom, to: 'se', cold, atr: hex(atr) }, corr);
      emit({ kind: 'card.atr', from: 'se', to: cardFrom, atr: hex(atr) }, corr);
      return atr;
    },
    close: () => inner.close(),
  };
  if (hasPower(inner)) {
    wrapper.power = async (on: boolean, o?: TransmitOptions) => {
      const atr = await inner.power(on, o);
      emit({ kind: 'card.power', from: cardFrom, to: 'se', on }, corr);
      if (atr) emit({ kind: 'card.atr', from: 'se', to: cardFrom, atr: hex(atr) }, corr);
      return atr;
    };
  }
  return wrapper;
}

export function isTraced(channel: CardChannel): channel is TracedChannel {
  return (channel as { [TRACED]?: true })[TRACED] === true;
}

/** The sender's unwrap of the response, or why it failed (the sender will meet the same error). */
function plainResponseOf(note: TraceAnnotation | undefined, response: Uint8Array): { plainHex?: string; unwrapError?: string } {
  if (!note?.plainResponse) return {};
  try {
    return { plainHex: note.plainResponse(response).toUpperCase() };
  } catch (e) {
    return { unwrapError: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * Wrapped commands whose sender holds the keys but does not send them itself: the SP TSM's script travels as
 * bytes through the central TSM, which has no keys. The sender announces each command's annotation by its wire
 * bytes; the traced channel that carries those exact bytes takes it (once). Wire bytes under a secure channel
 * end in a MAC over a chained value, so two announced commands never share bytes in practice.
 */
const announced = new Map<string, TraceAnnotation[]>();

/** Announces `commands`; the returned function withdraws those not carried (call it when the script is over). */
export function announceWrapped(commands: { wire: Uint8Array; annotate: TraceAnnotation }[]): () => void {
  const keys: [string, TraceAnnotation][] = [];
  for (const c of commands) {
    const key = Buffer.from(c.wire).toString('hex');
    const list = announced.get(key) ?? [];
    list.push(c.annotate);
    announced.set(key, list);
    keys.push([key, c.annotate]);
  }
  return () => {
    for (const [key, annotate] of keys) {
      const list = announced.get(key);
      if (!list) continue;
      const rest = list.filter((a) => a !== annotate);
      if (rest.length) announced.set(key, rest);
      else announced.delete(key);
    }
  };
}

function claimAnnounced(command: Uint8Array): TraceAnnotation | undefined {
  if (announced.size === 0) return undefined;
  const key = Buffer.from(command).toString('hex');
  const list = announced.get(key);
  if (!list) return undefined;
  const first = list.shift();
  if (list.length === 0) announced.delete(key);
  return first;
}

/** Drivers get only what they understand; the annotation is the tracer's business. */
function driverOptions(o: AnnotatedTransmitOptions | undefined): TransmitOptions | undefined {
  if (!o) return undefined;
  const { annotate: _annotate, ...rest } = o;
  return rest;
}

/** A failed exchange has no response event; a note on the lane says why, so the trace shows no silent gap. */
function failed(from: SenderLane, what: string, e: unknown, corr: Correlation): void {
  const kind = (e as { kind?: string }).kind;
  const text = `${what} failed${kind ? ` (${kind})` : ''}: ${e instanceof Error ? e.message : String(e)}`;
  emit({ kind: 'note', from, to: 'se', text }, corr);
}
