/**
 * The one conformance suite every MnoGateway implementation runs (the simulated networks today, real OTA bearers
 * later), once per bearer it offers. The card behind the link is a real (simulated) SE; the fixture counts the
 * commands that reached it. Import only from *.test.ts files.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DriverError, type CardChannel } from '../drivers/channel.ts';
import type { TraceAnnotation } from '../drivers/extensions.ts';
import type { Bearer, MnoSpec } from '../profiles/fleet-types.ts';
import { subscribe, type TraceEvent } from '../trace/index.ts';
import { carryOver, linkTo, MnoGatewayError, scriptSize, type CarryFailure, type Delivery, type GatewayLink, type MnoGateway, type OperatorNetwork } from './mno-gateway.ts';

export interface GatewayUnderTest {
  gateway: MnoGateway;
  /** Takes a network down or back up: the lab's control over this gateway; omit when it has none. */
  setUp?(mno: string, up: boolean): void;
}

export interface CardFixture {
  /** A channel to a fresh simulated SE. */
  channel: CardChannel;
  /** Commands the card has received so far. */
  seen(): number;
  dispose(): Promise<void>;
}

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const sw = (r: Uint8Array) => Buffer.from(r.subarray(r.length - 2)).toString('hex').toUpperCase();
/** SELECT of the GP issuer SD (9000 with its FCI on any GP card). */
const SELECT_ISD = hex('00A4040008A000000151000000' + '00');
/** GET DATA of the CPLC (9F7F) from the ISD. */
const GET_CPLC = hex('80CA9F7F00');
/** An instruction no GP SD knows: 6D00. */
const UNKNOWN_INS = hex('80EE000000');

function delivered(c: Delivery | CarryFailure): Delivery {
  if (!c.ok) throw new Error(`expected a delivery, the network failed: ${c.kind}: ${c.message}`);
  return c;
}

function failed(c: Delivery | CarryFailure): CarryFailure {
  if (c.ok) throw new Error(`expected a failure, the network delivered ${c.responses.length} response(s)`);
  return c;
}

/**
 * `make` builds the gateway for the fleet's operators in `mnos` (all of the bearer under test, limits as given or
 * the bearer's own); `card` opens a channel to a fresh card.
 */
