/**
 * functionCallIdentifier handling: the first call with an identifier runs; a repeat of the same request answers
 * the same outcome (even while the first is still running) and executes nothing; the same identifier on a
 * different request is refused 3.3.
 *
 * Identifiers are kept per SP, each for at least RETENTION (and until its request's validity period ends, when
 * that is later), with a bound per SP. One SP's traffic therefore never pushes out another's identifiers, and an
 * SP is never made to forget its own too early: when its share is full of identifiers still within their
 * retention, a new identifier is refused 3.7 (nothing executed) until the oldest one's time is up.
 *
 * The ledger's records survive a restart through the store (`onChange` asks the host to persist `records()`):
 * a repeat after a restart answers the recorded outcome, and a request that was still running when the
 * process stopped is answered Failed 5.4 ("interrupted") without executing anything.
 */
import { createHash } from 'node:crypto';
import { asTsmError } from './as-tsm-error.ts';
import { TsmError, type ExecutionStatus, type ReasonCode } from './status.ts';

/**
 * How long an identifier is remembered at least: one hour, ample for an SP's retries (a validity period that
 * ends later keeps it longer). With IDENTIFIERS_PER_SP this lets an SP send 1000 identified requests an hour.
 */
export const IDENTIFIER_RETENTION_MS = 3600_000;
/**
 * How many identifiers are remembered per SP. The whole ledger is rewritten to the store at every change, so
 * this also bounds each SP's share of tsm-state.json.
 */
export const IDENTIFIERS_PER_SP = 1000;

/** One identifier's request and outcome as the store keeps it. */
export interface CallRecord {
  serviceProvider: string;
  functionCallIdentifier: string;
  fingerprint: string;
  /** running: not answered yet; interrupted: was running when the central TSM stopped. */
  state: 'running' | 'done' | 'interrupted';
  /** The answer (done, resolved). */
  answer?: unknown;
  /** The refusal (done, thrown): status, reasonCode, message and partial results. */
  error?: { status: Exclude<ExecutionStatus, 'Executed-Success'>; reasonCode: ReasonCode; message: string; data?: Record<string, unknown> };
  /** ms since the epoch, when the first call arrived. */
  at: number;
  /** ms since the epoch until which the identifier is remembered (absent in states written before: at + retention). */
  keepUntil?: number;
}

interface Entry {
  record: CallRecord;
  /** The outcome while this process runs it or has run it; absent for records loaded from the store. */
  outcome?: Promise<unknown>;
}

export interface CallLedgerOptions {
  /** Identifiers kept per SP; default IDENTIFIERS_PER_SP. */
  capacityPerSp?: number;
  /** Minimum time an identifier is kept, ms; default IDENTIFIER_RETENTION_MS. */
  retentionMs?: number;
  /** Told after every change of a record, so the host can persist `records()`. */
  onChange?: () => void;
  /** What a recorded answer is stored as (e.g. without key material); default as is. */
  sanitize?: (answer: unknown) => unknown;
  now?: () => number;
}

export interface RunOptions {
  /** Told when an earlier outcome is answered instead of running. */
  onRepeat?: (record: CallRecord) => void;
  /** When the request's validity period ends (ms since the epoch): the identifier is kept at least that long. */
  validUntil?: number;
}

export class CallLedger {
  /** By SP, then by identifier, oldest first. */
  private readonly bySp = new Map<string, Map<string, Entry>>();
  private readonly capacity: number;
  private readonly retention: number;

  constructor(private readonly opts: CallLedgerOptions = {}) {
    this.capacity = opts.capacityPerSp ?? IDENTIFIERS_PER_SP;
    this.retention = opts.retentionMs ?? IDENTIFIER_RETENTION_MS;
  }

  /** Loads stored records; those still running were interrupted by a stop. Returns how many were. */
  restore(records: readonly CallRecord[]): number {
    let interrupted = 0;
    for (const r of records) {
      const record = { ...r, keepUntil: r.keepUntil ?? r.at + this.retention };
      if (record.state === 'running') {
        record.state = 'interrupted';
        interrupted++;
      }
      this.calls(record.serviceProvider).set(record.functionCallIdentifier, { record });
    }
    this.forgetExpired();
    // A store written with a larger bound: keep each SP's newest.
    for (const calls of this.bySp.values()) for (const id of [...calls.keys()].slice(0, Math.max(0, calls.size - this.capacity))) calls.delete(id);
    return interrupted;
  }

