/**
 * The one conformance suite every CardChannel driver runs (in-process, WebSocket, PC/SC). The card behind the
 * channel is always a real simulated SE; the fixture also hands over that SE so the suite can check what the
 * card saw. Import only from *.test.ts files: it registers vitest tests.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeCommand, findTlv, fromHex, parseResponse, parseTlv, Scp03Host, Scp03Option, SecurityLevel, toHex } from '../gp/index.ts';
import type { KeySetSpec } from '../profiles/fleet-types.ts';
import type { CardEndpoint } from '../gp/index.ts';
import { createSimulatedSe, defaultSeSpec, type SimulatedSe } from '../simulator/index.ts';
import { subscribe, type TraceEvent } from '../trace/index.ts';
import { DriverError, type CardChannel } from './channel.ts';
import { hasPower } from './extensions.ts';
import { traced } from './traced.ts';

export interface ChannelFixture {
  /** A fresh channel, connected, to a freshly created simulated SE. */
  channel: CardChannel;
  /** The same SE, reachable without the driver. */
  se: CardEndpoint;
  /** AID of the SE's issuer security domain (hex). */
  isdAid: string;
  /** The ISD's SCP03 key set, to open a secure channel through the channel (default: the default card's). */
  isdKeys?: KeySetSpec;
  /** AID of a security domain other than the ISD, with other keys (default: the default card's central SD). */
  otherSdAid?: string;
  /** Releases the channel and whatever serves the SE. */
  dispose(): Promise<void>;
}

/** A fresh simulated SE with the default card, and what the suite needs to know about it. */
export function newSimulatedSe(seId = 'se-1'): { se: SimulatedSe; isdAid: string; isdKeys: KeySetSpec } {
  const spec = defaultSeSpec({ seId });
  return { se: createSimulatedSe(spec), isdAid: spec.card.isd.aid, isdKeys: spec.card.isd.keys };
}

const hex = (b: Uint8Array) => toHex(b);
const sw = (r: Uint8Array) => hex(r.subarray(r.length - 2));
const data = (r: Uint8Array) => r.subarray(0, r.length - 2);

/** Transmission protocols (T=n) an ATR announces in its TDi bytes (ISO/IEC 7816-3 §8.2). */
export function atrProtocols(atr: Uint8Array): number[] {
  const out: number[] = [];
  if (atr.length < 2) return out;
  let y = atr[1] >> 4;
  let pos = 2;
  for (;;) {
    pos += (y & 1) + ((y >> 1) & 1) + ((y >> 2) & 1);
    if (!(y & 8) || pos >= atr.length) break;
    const td = atr[pos++];
    out.push(td & 0x0f);
    y = td >> 4;
  }
  // Without TD1 the card speaks T=0 only.
  return out.length ? out : [0];
}

function selectCommand(aidHex: string, opts: { le?: boolean; extended?: boolean } = {}): Uint8Array {
  const aid = fromHex(aidHex);
  const le = opts.le ?? true;
  if (opts.extended) {
    return Uint8Array.from([0x00, 0xa4, 0x04, 0x00, 0x00, aid.length >> 8, aid.length & 0xff, ...aid, ...(le ? [0, 0] : [])]);
  }
  return Uint8Array.from([0x00, 0xa4, 0x04, 0x00, aid.length, ...aid, ...(le ? [0] : [])]);
}

/** The FCI of a selected application: '6F' template with the AID in '84'. */
function expectFci(response: Uint8Array, aidHex: string): void {
  expect(sw(response)).toBe('9000');
  const fci = findTlv(parseTlv(data(response)), 0x6f);
  expect(fci, 'FCI template 6F').toBeDefined();
  expect(hex(findTlv(fci!.children, 0x84)?.value ?? new Uint8Array())).toBe(aidHex.toUpperCase());
}

const GET_CPLC = fromHex('80CA9F7F00');

/** GET STATUS of the ISD (GPCS §11.4): needs an authenticated secure channel on a SECURED card. */
const GET_STATUS_ISD = { cla: 0x80, ins: 0xf2, p1: 0x80, p2: 0x02, data: fromHex('4F00'), le: 256 };

