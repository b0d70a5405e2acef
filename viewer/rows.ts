/**
 * The compact row the page keeps per trace event (the list, the diagram and the filters work on rows only);
 * the full event and its decoding are fetched when a row is opened.
 */
import type { TraceEvent } from '../trace/index.ts';
import { commandSummary, describeSw, protectionOf, protectionText } from '../decode/index.ts';
import { commandName } from '../gp/index.ts';

export interface Row {
  /** Index in the viewer's store (stable while the event is kept). */
  i: number;
  seq: number;
  /** Epoch milliseconds. */
  t: number;
  k: TraceEvent['kind'];
  from: string;
  to: string;
  /** Short label for the list and the diagram arrow. */
  label: string;
  /** Scenario attempt id (testCaseStartedId) and name, step text. */
  sc?: string;
  scn?: string;
  st?: string;
  conv?: string;
  se?: string;
  /** Command name for APDU rows (the response row carries its command's name). */
  cmd?: string;
  /** INS byte, hex, for APDU rows. */
  ins?: string;
  sw?: string;
  swc?: string;
  /** Card processing time (apdu.response.durationMs) or SP round trip (sp.response.durationMs). */
  dur?: number;
  /** SP response status (Executed-Success, Failed, ...). */
  status?: string;
  /** True when the plain command (or response) under the secure channel is known. */
  plain?: boolean;
  /** Secure channel of the exchange, e.g. "SCP03 C-MAC C-DECRYPTION" (set for commands and responses). */
  scp?: string;
}

/** Remembers command names by apduId so a response row can say what it answers (bounded). */
export class RowBuilder {
  private commands = new Map<string, { cmd: string; ins: string }>();

  constructor(private readonly maxPending = 5000) {}

  build(e: TraceEvent, i: number): Row {
    const c = e.corr ?? {};
    const row: Row = { i, seq: e.seq, t: e.time, k: e.kind, from: e.from, to: e.to, label: e.kind };
    if (c.scenarioId) row.sc = c.scenarioId;
    if (c.scenario) row.scn = c.scenario;
    if (c.step) row.st = c.step;
    if (c.conversationId) row.conv = c.conversationId;
    if (c.seId) row.se = c.seId;
    switch (e.kind) {
      case 'apdu.command': {
        const hex = e.plainHex ?? e.hex;
        const ins = hex.length >= 4 ? hex.slice(2, 4).toUpperCase() : '';
        const cla = parseInt(hex.slice(0, 2), 16);
        const name = hex.length >= 8 ? commandName(cla, parseInt(ins, 16), parseInt(hex.slice(4, 6), 16)) : 'APDU';
        row.cmd = name;
        row.ins = ins;
        const protection = protectionOf(e.secureChannel, e.hex);
        // Without the plain form, the wire data of a wrapped command is not read (it may be ciphered).
        row.label = commandSummary(hex, !protection || !!e.plainHex);
        if (e.plainHex) row.plain = true;
        if (protection) row.scp = protectionText(protection);
        this.commands.set(e.apduId, { cmd: name, ins });
        if (this.commands.size > this.maxPending) this.commands.delete(this.commands.keys().next().value as string);
        break;
      }
      case 'apdu.response': {
        const info = describeSw(e.sw, undefined);
        const c2 = this.commands.get(e.apduId);
        this.commands.delete(e.apduId);
        row.sw = info.sw;
        row.swc = info.class;
        row.dur = e.durationMs;
        if (c2) {
          row.cmd = c2.cmd;
          row.ins = c2.ins;
        }
        const dataLen = Math.max(0, ((e.plainHex ?? e.hex).length - 4) / 2);
        row.label = `${info.sw}${dataLen ? ` +${dataLen}B` : ''}${c2 ? ` (${c2.cmd})` : ''}`;
        if (e.plainHex) row.plain = true;
        if (e.secureChannel) row.scp = protectionText(protectionOf(e.secureChannel)!);
        break;
      }
      case 'sp.request':
        row.label = e.operation;
        break;
      case 'sp.response':
        row.label = `${e.operation}: ${e.status}${e.reasonCode ? ` ${e.reasonCode}` : ''}`;
        row.status = e.status;
        row.dur = e.durationMs;
        break;
      case 'tsm.decision':
        row.label = `${e.decision}: ${e.detail}`;
        break;
      case 'mno.hop':
        row.label = `${e.mno} ${e.bearer}: ${e.detail}`;
        break;
      case 'card.power':
        row.label = e.on ? 'power on' : 'power off';
        break;
      case 'card.reset':
        row.label = `${e.cold ? 'cold' : 'warm'} reset${e.atr ? ` ${e.atr}` : ''}`;
        break;
      case 'card.atr':
        row.label = `ATR ${e.atr}`;
        break;
      case 'scenario.start':
        row.label = `Scenario: ${e.name}`;
        break;
      case 'scenario.end':
        row.label = `end of scenario: ${e.verdict}${e.reason ? ` (${e.reason})` : ''}`;
        break;
      case 'step.start':
        row.label = e.text;
        break;
      case 'step.end':
        row.label = `${e.status}: ${e.text}`;
        row.status = e.status;
        break;
      case 'verdict':
        row.label = `verdict ${e.verdict}${e.reason ? `: ${e.reason}` : ''}`;
        break;
      case 'note':
        row.label = e.text;
        break;
      default:
        break;
    }
    return row;
  }
}
