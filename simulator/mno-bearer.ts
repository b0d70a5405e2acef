/**
 * OTA bearers of the MNO network model: how a script of command APDUs travels from the central TSM to the SE
 * and its responses back. Every bearer executes the commands one after another on a CardChannel and stops when
 * the caller's predicate says so (the card-side agent's "stop on error" of an OTA script). The bearers differ in
 * limits, segment size, latency and loss; none of them ever executes a command twice.
 */
import type { CardChannel, TransmitOptions } from '../drivers/channel.ts';
import type { AnnotatedTransmitOptions, TraceAnnotation } from '../drivers/extensions.ts';
import { DriverError } from '../drivers/channel.ts';
import { emit } from '../trace/index.ts';

export type BearerKind = 'sms' | 'http-admin' | 'local';

export interface BearerLimits {
  /** Most command APDUs one script may carry. */
  maxApduCount: number;
  /** Most bytes one script may carry: the sum of the command APDUs' lengths. */
  maxScriptSize: number;
}

export interface BearerOptions {
  /** The MNO operating the bearer (for trace events). */
  mno: string;
  limits?: Partial<BearerLimits>;
  /** Simulated one-way latency per segment, ms. Reported, never slept. */
  latencyMs?: number;
  /** Bytes of user data per segment. */
  segmentSize?: number;
  /** Share of segments lost on the way (each one is retransmitted), 0..90. */
  lossPercent?: number;
  /** Seed of the loss pattern: the same seed loses the same segments. */
  seed?: number;
}

export interface Script {
  commands: Uint8Array[];
  /** What the sender knows of each command (the plain command under secure messaging), for the trace and a card's guard. */
  annotations?: (TraceAnnotation | undefined)[];
  /** Asked after each response; true stops the script there (later commands never reach the card). */
  shouldStop?: (response: Uint8Array, index: number) => boolean;
  signal?: AbortSignal;
  /** Deadline per exchange with the card, ms. */
  timeoutMs?: number;
}

export interface Delivery {
  /** One response per command that reached the card, in order. */
  responses: Uint8Array[];
  /** Index of the command after which the script stopped, if it stopped early or on its last command. */
  stoppedAt?: number;
  /** Segments sent towards the SE and back, counting retransmissions. */
  segmentsUp: number;
  segmentsDown: number;
  retransmissions: number;
  /** Simulated network time of the exchange, ms. */
  networkMs: number;
}

export type MnoErrorKind = 'down' | 'limit' | 'lost' | 'unreachable' | 'no-response';

/** A failure of the network, not of the card: the TSM maps it to a 5.x (or 2.5 for limits) reason. */
export class MnoError extends Error {
  constructor(
    readonly kind: MnoErrorKind,
    message: string,
    /** Responses received before the failure (their commands did execute on the card). */
    readonly partial: Uint8Array[] = [],
  ) {
    super(message);
    this.name = 'MnoError';
  }
}

export interface Bearer {
  readonly kind: BearerKind;
  readonly mno: string;
  readonly limits: BearerLimits;
  /** Throws MnoError('limit') when the script exceeds the limits, before anything is sent. */
  checkLimits(commands: Uint8Array[]): void;
  deliver(channel: CardChannel, script: Script): Promise<Delivery>;
}

export const DEFAULT_LIMITS: Record<BearerKind, BearerLimits> = {
  sms: { maxApduCount: 8, maxScriptSize: 1024 },
  'http-admin': { maxApduCount: 64, maxScriptSize: 16384 },
  local: { maxApduCount: 255, maxScriptSize: 65535 },
};

const DEFAULTS: Record<BearerKind, { latencyMs: number; segmentSize: number }> = {
  // One short message carries 140 bytes of user data; the command packet header eats a little of it.
  sms: { latencyMs: 800, segmentSize: 140 },
  'http-admin': { latencyMs: 40, segmentSize: 4096 },
  local: { latencyMs: 0, segmentSize: 65536 },
};

/** Retransmissions of one segment before the network gives up. */
export const MAX_RETRANSMISSIONS = 6;

