import { describe, expect, it } from 'vitest';
import type { CardChannel } from '../drivers/channel.ts';
import type { CardEndpoint } from '../gp/index.ts';
import { InProcessChannel } from '../drivers/inproc.ts';
import { defaultFleet } from '../profiles/fleet.ts';
import { bearerConformance, type BearerFixture } from './mno-bearer.conformance.ts';
import { createBearer, DEFAULT_LIMITS, MnoError, MnoNetworks, type BearerKind } from './mno-network.ts';
import { SimulatedSe } from './se.ts';

/** A channel to a fresh simulated SE of the built-in fleet that counts what reached the card. */
async function fixture(): Promise<BearerFixture> {
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
  bearerConformance(kind, (opts) => createBearer(kind, opts), fixture);
}

const GET_CPLC = Uint8Array.from(Buffer.from('80CA9F7F00', 'hex'));

describe('bearer kinds', () => {
  it('give sms the smallest limits and http-admin larger ones', () => {
    expect(DEFAULT_LIMITS.sms.maxApduCount).toBeLessThan(DEFAULT_LIMITS['http-admin'].maxApduCount);
    expect(DEFAULT_LIMITS.sms.maxScriptSize).toBeLessThan(DEFAULT_LIMITS['http-admin'].maxScriptSize);
  });

  it('sms loses and retransmits segments; http-admin does not', async () => {
    const f = await fixture();
    const commands = Array.from({ length: 8 }, () => GET_CPLC);
    const sms = await createBearer('sms', { mno: 'M', seed: 3, lossPercent: 50, segmentSize: 16 }).deliver(f.channel, { commands });
    const http = await createBearer('http-admin', { mno: 'M', seed: 3, lossPercent: 50, segmentSize: 16 }).deliver(f.channel, { commands });
    expect(sms.retransmissions).toBeGreaterThan(0);
    expect(http.retransmissions).toBe(0);
    expect(sms.networkMs).toBeGreaterThan(http.networkMs);
    expect(f.seen()).toBe(16);
    await f.dispose();
  });
});

describe('MnoNetworks', () => {
  it('builds one network per MNO of the fleet with its bearer and limits', () => {
    const nets = new MnoNetworks(defaultFleet().mnos);
    expect(nets.get('MNO-A')!.bearer.kind).toBe('http-admin');
    expect(nets.get('MNO-B')!.bearer.kind).toBe('sms');
    expect(nets.get('MNO-B')!.limits).toEqual({ maxApduCount: 8, maxScriptSize: 1024 });
  });

  it('a network that is down refuses everything and sends nothing; the other one still carries', async () => {
    const nets = new MnoNetworks(defaultFleet().mnos);
    const a = await fixture();
    const b = await fixture();
    nets.setUp('MNO-B', false);
    const err = await nets.get('MNO-B')!.carry(b.channel, { commands: [GET_CPLC] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MnoError);
    expect((err as MnoError).kind).toBe('down');
    expect(b.seen()).toBe(0);
    const ok = await nets.get('MNO-A')!.carry(a.channel, { commands: [GET_CPLC] });
    expect(ok.responses).toHaveLength(1);
    nets.setUp('MNO-B', true);
    expect((await nets.get('MNO-B')!.carry(b.channel, { commands: [GET_CPLC] })).responses).toHaveLength(1);
    expect(() => nets.setUp('MNO-Z', false)).toThrow(/unknown MNO/);
    await a.dispose();
    await b.dispose();
  });
});
