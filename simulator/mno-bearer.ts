/**
 * OTA bearers of the MNO network model: how a script of command APDUs travels from the central TSM to the SE
 * and its responses back. Every bearer executes the commands one after another over the link it is handed and
 * stops when the caller's predicate says so (the card-side agent's "stop on error" of an OTA script). The bearers
 * differ in limits, segment size, latency and loss; none of them ever executes a command twice.
 *
 * The types here are the simulator's own, shaped to fit the central TSM's MnoGateway contract without importing
 * it: failures come back as values, and the link is anything that transmits (the TSM hands its card channel).
 */
import { scriptSize, type ApduScript, type ScriptDelivery, type ScriptLimits } from '../gp/index.ts';
import type { Bearer as BearerKind } from '../profiles/index.ts';
import { emit } from '../trace/index.ts';

export type { BearerKind };
export { scriptSize };

export type BearerLimits = ScriptLimits;

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

/**
 * Where a bearer's commands reach the card. N is whatever the sender attaches to a command (the TSM: its trace
 * annotation); the bearer hands it on as `annotate` without reading it. A rejection whose `kind` is 'no-response'
 * or 'unreachable' says which; any other rejection counts as unreachable.
 */
export interface BearerLink<N = unknown> {
  transmit(command: Uint8Array, opts?: { signal?: AbortSignal; timeoutMs?: number; annotate?: N }): Promise<Uint8Array>;
}

export type BearerScript<N = unknown> = ApduScript<N>;
export type Delivery = ScriptDelivery;

export type MnoFailureKind = 'down' | 'limit' | 'lost' | 'unreachable' | 'no-response';

/** A failure of the network, not of the card. */
export interface MnoFailure {
  ok: false;
  kind: MnoFailureKind;
  message: string;
  /** Responses received before the failure (their commands did execute on the card). */
  partial: Uint8Array[];
}

export type Carried = Delivery | MnoFailure;

export function mnoFailure(kind: MnoFailureKind, message: string, partial: Uint8Array[] = []): MnoFailure {
  return { ok: false, kind, message, partial: [...partial] };
}

export interface SimulatedBearer {
  readonly kind: BearerKind;
  readonly mno: string;
  readonly limits: BearerLimits;
  /** The 'limit' failure when the commands exceed the limits, before anything is sent. */
  checkLimits(commands: Uint8Array[]): MnoFailure | undefined;
  deliver<N>(link: BearerLink<N>, script: BearerScript<N>): Promise<Carried>;
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

class SegmentingBearer implements SimulatedBearer {
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

  checkLimits(commands: Uint8Array[]): MnoFailure | undefined {
    const size = scriptSize(commands);
    if (commands.length > this.limits.maxApduCount) {
      return mnoFailure('limit', `${commands.length} APDUs exceed the ${this.kind} bearer's maximum of ${this.limits.maxApduCount}`);
    }
    if (size > this.limits.maxScriptSize) {
      return mnoFailure('limit', `${size} bytes exceed the ${this.kind} bearer's maximum script size of ${this.limits.maxScriptSize}`);
    }
    return undefined;
  }

  async deliver<N>(link: BearerLink<N>, script: BearerScript<N>): Promise<Carried> {
    const refused = this.checkLimits(script.commands);
    if (refused) return refused;
    const out: Delivery = { ok: true, responses: [], segmentsUp: 0, segmentsDown: 0, retransmissions: 0, networkMs: 0 };
    const upBytes = scriptSize(script.commands);
    const lostUp = this.travel('up', upBytes, out);
    if (lostUp) return lostUp;
    this.hop('tsm', 'mno', `script of ${script.commands.length} APDU(s), ${upBytes} bytes over ${this.kind}`);
    for (let i = 0; i < script.commands.length; i++) {
      let response: Uint8Array;
      try {
        const annotate = script.annotations?.[i];
        const opts = { signal: script.signal, timeoutMs: script.timeoutMs };
        response = await link.transmit(script.commands[i], annotate ? { ...opts, annotate } : opts);
      } catch (e) {
        return linkFailed(e, this.mno, out.responses);
      }
      out.responses.push(response);
      if (script.shouldStop?.(response, i)) {
        out.stoppedAt = i;
        break;
      }
    }
    const downBytes = out.responses.reduce((n, r) => n + r.length, 0);
    const lostDown = this.travel('down', downBytes, out);
    if (lostDown) return lostDown;
    this.hop('mno', 'tsm', `${out.responses.length} response(s), ${downBytes} bytes; ${out.retransmissions} retransmission(s), ~${out.networkMs} ms`);
    return out;
  }

  /**
   * Accounts one direction of the exchange in segments, losing (and resending) some on lossy bearers; the
   * 'lost' failure when one segment is lost too often.
   */
  private travel(direction: 'up' | 'down', bytes: number, out: Delivery): MnoFailure | undefined {
    const segments = Math.max(1, Math.ceil(bytes / this.segmentSize));
    for (let s = 0; s < segments; s++) {
      let attempts = 0;
      while (this.lossPercent > 0 && this.random() * 100 < this.lossPercent) {
        attempts++;
        out.retransmissions++;
        this.hop('mno', 'mno', `segment ${s + 1}/${segments} ${direction} lost, retransmitting (${attempts})`);
        if (attempts >= MAX_RETRANSMISSIONS) {
          return mnoFailure('lost', `segment ${s + 1}/${segments} ${direction} lost ${attempts} times on ${this.mno}`, out.responses);
        }
      }
      if (direction === 'up') out.segmentsUp += attempts + 1;
      else out.segmentsDown += attempts + 1;
      out.networkMs += (attempts + 1) * this.latencyMs;
    }
    return undefined;
  }

  private hop(from: 'tsm' | 'mno', to: 'mno' | 'tsm', detail: string): void {
    emit({ kind: 'mno.hop', from, to, mno: this.mno, bearer: this.kind, detail });
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}


/** A link's rejection as the network's failure: its own kind when it names one, else unreachable. */
function linkFailed(e: unknown, mno: string, partial: Uint8Array[]): MnoFailure {
  const kind = (e as { kind?: unknown } | undefined)?.kind;
  const message = (e as Error | undefined)?.message ?? String(e);
  return mnoFailure(kind === 'no-response' || kind === 'unreachable' ? kind : 'unreachable', `${mno}: ${message}`, partial);
}

export function createBearer(kind: BearerKind, opts: BearerOptions): SimulatedBearer {
  return new SegmentingBearer(kind, opts);
}
