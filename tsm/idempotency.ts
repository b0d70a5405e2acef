/**
 * functionCallIdentifier handling: the first call with an identifier runs; a repeat of the same request answers
 * the same outcome (even while the first is still running) and executes nothing; the same identifier on a
 * different request is refused 3.3.
 *
 * The ledger's records survive a restart through the store (`onChange` asks the host to persist `records()`):
 * a repeat after a restart answers the recorded outcome, and a request that was still running when the
 * process stopped is answered Failed 5.4 ("interrupted") without executing anything. Only the newest
 * `capacity` identifiers are kept, in memory and on disk.
 */
import { createHash } from 'node:crypto';
import { TsmError, type ExecutionStatus, type ReasonCode } from './status.ts';

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
}

interface Entry {
  record: CallRecord;
  /** The outcome while this process runs it or has run it; absent for records loaded from the store. */
  outcome?: Promise<unknown>;
}

export interface CallLedgerOptions {
  /** Identifiers kept (oldest forgotten first); default 1000. */
  capacity?: number;
  /** Told after every change of a record, so the host can persist `records()`. */
  onChange?: () => void;
  /** What a recorded answer is stored as (e.g. without key material); default as is. */
  sanitize?: (answer: unknown) => unknown;
  now?: () => number;
}

export class CallLedger {
  private readonly entries = new Map<string, Entry>();
  private readonly capacity: number;

  constructor(private readonly opts: CallLedgerOptions = {}) {
    this.capacity = opts.capacity ?? 1000;
  }

  /** Loads stored records; those still running were interrupted by a stop. Returns how many were. */
  restore(records: readonly CallRecord[]): number {
    let interrupted = 0;
    for (const r of records.slice(-this.capacity)) {
      const record = { ...r };
      if (record.state === 'running') {
        record.state = 'interrupted';
        interrupted++;
      }
      this.entries.set(keyOf(record.serviceProvider, record.functionCallIdentifier), { record });
    }
    return interrupted;
  }

  /** The records to persist, oldest first. */
  records(): CallRecord[] {
    return [...this.entries.values()].map((e) => e.record);
  }

  /**
   * Runs `fn` once per (sp, identifier). `onRepeat` is told when an earlier outcome is answered instead.
   */
  run<T>(sp: string, identifier: string | undefined, fingerprint: string, fn: () => Promise<T>, onRepeat?: (record: CallRecord) => void): Promise<T> {
    if (identifier === undefined) return fn();
    const key = keyOf(sp, identifier);
    const seen = this.entries.get(key);
    if (seen) {
      if (seen.record.fingerprint !== fingerprint) {
        return Promise.reject(TsmError.failed('3.3', `functionCallIdentifier "${identifier}" was already used for a different request`));
      }
      onRepeat?.(seen.record);
      return (seen.outcome ?? recorded(seen.record)) as Promise<T>;
    }
    const record: CallRecord = { serviceProvider: sp, functionCallIdentifier: identifier, fingerprint, state: 'running', at: this.opts.now?.() ?? Date.now() };
    const entry: Entry = { record };
    this.entries.set(key, entry);
    // Keep the ledger bounded: forget the oldest identifiers first.
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
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
        const err = e instanceof TsmError ? e : TsmError.failed('4.2', `internal error: ${(e as Error)?.message ?? String(e)}`);
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
}

const keyOf = (sp: string, identifier: string) => `${sp}\u0000${identifier}`;

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
