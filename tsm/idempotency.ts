/**
 * functionCallIdentifier handling: the first call with an identifier runs; a repeat of the same request answers
 * the same outcome (even while the first is still running) and executes nothing; the same identifier on a
 * different request is refused 3.3.
 */
import { TsmError } from './status.ts';

interface Entry {
  fingerprint: string;
  outcome: Promise<unknown>;
}

export class CallLedger {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity = 10000) {}

  /**
   * Runs `fn` once per (sp, identifier). `onRepeat` is told when an earlier outcome is answered instead.
   */
  run<T>(sp: string, identifier: string | undefined, fingerprint: string, fn: () => Promise<T>, onRepeat?: () => void): Promise<T> {
    if (identifier === undefined) return fn();
    const key = `${sp}\u0000${identifier}`;
    const seen = this.entries.get(key);
    if (seen) {
      if (seen.fingerprint !== fingerprint) {
        return Promise.reject(TsmError.failed('3.3', `functionCallIdentifier "${identifier}" was already used for a different request`));
      }
      onRepeat?.();
      return seen.outcome as Promise<T>;
    }
    const outcome = fn();
    this.entries.set(key, { fingerprint, outcome });
    // Keep the ledger bounded: forget the oldest identifiers first.
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    // The stored promise may reject; the caller handles it, the ledger must not raise an unhandled rejection.
    outcome.catch(() => undefined);
    return outcome;
  }
}

/** A stable fingerprint of a request: keys sorted, so field order does not matter. */
export function fingerprint(operation: string, request: unknown): string {
  return `${operation}:${stable(request)}`;
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