export function mnoGatewayConformance(name: string, bearer: Bearer, make: (mnos: MnoSpec[]) => GatewayUnderTest, card: () => Promise<CardFixture>): void {
  describe(`MnoGateway conformance: ${name}, ${bearer} bearer`, () => {
    let f: CardFixture;
    let events: TraceEvent[];
    let stop: () => void;
    const one = (limits: Pick<MnoSpec, 'maxApduCount' | 'maxScriptSize'> = {}) => {
      const g = make([{ name: 'MNO-T', bearer, ...limits }, { name: 'MNO-U', bearer }]);
      return { ...g, network: g.gateway.network('MNO-T')! };
    };

    beforeEach(async () => {
      f = await card();
      events = [];
      stop = subscribe((e) => events.push(e));
    });

    afterEach(async () => {
      stop();
      await f.dispose();
    });

    it('routes by operator name to a network that says its bearer, its limits and that it is up', () => {
      const { gateway } = one({ maxApduCount: 3, maxScriptSize: 300 });
      const t = gateway.network('MNO-T');
      expect(t).toMatchObject({ name: 'MNO-T', bearer, up: true, limits: { maxApduCount: 3, maxScriptSize: 300 } });
      expect(gateway.networks().map((n) => n.name).sort()).toEqual(['MNO-T', 'MNO-U']);
      expect(gateway.network('MNO-Z')).toBeUndefined();
      const own = gateway.network('MNO-U')!.limits;
      expect(own.maxApduCount).toBeGreaterThan(0);
      expect(own.maxScriptSize).toBeGreaterThan(0);
    });

    it('carries every command to the card once, in order, with one response each', async () => {
      const { network } = one();
      const d = delivered(await network.carry(linkTo(f.channel), { commands: [SELECT_ISD, GET_CPLC, GET_CPLC] }));
      expect(d.responses.map(sw)).toEqual(['9000', '9000', '9000']);
      expect(d.responses[1].length).toBeGreaterThan(2);
      expect(d.stoppedAt).toBeUndefined();
      expect(f.seen()).toBe(3);
      expect(d.segmentsUp).toBeGreaterThanOrEqual(1);
      expect(d.segmentsDown).toBeGreaterThanOrEqual(1);
      expect(d.networkMs).toBeGreaterThanOrEqual(0);
    });

    it('stops where the caller says and never sends the rest', async () => {
      const { network } = one();
      const d = delivered(
        await network.carry(linkTo(f.channel), { commands: [SELECT_ISD, UNKNOWN_INS, GET_CPLC, GET_CPLC], shouldStop: (r) => sw(r) !== '9000' }),
      );
      expect(d.stoppedAt).toBe(1);
      expect(d.responses.map(sw)).toEqual(['9000', '6D00']);
      expect(f.seen()).toBe(2);
    });

    it('hands each command its annotation, deadline and signal, so the traced channel sees what was wrapped', async () => {
      const { network } = one();
      const seen: { annotate?: TraceAnnotation; timeoutMs?: number; signal?: AbortSignal }[] = [];
      const inner = linkTo(f.channel);
      const link: GatewayLink = {
        name: inner.name,
        transmit: (command, opts) => {
          seen.push({ annotate: opts?.annotate, timeoutMs: opts?.timeoutMs, signal: opts?.signal });
          return inner.transmit(command, opts);
        },
      };
      const note: TraceAnnotation = { plainHex: '80CA9F7F00' };
      const signal = new AbortController().signal;
      delivered(await network.carry(link, { commands: [SELECT_ISD, GET_CPLC], annotations: [undefined, note], timeoutMs: 1234, signal }));
      expect(seen).toEqual([
        { annotate: undefined, timeoutMs: 1234, signal },
        { annotate: note, timeoutMs: 1234, signal },
      ]);
    });

    it('refuses a script over its APDU count or size whole, before sending anything', async () => {
      const { network } = one({ maxApduCount: 2, maxScriptSize: 20 });
      const overCount = failed(await network.carry(linkTo(f.channel), { commands: [GET_CPLC, GET_CPLC, GET_CPLC] }));
      expect(overCount).toMatchObject({ kind: 'limit', partial: [] });
      const big = [SELECT_ISD, SELECT_ISD];
      expect(scriptSize(big)).toBeGreaterThan(20);
      expect(failed(await network.carry(linkTo(f.channel), { commands: big }))).toMatchObject({ kind: 'limit', partial: [] });
      expect(f.seen()).toBe(0);
      // Exactly at the limits is allowed.
      expect(delivered(await network.carry(linkTo(f.channel), { commands: [GET_CPLC, GET_CPLC] })).responses).toHaveLength(2);
    });

    it('answers an unreachable SE with the unreachable failure, and carryOver throws it as MnoGatewayError', async () => {
      const { network } = one();
      await f.channel.close();
      expect(failed(await network.carry(linkTo(f.channel), { commands: [GET_CPLC] }))).toMatchObject({ kind: 'unreachable', partial: [] });
      const err = await carryOver(network, f.channel, { commands: [GET_CPLC] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MnoGatewayError);
      expect(err).toMatchObject({ kind: 'unreachable', partial: [] });
    });

    it('answers an SE that stops answering mid-script with no-response, keeping the responses already received', async () => {
      const { network } = one();
      let sent = 0;
      const silentAfterOne: CardChannel = {
        name: f.channel.name,
        transmit: (command, opts) => (++sent > 1 ? Promise.reject(new DriverError('timeout', 'no answer within 50 ms')) : f.channel.transmit(command, opts)),
        atr: (opts) => f.channel.atr(opts),
        reset: (cold, opts) => f.channel.reset(cold, opts),
        close: () => f.channel.close(),
      };
      const failure = failed(await network.carry(linkTo(silentAfterOne), { commands: [SELECT_ISD, GET_CPLC, GET_CPLC] }));
      expect(failure.kind).toBe('no-response');
      expect(failure.message).toMatch(/did not answer/);
      expect(failure.partial.map(sw)).toEqual(['9000']);
      expect(f.seen()).toBe(1);
    });

    it('emits mno.hop events naming its MNO and bearer, towards the SE and back', async () => {
      const { network } = one();
      delivered(await network.carry(linkTo(f.channel), { commands: [SELECT_ISD] }));
      const hops = events.filter((e) => e.kind === 'mno.hop');
      expect(hops.length).toBeGreaterThanOrEqual(2);
      for (const h of hops) expect(h).toMatchObject({ mno: 'MNO-T', bearer });
      expect(hops[0]).toMatchObject({ from: 'tsm', to: 'mno' });
      expect(hops[hops.length - 1]).toMatchObject({ from: 'mno', to: 'tsm' });
    });

    it('a network that is down refuses everything and touches no card; the other network still carries', async (ctx) => {
      const g = one();
      if (!g.setUp) return ctx.skip();
      const other: OperatorNetwork = g.gateway.network('MNO-U')!;
      g.setUp('MNO-T', false);
      expect(g.network.up).toBe(false);
      expect(failed(await g.network.carry(linkTo(f.channel), { commands: [GET_CPLC] }))).toMatchObject({ kind: 'down', partial: [] });
      expect(f.seen()).toBe(0);
      expect(other.up).toBe(true);
      expect(delivered(await other.carry(linkTo(f.channel), { commands: [GET_CPLC] })).responses).toHaveLength(1);
      g.setUp('MNO-T', true);
      expect(g.network.up).toBe(true);
      expect(delivered(await g.network.carry(linkTo(f.channel), { commands: [GET_CPLC] })).responses).toHaveLength(1);
      expect(f.seen()).toBe(2);
    });
  });
}
