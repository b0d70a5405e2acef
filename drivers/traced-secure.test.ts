/**
 * The traced channel on a secure channel: the level, plain command and plain response of every wrapped command,
 * whether the sender passes them itself (secureTransmit) or announces commands someone else carries; and an
 * unwrap that fails (a response altered on the way) recorded as such, with no plain response.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeCommand, fromHex, getStatus, openSecureChannel, parseResponse, selectByAid, type OpenedSecureChannel } from '../gp/index.ts';
import { defaultSeSpec, DEFAULT_ISD_AID, DEFAULT_KEY, DEFAULT_KVN, SimulatedSe } from '../simulator/index.ts';
import { subscribe, type TraceEvent } from '../trace/index.ts';
import type { CardChannel } from './channel.ts';
import { annotationOf, secureTransmit } from './extensions.ts';
import { InProcessChannel } from './inproc.ts';
import { announceWrapped, traced } from './traced.ts';

type Command = Extract<TraceEvent, { kind: 'apdu.command' }>;
type Response = Extract<TraceEvent, { kind: 'apdu.response' }>;

const KEY = fromHex(DEFAULT_KEY);
let events: TraceEvent[];
let stop: () => void;
/** When set, the next response's first byte is flipped on its way from the card (below the tracer). */
let tamper = false;

beforeEach(() => {
  events = [];
  tamper = false;
  stop = subscribe((e) => events.push(e));
});
afterEach(() => stop());

async function open(): Promise<{ channel: ReturnType<typeof traced>; sc: OpenedSecureChannel }> {
  const card = new InProcessChannel(new SimulatedSe(defaultSeSpec({ seId: 'se-t' })));
  const altering: CardChannel = {
    name: 'altering',
    async transmit(c, o) {
      const r = await card.transmit(c, o);
      if (!tamper) return r;
      tamper = false;
      const bad = r.slice();
      bad[0] ^= 0xff;
      return bad;
    },
    atr: (o) => card.atr(o),
    reset: (cold, o) => card.reset(cold, o),
    close: () => card.close(),
  };
  const channel = traced(altering, { from: 'harness' });
  expect(parseResponse(await channel.transmit(encodeCommand(selectByAid(fromHex(DEFAULT_ISD_AID))))).sw).toBe(0x9000);
  const sc = await openSecureChannel(secureTransmit(channel), { keys: { kvn: DEFAULT_KVN, scp: '03', enc: KEY, mac: KEY, dek: KEY }, level: 0x33, sdAid: fromHex(DEFAULT_ISD_AID) });
  return { channel, sc };
}

const last = <K extends 'apdu.command' | 'apdu.response'>(kind: K) => events.filter((e) => e.kind === kind).at(-1) as K extends 'apdu.command' ? Command : Response;

describe('traced channel on a secure channel', () => {
  it('records the plain command and response a sender passes with secureTransmit', async () => {
    const { sc } = await open();
    const r = await sc.transmitSecure(getStatus({ subset: 'isd' }));
    expect(r.sw).toBe(0x9000);
    expect(last('apdu.command')).toMatchObject({ plainHex: '80F28002024F0000', secureChannel: { scp: 'SCP03', level: 'C-MAC C-DECRYPTION R-MAC R-ENCRYPTION', macLength: 8 } });
    expect(last('apdu.response').plainHex).toBe(Buffer.from([...r.data, 0x90, 0x00]).toString('hex').toUpperCase());
  });

  it('annotates announced commands carried by a layer without keys, once, and not after they are withdrawn', async () => {
    const { channel, sc } = await open();
    const x = sc.exchange(getStatus({ subset: 'isd' }));
    const withdraw = announceWrapped([{ wire: x.wire, annotate: annotationOf(x) }]);
    const raw = await channel.transmit(x.wire);
    withdraw();
    expect(last('apdu.command').plainHex).toBe(Buffer.from(x.plain).toString('hex').toUpperCase());
    expect(last('apdu.response').plainHex).toBe(Buffer.from([...x.unwrap(raw).data, 0x90, 0x00]).toString('hex').toUpperCase());

    const y = sc.exchange(getStatus({ subset: 'isd' }));
    announceWrapped([{ wire: y.wire, annotate: annotationOf(y) }])();
    await channel.transmit(y.wire);
    expect(last('apdu.command').plainHex).toBeUndefined();
    expect(last('apdu.command').secureChannel).toBeUndefined();
  });

  it('records why a response did not unwrap, and the sender meets the same error', async () => {
    const { sc } = await open();
    tamper = true;
    await expect(sc.transmitSecure(getStatus({ subset: 'isd' }))).rejects.toMatchObject({ name: 'SecureChannelError', kind: 'bad-mac' });
    const r = last('apdu.response');
    expect(r.plainHex).toBeUndefined();
    expect(r.unwrapError).toMatch(/R-MAC mismatch/);
    expect(r.secureChannel?.scp).toBe('SCP03');
  });
});
