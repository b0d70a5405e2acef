/**
 * Asynchronous operations: a management function the SP asked to run in the background. The request is
 * answered at once (accepted, with an operation id); the result is kept for GET /operations/{id}, published on
 * the event stream and, when the SP gave a callback URL, POSTed there (a few attempts, then given up and
 * recorded). One functionCallIdentifier names one operation: a repeat gets the same operation back.
 */
import { emit } from '../trace/index.ts';
import type { Answer } from './api-types.ts';
import type { Clock } from './clock.ts';
import type { OperationState, TsmEvents } from './events.ts';
import { asTsmError } from './as-tsm-error.ts';
import { errorFields } from './status.ts';

export interface OperationRecord {
  operationId: string;
  operation: string;
  serviceProvider: string;
  functionCallIdentifier?: string;
  state: OperationState;
  /** ISO 8601. */
  acceptedAt: string;
  finishedAt?: string;
  /** The function's answer (status, reasonCode, message and its fields), once done. */
  result?: Answer & Record<string, unknown>;
  callbackUrl?: string;
  callback?: { delivered: boolean; attempts: number; lastError?: string };
}

export interface OperationOptions {
  events: TsmEvents;
  clock: Clock;
  /** Delays between callback attempts, ms (default 100, 500, 2000: four attempts). */
  callbackRetryDelaysMs?: number[];
  /** Deadline of one callback POST, ms (default 5000). */
  callbackTimeoutMs?: number;
  fetch?: typeof fetch;
}

export class Operations {
  private readonly records = new Map<string, OperationRecord>();
  private readonly byCall = new Map<string, string>();
  private readonly running = new Set<Promise<unknown>>();
  private counter = 0;

  constructor(private readonly opts: OperationOptions) {}

  /** Starts `run` in the background (or finds the operation already started for this functionCallIdentifier). */
  start(operation: string, serviceProvider: string, functionCallIdentifier: string | undefined, callbackUrl: string | undefined, run: () => Promise<Answer>): OperationRecord {
    const callKey = functionCallIdentifier !== undefined ? `${serviceProvider}\u0000${functionCallIdentifier}` : undefined;
    if (callKey && this.byCall.has(callKey)) return this.snapshot(this.records.get(this.byCall.get(callKey)!)!);
    const rec: OperationRecord = {
      operationId: `op-${Date.now().toString(36)}-${(++this.counter).toString(36)}`,
      operation,
      serviceProvider,
      ...(functionCallIdentifier !== undefined ? { functionCallIdentifier } : {}),
      state: 'accepted',
      acceptedAt: this.now(),
      ...(callbackUrl ? { callbackUrl } : {}),
    };
    this.records.set(rec.operationId, rec);
    if (callKey) this.byCall.set(callKey, rec.operationId);
    this.publish(rec);
    const task = (async () => {
      // Let the acceptance reach the SP before the work starts.
      await new Promise((r) => setImmediate(r));
      rec.state = 'running';
      this.publish(rec);
      let result: Answer & Record<string, unknown>;
      try {
        result = (await run()) as Answer & Record<string, unknown>;
      } catch (e) {
        result = errorFields(asTsmError(e));
      }
      rec.result = result;
      rec.state = 'done';
      rec.finishedAt = this.now();
      this.publish(rec);
      if (rec.callbackUrl) await this.deliver(rec);
    })();
    this.running.add(task);
    void task.finally(() => this.running.delete(task));
    return this.snapshot(rec);
  }

  get(operationId: string): OperationRecord | undefined {
    const r = this.records.get(operationId);
    return r ? this.snapshot(r) : undefined;
  }

  /** Resolves when every operation started so far has finished (and its callback was tried). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  private async deliver(rec: OperationRecord): Promise<void> {
    const delays = this.opts.callbackRetryDelaysMs ?? [100, 500, 2000];
    const doFetch = this.opts.fetch ?? fetch;
    const body = JSON.stringify({ operationId: rec.operationId, operation: rec.operation, functionCallIdentifier: rec.functionCallIdentifier, result: rec.result });
    rec.callback = { delivered: false, attempts: 0 };
    for (let attempt = 0; attempt <= delays.length; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, delays[attempt - 1]));
      rec.callback.attempts++;
      try {
        const res = await doFetch(rec.callbackUrl!, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-operation-id': rec.operationId },
          body,
          signal: AbortSignal.timeout(this.opts.callbackTimeoutMs ?? 5000),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          rec.callback.delivered = true;
          delete rec.callback.lastError;
          this.decide(`${rec.operationId}: result delivered to ${rec.callbackUrl} (HTTP ${res.status}, attempt ${rec.callback.attempts})`);
          return;
        }
        rec.callback.lastError = `HTTP ${res.status}`;
      } catch (e) {
        rec.callback.lastError = (e as Error).message;
      }
    }
    this.decide(`${rec.operationId}: callback to ${rec.callbackUrl} given up after ${rec.callback.attempts} attempts (${rec.callback.lastError})`);
  }

  private publish(rec: OperationRecord): void {
    this.opts.events.publish({
      type: 'operation',
      serviceProvider: rec.serviceProvider,
      operationId: rec.operationId,
      operation: rec.operation,
      state: rec.state,
      ...(rec.result ? { result: rec.result } : {}),
      at: this.now(),
    });
  }

  private decide(detail: string): void {
    emit({ kind: 'tsm.decision', from: 'tsm', to: 'tsm', decision: 'callback', detail });
  }

  private now(): string {
    return new Date(this.opts.clock.now()).toISOString();
  }

  private snapshot(rec: OperationRecord): OperationRecord {
    return structuredClone(rec);
  }
}
