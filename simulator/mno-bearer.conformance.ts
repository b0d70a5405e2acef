/**
 * The one conformance suite every MNO bearer runs (sms, http-admin, local). The card behind the channel is a
 * real simulated SE; the fixture counts the commands that reached it. Import only from *.test.ts files.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CardChannel } from '../drivers/channel.ts';
import { subscribe, type TraceEvent } from '../trace/index.ts';
import { MnoError, scriptSize, type Bearer, type BearerKind, type BearerOptions } from './mno-bearer.ts';

export interface BearerFixture {
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

export function bearerConformance(kind: BearerKind, make: (opts: BearerOptions) => Bearer, fixture: () => Promise<BearerFixture>): void {
  describe(`MNO bearer conformance: ${kind}`, () => {
    let f: BearerFixture;
    let events: TraceEvent[];
    let stop: () => void;

    beforeEach(async () => {
      f = await fixture();
      events = [];
      stop = subscribe((e) => events.push(e));
    });

    afterEach(async () => {
      stop();
      await f.dispose();
    });

    it('carries every command to the card once, in order, with one response each', async () => {
      const b = make({ mno: 'MNO-T' });
      const d = await b.deliver(f.channel, { commands: [SELECT_ISD, GET_CPLC, GET_CPLC] });
      expect(d.responses.map(sw)).toEqual(['9000', '9000', '9000']);
      expect(d.responses[1].length).toBeGreaterThan(2);
      expect(d.stoppedAt).toBeUndefined();
      expect(f.seen()).toBe(3);
      expect(d.segmentsUp).toBeGreaterThanOrEqual(1);
      expect(d.segmentsDown).toBeGreaterThanOrEqual(1);
      expect(d.networkMs).toBeGreaterThanOrEqual(0);
    });

    it('stops where the caller says and never sends the rest', async () => {
      const b = make({ mno: 'MNO-T' });
      const d = await b.deliver(f.channel, {
        commands: [SELECT_ISD, UNKNOWN_INS, GET_CPLC, GET_CPLC],
        shouldStop: (r) => sw(r) !== '9000',
      });
      expect(d.stoppedAt).toBe(1);
      expect(d.responses.map(sw)).toEqual(['9000', '6D00']);
      expect(f.seen()).toBe(2);
    });

    it('refuses a script over its APDU count or size whole, before sending anything', async () => {
      const b = make({ mno: 'MNO-T', limits: { maxApduCount: 2, maxScriptSize: 20 } });
      expect(b.limits).toEqual({ maxApduCount: 2, maxScriptSize: 20 });
      await expect(b.deliver(f.channel, { commands: [GET_CPLC, GET_CPLC, GET_CPLC] })).rejects.toMatchObject({ kind: 'limit' });
      const big = [SELECT_ISD, SELECT_ISD];
      expect(scriptSize(big)).toBeGreaterThan(20);
      await expect(b.deliver(f.channel, { commands: big })).rejects.toBeInstanceOf(MnoError);
      expect(f.seen()).toBe(0);
      // Exactly at the limits is allowed.
      const d = await b.deliver(f.channel, { commands: [GET_CPLC, GET_CPLC] });
      expect(d.responses).toHaveLength(2);
    });

    it('turns a channel failure into an MnoError carrying the responses already received', async () => {
      const b = make({ mno: 'MNO-T' });
      await f.channel.close();
      const err = await b.deliver(f.channel, { commands: [GET_CPLC] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MnoError);
      expect((err as MnoError).kind).toBe('unreachable');
      expect((err as MnoError).partial).toEqual([]);
    });

    it('emits mno.hop events naming its MNO and bearer, towards the SE and back', async () => {
      const b = make({ mno: 'MNO-T' });
      await b.deliver(f.channel, { commands: [SELECT_ISD] });
      const hops = events.filter((e) => e.kind === 'mno.hop');
      expect(hops.length).toBeGreaterThanOrEqual(2);
      for (const h of hops) expect(h).toMatchObject({ mno: 'MNO-T', bearer: kind });
      expect(hops[0]).toMatchObject({ from: 'tsm', to: 'mno' });
      expect(hops[hops.length - 1]).toMatchObject({ from: 'mno', to: 'tsm' });
    });

    it('is deterministic: the same seed gives the same deliveries, and loss never repeats a command', async () => {
      const run = async () => {
        const b = make({ mno: 'MNO-T', seed: 7, lossPercent: 40, segmentSize: 16 });
        const d = await b.deliver(f.channel, { commands: [SELECT_ISD, GET_CPLC, GET_CPLC, GET_CPLC] });
        return { up: d.segmentsUp, down: d.segmentsDown, re: d.retransmissions, ms: d.networkMs, n: d.responses.length };
      };
      const first = await run();
      const second = await run();
      expect(second).toEqual(first);
      expect(first.n).toBe(4);
      expect(f.seen()).toBe(8);
    });
  });
}
