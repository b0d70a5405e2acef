/** The viewer's bounded event store: full events for the details pane, rows for the page, APDU pairs by id. */
import type { TraceEvent } from '../trace/index.ts';
import { decodeCommand, decodeResponse, type DecodedCommand, type DecodedResponse, isWrappedCommand } from './decode/index.ts';
import { RowBuilder, type Row } from './rows.ts';

export interface EventDetail {
  i: number;
  event: TraceEvent;
  /** For APDU events: the command and response of the exchange, decoded (wire bytes and plain bytes). */
  command?: DecodedCommand;
  plainCommand?: DecodedCommand;
  response?: DecodedResponse;
  plainResponse?: DecodedResponse;
  /** Store index of the other half of the exchange. */
  pairIndex?: number;
}

export class EventStore {
  private events: TraceEvent[] = [];
  private rows: Row[] = [];
  /** Index of the first kept event (older ones were dropped to stay within `max`). */
  private base = 0;
  private byApdu = new Map<string, { cmd?: number; resp?: number }>();
  private builder = new RowBuilder();

  constructor(readonly max = 200_000) {}

  get size(): number {
    return this.events.length;
  }

  /** Index the next event will get. */
  get next(): number {
    return this.base + this.events.length;
  }

  add(e: TraceEvent): Row {
    const i = this.next;
    const row = this.builder.build(e, i);
    this.events.push(e);
    this.rows.push(row);
    if (e.kind === 'apdu.command' || e.kind === 'apdu.response') {
      const p = this.byApdu.get(e.apduId) ?? {};
      if (e.kind === 'apdu.command') p.cmd = i;
      else p.resp = i;
      this.byApdu.set(e.apduId, p);
    }
    if (this.events.length > this.max) this.drop(Math.ceil(this.max / 10));
    return row;
  }

  private drop(n: number): void {
    for (const e of this.events.slice(0, n)) if (e.kind === 'apdu.command' || e.kind === 'apdu.response') this.byApdu.delete(e.apduId);
    this.events = this.events.slice(n);
    this.rows = this.rows.slice(n);
    this.base += n;
  }

  rowsFrom(i: number): Row[] {
    return this.rows.slice(Math.max(0, i - this.base));
  }

  get(i: number): TraceEvent | undefined {
    return i >= this.base ? this.events[i - this.base] : undefined;
  }

  detail(i: number): EventDetail | undefined {
    const event = this.get(i);
    if (!event) return undefined;
    const d: EventDetail = { i, event };
    if (event.kind !== 'apdu.command' && event.kind !== 'apdu.response') return d;
    const pair = this.byApdu.get(event.apduId);
    const cmd = pair?.cmd !== undefined ? this.get(pair.cmd) : undefined;
    const resp = pair?.resp !== undefined ? this.get(pair.resp) : undefined;
    const other = event.kind === 'apdu.command' ? pair?.resp : pair?.cmd;
    if (other !== undefined) d.pairIndex = other;
    if (cmd?.kind === 'apdu.command') {
      d.command = decodeCommand(cmd.hex);
      if (cmd.plainHex) d.plainCommand = decodeCommand(cmd.plainHex);
    }
    if (resp?.kind === 'apdu.response') {
      // Response data is read against the plain command: that is where P1/P2 and the INS are meaningful.
      const cmdForResp = cmd?.kind === 'apdu.command' ? (cmd.plainHex ?? cmd.hex) : undefined;
      const wrapped = cmd?.kind === 'apdu.command' && isWrappedCommand(cmd.hex);
      d.response = decodeResponse(resp.hex, cmdForResp, { wrapped });
      if (resp.plainHex) d.plainResponse = decodeResponse(resp.plainHex, cmdForResp);
    }
    return d;
  }
}
