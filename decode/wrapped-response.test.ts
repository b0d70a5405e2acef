/**
 * Answers to wrapped commands, as real cards send them: data ‖ R-MAC, or R-ENCRYPTION ciphertext padded over more
 * than one block. Produced by gp's card side (Scp03Card), read with decodeResponse and the viewer's event store
 * through the exchange's protection; none of them is a malformed answer.
 */
import { describe, expect, it } from 'vitest';
import { type CommandApdu, encodeCommand, encodeResponse, fromHex, parseCommand, Scp03Card, Scp03Host, toHex } from '../gp/index.ts';
import type { TraceEvent } from '../trace/index.ts';
import { EventStore } from '../viewer/store.ts';
import { decodeResponse } from './apdu.ts';
import { protectionOf } from './wrapped.ts';

const h = fromHex;
const KEYS = { enc: h('404142434445464748494A4B4C4D4E4F'), mac: h('505152535455565758595A5B5C5D5E5F'), dek: h('606162636465666768696A6B6C6D6E6F') };
const GET_STATUS_ISD: CommandApdu = { cla: 0x80, ins: 0xf2, p1: 0x80, p2: 0x02, data: h('4F00'), le: 256 };
const ISD_ENTRY = h('E3134F08A0000001510000009F70010FC5039EFE80');

/** The wire command and the card's wrapped answer carrying ISD_ENTRY, at `level`. */
function exchange(level: number, responsePaddingBlocks?: number): { wire: string; answer: string } {
  const card = new Scp03Card({
    findKeySet: () => ({ kvn: 0x30, keys: KEYS, sequenceCounter: 0 }),
    kdd: h('00010203040506070809'),
    aid: h('A000000151000000'),
    responsePaddingBlocks,
  });
  const host = new Scp03Host({ keys: KEYS, level });
  host.onInitializeUpdateResponse(card.handleInitializeUpdate(parseCommand(encodeCommand(host.initializeUpdate(0x30, new Uint8Array(8).fill(0x5a))))).data);
  expect(card.handleExternalAuthenticate(parseCommand(encodeCommand(host.externalAuthenticate()))).sw).toBe(0x9000);
  const wire = host.wrap(GET_STATUS_ISD);
  expect(card.unwrapCommand(parseCommand(wire)).ok).toBe(true);
  const answer = encodeResponse(card.wrapResponse({ data: ISD_ENTRY, sw: 0x9000 }));
  expect(toHex(host.unwrap(answer).data)).toBe(toHex(ISD_ENTRY));
  return { wire: toHex(wire), answer: toHex(answer) };
}

const PLAIN = toHex(encodeCommand(GET_STATUS_ISD));

const LEVEL_33 = { scp: 'SCP03', level: 'C-MAC C-DECRYPTION R-MAC R-ENCRYPTION' };
const LEVEL_11 = { scp: 'SCP03', level: 'C-MAC R-MAC' };

describe('answers to wrapped commands in the decoder', () => {
  it('R-ENCRYPTION padded over two blocks: labelled ciphered data and R-MAC, not an error', () => {
    const { wire, answer } = exchange(0x33, 2);
    expect(answer.length).toBe((32 + 8 + 2) * 2);
    const r = decodeResponse(answer, PLAIN, protectionOf(LEVEL_33, wire));
    expect(r.error).toBeUndefined();
    expect(r.registry).toBeUndefined();
    expect(r.fields?.map((f) => f.label)).toEqual(['ciphered data (32 bytes)', 'R-MAC (8 bytes)']);
    // Read as a plain GET STATUS answer, the same bytes are malformed registry data.
    expect(decodeResponse(answer, PLAIN).error).toBeDefined();
  });

  it('data ‖ R-MAC: the registry entry is read and the R-MAC labelled apart', () => {
    const { wire, answer } = exchange(0x11);
    const r = decodeResponse(answer, PLAIN, protectionOf(LEVEL_11, wire));
    expect(r.error).toBeUndefined();
    expect(r.registry?.map((e) => [e.aid, e.lifeCycle])).toEqual([['A000000151000000', 'SECURED']]);
    expect(r.fields?.map((f) => f.label)).toContain('R-MAC (8 bytes)');
  });

  it('an old trace with no level: the answer to a command whose CLA claims secure messaging is not parsed', () => {
    const { wire, answer } = exchange(0x33, 2);
    const r = decodeResponse(answer, PLAIN, protectionOf(undefined, wire));
    expect(r.error).toBeUndefined();
    expect(r.registry).toBeUndefined();
    expect(r.protection).toMatch(/level not recorded/);
  });

  it('the event store reads the answer through the exchange\'s secure channel', () => {
    const { wire, answer } = exchange(0x33, 2);
    const store = new EventStore(100);
    const base = { time: 0, corr: {} };
    store.add({ ...base, seq: 1, kind: 'apdu.command', from: 'tsm', to: 'se', apduId: 'a1', hex: wire, plainHex: PLAIN, secureChannel: LEVEL_33 } as TraceEvent);
    store.add({ ...base, seq: 2, kind: 'apdu.response', from: 'se', to: 'tsm', apduId: 'a1', hex: answer, sw: '9000', durationMs: 1 } as TraceEvent);
    const d = store.detail(1)!;
    expect(d.response?.error).toBeUndefined();
    expect(d.response?.protection).toMatch(/SCP03/);
  });
});