/** Opens SCP03 to the selected SD with the host-side code, through the channel under test. */
async function openScp03(channel: CardChannel, keys: KeySetSpec, sdAid: string): Promise<Scp03Host> {
  if (keys.scp !== '03') throw new Error(`the fixture's ISD keys are SCP${keys.scp}; the suite needs SCP03`);
  const i = keys.i ? parseInt(keys.i, 16) : 0x70;
  const host = new Scp03Host({
    keys: { enc: fromHex(keys.enc), mac: fromHex(keys.mac), dek: fromHex(keys.dek) },
    level: SecurityLevel.CMAC | SecurityLevel.CDEC,
    sdAid: fromHex(sdAid),
  });
  const challenge = crypto.getRandomValues(new Uint8Array(i & Scp03Option.S16 ? 16 : 8));
  const init = parseResponse(await channel.transmit(encodeCommand(host.initializeUpdate(keys.kvn, challenge))));
  expect(init.sw.toString(16)).toBe('9000');
  host.onInitializeUpdateResponse(init.data);
  const auth = await channel.transmit(encodeCommand(host.externalAuthenticate()));
  expect(hex(auth)).toBe('9000');
  return host;
}

async function expectDriverError(p: Promise<unknown>, kind: DriverError['kind']): Promise<DriverError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, `expected DriverError('${kind}')`).toBeInstanceOf(DriverError);
  expect((e as DriverError).kind).toBe(kind);
  return e as DriverError;
}