/** A small seeded PRNG (mulberry32): deterministic loss without Math.random. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class SegmentingBearer implements Bearer {
  readonly limits: BearerLimits;
  readonly mno: string;
  private readonly latencyMs: number;
  private readonly segmentSize: number;
  private readonly lossPercent: number;
  private readonly random: () => number;

  constructor(
    readonly kind: BearerKind,
    opts: BearerOptions,
  ) {
    this.mno = opts.mno;
    this.limits = { ...DEFAULT_LIMITS[kind], ...definedOnly(opts.limits ?? {}) };
    this.latencyMs = opts.latencyMs ?? DEFAULTS[kind].latencyMs;
    this.segmentSize = opts.segmentSize ?? DEFAULTS[kind].segmentSize;
    this.lossPercent = kind === 'sms' ? (opts.lossPercent ?? 0) : 0;
    this.random = prng(opts.seed ?? 1);
  }

  checkLimits(commands: Uint8Array[]): void {
    const size = scriptSize(commands);
    if (commands.length > this.limits.maxApduCount) {
      throw new MnoError('limit', `${commands.length} APDUs exceed the ${this.kind} bearer's maximum of ${this.limits.maxApduCount}`);
    }
    if (size > this.limits.maxScriptSize) {
      throw new MnoError('limit', `${size} bytes exceed the ${this.kind} bearer's maximum script size of ${this.limits.maxScriptSize}`);
    }
  }

  async deliver(channel: CardChannel, script: Script): Promise<Delivery> {
    this.checkLimits(script.commands);
    const out: Delivery = { responses: [], segmentsUp: 0, segmentsDown: 0, retransmissions: 0, networkMs: 0 };
    const upBytes = scriptSize(script.commands);
    this.travel('up', upBytes, out);
    this.hop('tsm', 'mno', `script of ${script.commands.length} APDU(s), ${upBytes} bytes over ${this.kind}`);
    const opts: TransmitOptions = { signal: script.signal, timeoutMs: script.timeoutMs };
    for (let i = 0; i < script.commands.length; i++) {
      let response: Uint8Array;
      try {
        const annotate = script.annotations?.[i];
        const withNote: AnnotatedTransmitOptions = annotate ? { ...opts, annotate } : opts;
        response = await channel.transmit(script.commands[i], withNote);
      } catch (e) {
        throw asMnoError(e, this.mno, out.responses);
      }
      out.responses.push(response);
      if (script.shouldStop?.(response, i)) {
        out.stoppedAt = i;
        break;
      }
    }
    const downBytes = out.responses.reduce((n, r) => n + r.length, 0);
    this.travel('down', downBytes, out);
    this.hop('mno', 'tsm', `${out.responses.length} response(s), ${downBytes} bytes; ${out.retransmissions} retransmission(s), ~${out.networkMs} ms`);
    return out;
  }

  /** Accounts one direction of the exchange in segments, losing (and resending) some on lossy bearers. */
  private travel(direction: 'up' | 'down', bytes: number, out: Delivery): void {
    const segments = Math.max(1, Math.ceil(bytes / this.segmentSize));
    for (let s = 0; s < segments; s++) {
      let attempts = 0;
      while (this.lossPercent > 0 && this.random() * 100 < this.lossPercent) {
        attempts++;
        out.retransmissions++;
        this.hop('mno', 'mno', `segment ${s + 1}/${segments} ${direction} lost, retransmitting (${attempts})`);
        if (attempts >= MAX_RETRANSMISSIONS) {
          throw new MnoError('lost', `segment ${s + 1}/${segments} ${direction} lost ${attempts} times on ${this.mno}`, out.responses);
        }
      }
      if (direction === 'up') out.segmentsUp += attempts + 1;
      else out.segmentsDown += attempts + 1;
      out.networkMs += (attempts + 1) * this.latencyMs;
    }
  }

  private hop(from: 'tsm' | 'mno', to: 'mno' | 'tsm', detail: string): void {
    emit({ kind: 'mno.hop', from, to, mno: this.mno, bearer: this.kind, detail });
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function scriptSize(commands: Uint8Array[]): number {
  return commands.reduce((n, c) => n + c.length, 0);
}

function asMnoError(e: unknown, mno: string, partial: Uint8Array[]): MnoError {
  if (e instanceof MnoError) return e;
  if (e instanceof DriverError) {
    const kind = e.kind === 'timeout' || e.kind === 'aborted' ? 'no-response' : 'unreachable';
    return new MnoError(kind, `${mno}: the SE did not answer (${e.kind}: ${e.message})`, [...partial]);
  }
  return new MnoError('unreachable', `${mno}: ${(e as Error).message ?? String(e)}`, [...partial]);
}

export function createBearer(kind: BearerKind, opts: BearerOptions): Bearer {
  return new SegmentingBearer(kind, opts);
}