  /** The records to persist, each SP's oldest first. */
  records(): CallRecord[] {
    return [...this.bySp.values()].flatMap((calls) => [...calls.values()].map((e) => e.record));
  }

  /** Runs `fn` once per (sp, identifier). */
  run<T>(sp: string, identifier: string | undefined, fingerprint: string, fn: () => Promise<T>, opts: RunOptions = {}): Promise<T> {
    if (identifier === undefined) return fn();
    const now = this.now();
    this.forgetExpired(now);
    const calls = this.calls(sp);
    const seen = calls.get(identifier);
    if (seen) {
      if (seen.record.fingerprint !== fingerprint) {
        return Promise.reject(TsmError.failed('3.3', `functionCallIdentifier "${identifier}" was already used for a different request`));
      }
      opts.onRepeat?.(seen.record);
      return (seen.outcome ?? recorded(seen.record)) as Promise<T>;
    }
    if (calls.size >= this.capacity) return Promise.reject(this.full(sp, calls));
    const record: CallRecord = {
      serviceProvider: sp,
      functionCallIdentifier: identifier,
      fingerprint,
      state: 'running',
      at: now,
      keepUntil: Math.max(now + this.retention, opts.validUntil ?? 0),
    };
    const entry: Entry = { record };
    calls.set(identifier, entry);
    // "running" reaches the store before anything is executed, so a stop in between is known at start-up.
    this.opts.onChange?.();
    let outcome: Promise<T>;
    try {
      outcome = fn();
    } catch (e) {
      outcome = Promise.reject(e);
    }
    entry.outcome = outcome;
    outcome.then(
      (answer) => {
        record.state = 'done';
        record.answer = this.opts.sanitize ? this.opts.sanitize(answer) : answer;
        this.opts.onChange?.();
      },
      (e: unknown) => {
        record.state = 'done';
        const err = asTsmError(e);
        record.error = {
          status: err.status,
          reasonCode: err.reasonCode,
          message: err.message,
          ...(err.data ? { data: (this.opts.sanitize ? this.opts.sanitize(err.data) : err.data) as Record<string, unknown> } : {}),
        };
        this.opts.onChange?.();
      },
    );
    return outcome;
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  private calls(sp: string): Map<string, Entry> {
    let calls = this.bySp.get(sp);
    if (!calls) {
      calls = new Map();
      this.bySp.set(sp, calls);
    }
    return calls;
  }

  /** Drops identifiers past their time; a request still running is never forgotten. */
  private forgetExpired(now = this.now()): void {
    for (const [sp, calls] of this.bySp) {
      for (const [id, e] of calls) if (e.record.state !== 'running' && (e.record.keepUntil ?? 0) < now) calls.delete(id);
      if (!calls.size) this.bySp.delete(sp);
    }
  }

  /** The refusal of a new identifier when the SP's share is full of identifiers still remembered. */
  private full(sp: string, calls: Map<string, Entry>): TsmError {
    const free = Math.min(...[...calls.values()].map((e) => (e.record.state === 'running' ? Infinity : (e.record.keepUntil ?? 0))));
    const when = Number.isFinite(free) ? `the first is released at ${new Date(free + 1).toISOString()}` : 'they are all still running';
    return TsmError.failed(
      '3.7',
      `${sp} already has ${calls.size} functionCallIdentifiers the central TSM must remember (each for ${duration(this.retention)}, or to the end of its validity period); ${when}. Nothing was done: send this request again then`,
    );
  }
}


const duration = (ms: number) => (ms % 3600_000 === 0 ? `${ms / 3600_000} h` : `${ms / 1000} s`);

/** The outcome of a record loaded from the store (answered again, never executed again). */
function recorded(r: CallRecord): Promise<unknown> {
  if (r.state === 'interrupted' || r.state === 'running') {
    return Promise.reject(
      TsmError.failed(
        '5.4',
        `functionCallIdentifier "${r.functionCallIdentifier}" names a request that was interrupted by a restart of the central TSM before it was answered; it is not executed again (GetSEData shows the service's state)`,
      ),
    );
  }
  if (r.error) return Promise.reject(new TsmError(r.error.status, r.error.reasonCode, r.error.message, r.error.data));
  return Promise.resolve(r.answer);
}

/**
 * A stable fingerprint of a request: keys sorted, so field order does not matter; hashed, because the ledger
 * is written to disk and a request may carry keys.
 */
export function fingerprint(operation: string, request: unknown): string {
  return `${operation}:${createHash('sha256').update(stable(request)).digest('hex')}`;
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
