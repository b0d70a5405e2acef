/**
 * The card side of the WebSocket SE access protocol (docs/protocol-websocket.md): what one frame from a
 * client does to a CardEndpoint and what goes back. Pure of sockets so the rules are testable alone.
 * Nothing here throws: every malformed frame gets an answer.
 */
import { toHex } from '../gp/index.ts';
import type { CardEndpoint } from '../gp/index.ts';

/** SW 6F00 ("no precise diagnosis"): what an unpowered card, or a card that broke its contract, answers. */
export const SW_NO_PRECISE_DIAGNOSIS = Uint8Array.of(0x6f, 0x00);

export type ControlReply =
  | { type: 'atr'; hex: string; powered: boolean; id?: RequestId }
  | { type: 'reset'; cold: boolean; hex: string; id?: RequestId }
  | { type: 'power'; on: boolean; hex?: string; id?: RequestId }
  | { type: 'error'; message: string; request?: string; id?: RequestId };

/** Clients may tag a control message with an id; the reply echoes it. */
export type RequestId = string | number;

/** Answers one command APDU: 6F00 when the card is off; the card's own answer otherwise. */
export function answerApdu(endpoint: CardEndpoint, command: Uint8Array): Uint8Array {
  if (!endpoint.powered) return SW_NO_PRECISE_DIAGNOSIS;
  try {
    const response = endpoint.process(command);
    // Zero bytes would read as "no card" to bridges; the contract forbids it, the transport still refuses to pass it on.
    return response.length >= 2 ? response : SW_NO_PRECISE_DIAGNOSIS;
  } catch {
    return SW_NO_PRECISE_DIAGNOSIS;
  }
}

/** Answers one JSON control message (the text of a text frame). */
export function answerControl(endpoint: CardEndpoint, text: string): ControlReply {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { type: 'error', message: `not JSON: ${preview(text)}` };
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    return { type: 'error', message: 'a control message is a JSON object with a "type"' };
  }
  const m = msg as Record<string, unknown>;
  const id = typeof m.id === 'string' || typeof m.id === 'number' ? m.id : undefined;
  const withId = <T extends ControlReply>(reply: T): T => (id === undefined ? reply : { ...reply, id });
  const fail = (message: string) =>
    withId({ type: 'error' as const, message, ...(typeof m.type === 'string' ? { request: m.type } : {}) });
  if (m.id !== undefined && id === undefined) return fail('"id" must be a string or a number');
  try {
    switch (m.type) {
      case 'atr':
        return withId({ type: 'atr', hex: toHex(endpoint.atr()), powered: endpoint.powered });
      case 'reset': {
        if (m.cold !== undefined && typeof m.cold !== 'boolean') return fail('"cold" must be true or false');
        const cold = m.cold === true;
        return withId({ type: 'reset', cold, hex: toHex(endpoint.reset(cold)) });
      }
      case 'power': {
        if (typeof m.on !== 'boolean') return fail('"on" must be true or false');
        if (!m.on) {
          endpoint.powerOff();
          return withId({ type: 'power', on: false });
        }
        return withId({ type: 'power', on: true, hex: toHex(endpoint.powerOn()) });
      }
      case undefined:
        return fail('missing "type" (one of "atr", "reset", "power")');
      default:
        return fail(`unknown type ${preview(JSON.stringify(m.type))} (expected "atr", "reset" or "power")`);
    }
  } catch (e) {
    return fail(`the card failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function preview(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
