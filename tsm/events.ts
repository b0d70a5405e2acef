/**
 * Domain events of the central TSM that SPs may follow: service state changes and asynchronous operation
 * progress. The SP API streams them over WebSocket (GET /events), each SP seeing its own only.
 */

export type TsmEvent =
  | {
      type: 'service-state';
      serviceProvider: string;
      seId: string;
      serviceId: string;
      from: string;
      to: string;
      note?: string;
      /** ISO 8601. */
      at: string;
    }
  | {
      type: 'operation';
      serviceProvider: string;
      operationId: string;
      operation: string;
      state: OperationState;
      /** The function's answer, once done. */
      result?: Record<string, unknown>;
      at: string;
    };

export type OperationState = 'accepted' | 'running' | 'done';

type Listener = (e: TsmEvent) => void;

export class TsmEvents {
  private readonly listeners = new Set<Listener>();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(e: TsmEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        /* one broken subscriber must not stop the others or the TSM */
      }
    }
  }
}
