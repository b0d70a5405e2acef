/** Pairs apdu.command and apdu.response trace events into exchanges, in stream order, with bounded memory. */
import type { TraceEvent } from '../trace/index.ts';

export type CommandEvent = Extract<TraceEvent, { kind: 'apdu.command' }>;
export type ResponseEvent = Extract<TraceEvent, { kind: 'apdu.response' }>;

export interface ApduExchange {
  command: CommandEvent;
  /** Absent when the card never answered (removed, timed out) or the trace was cut. */
  response?: ResponseEvent;
}

/**
 * Feed events in trace order; completed exchanges come out of `push`. Commands still waiting when the map
 * exceeds `maxPending` are given up as unanswered, so a trace full of lost responses cannot grow memory.
 */
export class ApduPairer {
  private pending = new Map<string, CommandEvent>();

  constructor(private readonly maxPending = 10_000) {}

  push(event: TraceEvent): ApduExchange[] {
    if (event.kind === 'apdu.command') {
      const out: ApduExchange[] = [];
      // A repeated id means the first command was never answered.
      const prev = this.pending.get(event.apduId);
      if (prev) {
        this.pending.delete(event.apduId);
        out.push({ command: prev });
      }
      this.pending.set(event.apduId, event);
      if (this.pending.size > this.maxPending) {
        const [oldestId, oldest] = this.pending.entries().next().value as [string, CommandEvent];
        this.pending.delete(oldestId);
        out.push({ command: oldest });
      }
      return out;
    }
    if (event.kind === 'apdu.response') {
      const command = this.pending.get(event.apduId);
      if (!command) return [];
      this.pending.delete(event.apduId);
      return [{ command, response: event }];
    }
    return [];
  }

  /** Commands never answered, in the order they were sent. */
  drain(): ApduExchange[] {
    const out = [...this.pending.values()].map((command) => ({ command }));
    this.pending.clear();
    return out;
  }
}

export function pairApdus(events: Iterable<TraceEvent>): ApduExchange[] {
  const p = new ApduPairer(Number.MAX_SAFE_INTEGER);
  const out: ApduExchange[] = [];
  for (const e of events) out.push(...p.push(e));
  return [...out, ...p.drain()].sort((a, b) => a.command.time - b.command.time);
}
