import { describe, expect, it } from 'vitest';
import type { CardChannel } from '../drivers/channel.ts';
import type { CardEndpoint } from '../gp/index.ts';
import { InProcessChannel } from '../drivers/inproc.ts';
import { defaultFleet } from '../profiles/fleet.ts';
import { mnoGatewayConformance, type CardFixture } from '../tsm/mno-gateway.conformance.ts';
import { createBearer, DEFAULT_LIMITS, MAX_RETRANSMISSIONS, MnoNetworks, type BearerKind, type Carried, type Delivery } from './mno-network.ts';
import { SimulatedSe } from './se.ts';

/** A channel to a fresh simulated SE of the built-in fleet that counts what reached the card. */
async function fixture(): Promise<CardFixture> {
  const se = new SimulatedSe(defaultFleet().ses[0]);
  let count = 0;
  const counting: CardEndpoint = {
    seId: se.seId,
    get powered() {
      return se.powered;
    },
    powerOn: () => se.powerOn(),
    powerOff: () => se.powerOff(),
    reset: (cold: boolean) => se.reset(cold),
    atr: () => se.atr(),
    process: (c: Uint8Array) => {
      count++;
      return se.process(c);
    },
  };
  const channel: CardChannel = new InProcessChannel(counting);
  return { channel, seen: () => count, dispose: () => channel.close() };
}

for (const kind of ['sms', 'http-admin', 'local'] as BearerKind[]) {
  mnoGatewayConformance(
    'simulated networks',
    kind,
    (mnos) => {
      const networks = new MnoNetworks(mnos);
      return { gateway: networks, setUp: (mno, up) => networks.setUp(mno, up) };
    },
    fixture,
  );
}

const GET_CPLC = Uint8Array.from(Buffer.from('80CA9F7F00', 'hex'));

function delivered(c: Carried): Delivery {
  if (!c.ok) throw new Error(`the network failed: ${c.kind}: ${c.message}`);
  return c;
}

describe('bearer kinds', () => {
  it('give sms the smallest limits and http-admin larger ones', () => {
    expect(DEFAULT_LIMITS.sms.maxApduCount).toBeLessThan(DEFAULT_LIMITS['http-admin'].maxApduCount);
    expect(DEFAULT_LIMITS.sms.maxScriptSize).toBeLessThan(DEFAULT_LIMITS['http-admin'].maxScriptSize);
  });

  it('sms loses and retransmits segments; http-admin does not', async () => {
    const f = await fixture();
    const commands = Array.from({ length: 8 }, () => GET_CPLC);
    const sms = delivered(await createBearer('sms', { mno: 'M', seed: 3, lossPercent: 50, segmentSize: 16 }).deliver(f.channel, { commands }));
    const http = delivered(await createBearer('http-admin', { mno: 'M', seed: 3, lossPercent: 50, segmentSize: 16 }).deliver(f.channel, { commands }));
    expect(sms.retransmissions).toBeGreaterThan(0);
    expect(http.retransmissions).toBe(0);
    expect(sms.networkMs).toBeGreaterThan(http.networkMs);
    expect(f.seen()).toBe(16);
    await f.dispose();
  });

  it('is deterministic: the same seed gives the same deliveries, and loss never repeats a command', async () => {
    const f = await fixture();
    const run = async (kind: BearerKind) => {
      const b = createBearer(kind, { mno: 'MNO-T', seed: 7, lossPercent: 40, segmentSize: 16 });
      const d = delivered(await b.deliver(f.channel, { commands: [GET_CPLC, GET_CPLC, GET_CPLC, GET_CPLC] }));
      return { up: d.segmentsUp, down: d.segmentsDown, re: d.retransmissions, ms: d.networkMs, n: d.responses.length };
    };
    for (const kind of ['sms', 'http-admin', 'local'] as BearerKind[]) {
      const before = f.seen();
      const first = await run(kind);
      const second = await run(kind);
      expect(second).toEqual(first);
      expect(first.n).toBe(4);
      expect(f.seen() - before).toBe(8);
    }
    await f.dispose();
  });

  it('gives up on a segment lost too often: the lost failure, nothing sent when it was on the way up', async () => {
    const f = await fixture();
    const b = createBearer('sms', { mno: 'M', seed: 1, lossPercent: 90, segmentSize: 1 });
    const c = await b.deliver(f.channel, { commands: [GET_CPLC, GET_CPLC] });
    expect(c).toMatchObject({ ok: false, kind: 'lost', partial: [] });
    expect(c.ok ? '' : c.message).toMatch(new RegExp(`lost ${MAX_RETRANSMISSIONS} times on M`));
    expect(f.seen()).toBe(0);
    await f.dispose();
  });
});

describe('MnoNetworks', () => {
  it('builds one network per MNO of the fleet with its bearer and limits', () => {
    const nets = new MnoNetworks(defaultFleet().mnos);
    expect(nets.network('MNO-A')!.bearer).toBe('http-admin');
    expect(nets.network('MNO-B')!.bearer).toBe('sms');
    expect(nets.network('MNO-B')!.limits).toEqual({ maxApduCount: 8, maxScriptSize: 1024 });
  });

  it('refuses to switch an operator the fleet does not have, naming the ones it has', () => {
    const nets = new MnoNetworks(defaultFleet().mnos);
    expect(() => nets.setUp('MNO-Z', false)).toThrow(/unknown MNO "MNO-Z".*MNO-A, MNO-B/);
  });
});
