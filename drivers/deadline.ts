/** One place for the deadline and cancellation rules every driver exchange follows. */
import { DriverError, type TransmitOptions } from './channel.ts';

/** Default deadline per exchange: shorter than a Cucumber step timeout so a stuck card fails the step cleanly. */
export const DEFAULT_EXCHANGE_TIMEOUT_MS = 10_000;

/**
 * Runs `work` under the exchange's AbortSignal and deadline. `live()` tells the work whether anyone still
 * waits for it, so a driver can skip work that was cancelled before it started.
 */
export function guarded<T>(
  opts: TransmitOptions | undefined,
  defaultTimeoutMs: number,
  what: string,
  work: (live: () => boolean) => Promise<T>,
): Promise<T> {
  const signal = opts?.signal;
  if (signal?.aborted) return Promise.reject(aborted(what, signal));
  const timeoutMs = opts?.timeoutMs ?? defaultTimeoutMs;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = () => finish(() => reject(aborted(what, signal)));
    const timer = setTimeout(
      () => finish(() => reject(new DriverError('timeout', `${what}: no answer within ${timeoutMs} ms`))),
      timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    let started: Promise<T>;
    try {
      started = work(() => !settled);
    } catch (e) {
      started = Promise.reject(e);
    }
    started.then(
      (v) => finish(() => resolve(v)),
      (e) => finish(() => reject(e)),
    );
  });
}

function aborted(what: string, signal?: AbortSignal): DriverError {
  const r: unknown = signal?.reason;
  const reason = r instanceof Error && r.name !== 'AbortError' ? `: ${r.message}` : '';
  return new DriverError('aborted', `${what}: aborted${reason}`);
}
