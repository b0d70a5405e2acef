/**
 * Which wrapped exchanges of a trace lack their plain forms. Where the harness holds the session keys (every channel
 * of a run on simulated cards: its own issuer sessions, the central TSM's, the SP TSM the steps play), each command
 * on a secure channel must carry its level and plain command, and its response the plain response or the reason
 * the unwrap failed; otherwise the viewer and the report can only label ciphertext.
 */
import { claimsSecureMessaging } from '../gp/index.ts';
import type { TraceEvent } from '../trace/index.ts';

export interface PlainFormGap {
  apduId: string;
  seq: number;
  scenario?: string;
  /** What is missing, in words. */
  missing: string;
}

type Apdu = Extract<TraceEvent, { kind: 'apdu.command' }>;
type Answer = Extract<TraceEvent, { kind: 'apdu.response' }>;

const INS_EXTERNAL_AUTHENTICATE = 0x82;

/** A command the card reads under secure messaging: its CLA says so; EXTERNAL AUTHENTICATE opens the channel. */
function wrapped(c: Apdu): boolean {
  if (c.hex.length < 4) return false;
  const cla = parseInt(c.hex.slice(0, 2), 16);
  const ins = parseInt(c.hex.slice(2, 4), 16);
  return cla !== 0xff && ins !== INS_EXTERNAL_AUTHENTICATE && claimsSecureMessaging(cla);
}

export function plainFormGaps(events: Iterable<TraceEvent>): PlainFormGap[] {
  const commands = new Map<string, Apdu>();
  const answers = new Map<string, Answer>();
  for (const e of events) {
    if (e.kind === 'apdu.command') commands.set(e.apduId, e);
    else if (e.kind === 'apdu.response') answers.set(e.apduId, e);
  }
  const gaps: PlainFormGap[] = [];
  for (const c of commands.values()) {
    if (!wrapped(c) && !c.secureChannel) continue;
    const at = { apduId: c.apduId, seq: c.seq, scenario: c.corr?.scenario };
    const missing: string[] = [];
    if (!c.secureChannel) missing.push('the secure channel level');
    if (!c.plainHex) missing.push('the plain command');
    const r = answers.get(c.apduId);
    if (r && !r.plainHex && !r.unwrapError) missing.push('the plain response');
    if (missing.length) gaps.push({ ...at, missing: missing.join(', ') });
  }
  return gaps;
}