export function runChannelConformance(name: string, makeFixture: () => Promise<ChannelFixture>): void {
  describe(`CardChannel conformance: ${name}`, () => {
    let f: ChannelFixture;
    beforeEach(async () => {
      f = await makeFixture();
    });
    afterEach(async () => {
      await f.dispose();
    });

    it('has a name and an ATR that announces T=1, the same the card reports', async () => {
      expect(f.channel.name.length).toBeGreaterThan(0);
      const atr = await f.channel.atr();
      expect(atr[0] === 0x3b || atr[0] === 0x3f).toBe(true);
      expect(atrProtocols(atr)).toContain(1);
      expect(hex(atr)).toBe(hex(f.se.atr()));
    });

    it('SELECT of the ISD answers 9000 with its FCI', async () => {
      expectFci(await f.channel.transmit(selectCommand(f.isdAid)), f.isdAid);
    });

    it('carries case 1, 2, 3 and 4 APDUs both ways, byte for byte', async () => {
      // Case 1 with an instruction no card implements: ISO 7816-4 says 6D00.
      expect(hex(await f.channel.transmit(fromHex('80000000')))).toBe('6D00');
      // Case 2: GET DATA CPLC, answered by the card as it would answer directly.
      const cplc = await f.channel.transmit(GET_CPLC);
      expect(sw(cplc)).toBe('9000');
      expect(hex(data(cplc)).startsWith('9F7F')).toBe(true);
      expect(hex(cplc)).toBe(hex(f.se.process(GET_CPLC)));
      // Case 3: SELECT without Le.
      expect(sw(await f.channel.transmit(selectCommand(f.isdAid, { le: false })))).toBe('9000');
      // Case 4: SELECT with Le.
      expectFci(await f.channel.transmit(selectCommand(f.isdAid, { le: true })), f.isdAid);
    });

    it('carries extended-length APDUs', async () => {
      expectFci(await f.channel.transmit(selectCommand(f.isdAid, { extended: true })), f.isdAid);
      // A command longer than any short APDU reaches the card whole: the card answers it (not the transport).
      const long = Uint8Array.from([0x80, 0x00, 0x00, 0x00, 0x00, 0x01, 0x2c, ...new Uint8Array(300)]);
      expect(hex(await f.channel.transmit(long))).toBe('6D00');
    });

    it('answers a wrong CLA with 6E00', async () => {
      const r = await f.channel.transmit(fromHex('20CA9F7F00'));
      expect(hex(r)).toBe('6E00');
    });

    it('keeps replies in order when exchanges overlap', async () => {
      const [a, b, c] = await Promise.all([
        f.channel.transmit(GET_CPLC),
        f.channel.transmit(selectCommand(f.isdAid)),
        f.channel.transmit(fromHex('80000000')),
      ]);
      expect(hex(data(a)).startsWith('9F7F')).toBe(true);
      expectFci(b, f.isdAid);
      expect(hex(c)).toBe('6D00');
    });

    it('reset answers the ATR', async () => {
      const warm = await f.channel.reset();
      expect(atrProtocols(warm)).toContain(1);
      const cold = await f.channel.reset(true);
      expect(hex(cold)).toBe(hex(await f.channel.atr()));
    });

    it('reset drops the secure channel: a wrapped command that worked before is refused after', async () => {
      const keys = f.isdKeys ?? newSimulatedSe().isdKeys;
      expectFci(await f.channel.transmit(selectCommand(f.isdAid)), f.isdAid);
      // Without a channel the card refuses GET STATUS: that is what makes the check below meaningful.
      expect(hex(await f.channel.transmit(encodeCommand(GET_STATUS_ISD)))).toBe('6982');
      const host = await openScp03(f.channel, keys, f.isdAid);
      const before = parseResponse(await f.channel.transmit(host.wrap(GET_STATUS_ISD)));
      expect(before.sw.toString(16)).toBe('9000');
      expect(hex(findTlv(findTlv(parseTlv(before.data), 0xe3)?.children, 0x4f)?.value ?? new Uint8Array())).toBe(f.isdAid);
      await f.channel.reset();
      const after = await f.channel.transmit(host.wrap(GET_STATUS_ISD));
      expect(sw(after)).not.toBe('9000');
      expect(hex(after)).toBe('6982');
    });

    it('reset drops the selected application: the ISD is selected again', async () => {
      const keys = f.isdKeys ?? newSimulatedSe().isdKeys;
      // Another SD, with other keys: while it is selected, INITIALIZE UPDATE answers with its keys, not the ISD's.
      const other = f.otherSdAid ?? defaultSeSpec().centralSd.aid;
      expectFci(await f.channel.transmit(selectCommand(other)), other);
      await expect(openScp03(f.channel, keys, f.isdAid)).rejects.toThrow(/cryptogram/);
      await f.channel.reset();
      const host = await openScp03(f.channel, keys, f.isdAid);
      expect(sw(await f.channel.transmit(host.wrap(GET_STATUS_ISD)))).toBe('9000');
    });

    it('power off makes the card silent (6F00), power on brings it back', async (ctx) => {
      if (!hasPower(f.channel)) return ctx.skip();
      expect(await f.channel.power(false)).toBeUndefined();
      expect(f.se.powered).toBe(false);
      expect(hex(await f.channel.transmit(selectCommand(f.isdAid)))).toBe('6F00');
      const atr = await f.channel.power(true);
      expect(atrProtocols(atr!)).toContain(1);
      expect(f.se.powered).toBe(true);
      expectFci(await f.channel.transmit(selectCommand(f.isdAid)), f.isdAid);
    });

    it('close is idempotent and later calls reject with DriverError(closed)', async () => {
      await f.channel.close();
      await f.channel.close();
      await expectDriverError(f.channel.transmit(GET_CPLC), 'closed');
      await expectDriverError(f.channel.reset(), 'closed');
      await expectDriverError(f.channel.atr(), 'closed');
    });

    it('an aborted exchange rejects with DriverError(aborted) and the next one gets its own answer', async () => {
      await expectDriverError(f.channel.transmit(GET_CPLC, { signal: AbortSignal.abort() }), 'aborted');
      const ac = new AbortController();
      const pending = f.channel.transmit(GET_CPLC, { signal: ac.signal });
      ac.abort();
      await expectDriverError(pending, 'aborted');
      expectFci(await f.channel.transmit(selectCommand(f.isdAid)), f.isdAid);
      expect(hex(data(await f.channel.transmit(GET_CPLC))).startsWith('9F7F')).toBe(true);
    });

    it('traced() emits a matched apdu.command/apdu.response pair per transmit and card events on reset', async () => {
      const events: TraceEvent[] = [];
      const stop = subscribe((e) => events.push(e));
      try {
        const ch = traced(f.channel, { from: 'tsm', corr: { seId: f.se.seId } });
        const cmd = selectCommand(f.isdAid);
        const r = await ch.transmit(cmd, { annotate: { plainHex: 'abcd' } });
        await ch.reset(true);
        const mine = events.filter((e) => e.corr.seId === f.se.seId);
        const command = mine.find((e) => e.kind === 'apdu.command');
        const response = mine.find((e) => e.kind === 'apdu.response');
        if (command?.kind !== 'apdu.command' || response?.kind !== 'apdu.response') throw new Error('missing APDU events');
        expect(command).toMatchObject({ from: 'tsm', to: 'se', hex: hex(cmd), plainHex: 'ABCD' });
        expect(response).toMatchObject({ from: 'se', to: 'tsm', apduId: command.apduId, hex: hex(r), sw: '9000' });
        expect(response.seq).toBeGreaterThan(command.seq);
        expect(response.durationMs).toBeGreaterThanOrEqual(0);
        expect(mine.find((e) => e.kind === 'card.reset')).toMatchObject({ cold: true, from: 'tsm' });
        expect(mine.find((e) => e.kind === 'card.atr')).toBeDefined();
      } finally {
        stop();
      }
    });
  });
}
