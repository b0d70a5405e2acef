/** One in-process bus for trace events, with the correlation carried implicitly through async calls. */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Correlation, TraceBody, TraceEvent } from './events.ts';

type Listener = (event: TraceEvent) => void;

const listeners = new Set<Listener>();
const context = new AsyncLocalStorage<Correlation>();
let seq = 0;
let baseCorrelation: Correlation = {};
const origin = performance.timeOrigin;

/** Sets fields that apply to every event of this process (e.g. runId). */
export function setBaseCorrelation(corr: Correlation): void {
  baseCorrelation = { ...baseCorrelation, ...corr };
}

/** Runs `fn` with extra correlation fields merged into every event it (transitively) emits. */
export function withCorrelation<T>(corr: Correlation, fn: () => T): T {
  const current = context.getStore() ?? {};
  return context.run({ ...current, ...corr }, fn);
}

export function currentCorrelation(): Correlation {
  return { ...baseCorrelation, ...(context.getStore() ?? {}) };
}

/** Emits one event; listeners that throw are isolated so tracing never breaks the traced code. */
export function emit(body: TraceBody, corr: Correlation = {}): TraceEvent {
  const event = {
    ...body,
    seq: ++seq,
    time: origin + performance.now(),
    corr: { ...currentCorrelation(), ...corr },
  } as TraceEvent;
  for (const l of listeners) {
    try {
      l(event);
    } catch {
      /* a broken sink must not break the run */
    }
  }
  return event;
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

let apduCounter = 0;
export function nextApduId(): string {
  return `a${process.pid}-${++apduCounter}`;
}
