/**
 * The PC/SC driver against a simulated SE made a real card by the vpcd bridge, behind a real pcscd — the
 * private one of test/pcsc/with-pcscd.sh (`npm run test:pcsc`). Outside it this file is skipped, saying why.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fromHex, parseTlv, toHex } from '../gp/index.ts';
import { createSimulatedSe, DEFAULT_CENTRAL_SD_AID, defaultSeSpec } from '../simulator/index.ts';
import { insertCard, insidePrivatePcscd, SKIP_REASON, vpcdReaderName, type InsertedCard } from '../test/pcsc/namespace.ts';
import { T0Card } from '../test/pcsc/t0-card.ts';
import { DriverError } from './channel.ts';
import { type ChannelFixture, newSimulatedSe, runChannelConformance } from './channel.conformance.ts';
import { openChannel } from './open.ts';
import { listReaders, PcscChannel, PcscContext, type ReaderEvent } from './pcsc.ts';
import { insertIntoVpcd, vpcdSlots } from '../harness/vpcd-cards.ts';
import { isTraced } from './traced.ts';
import type { CardEndpoint } from '../gp/index.ts';

const run = promisify(execFile);
const ISD = 'A000000151000000';

if (!insidePrivatePcscd) console.warn(`drivers/pcsc.test.ts skipped: ${SKIP_REASON}`);

function newCard(seId = 'se-pcsc'): CardEndpoint {
  return newSimulatedSe(seId).se;
}

/** The conformance fixture: `se` inserted into a vpcd reader and opened through pcscd. */
async function openInVpcd(se: CardEndpoint): Promise<ChannelFixture> {
  const inserted = await insertCard(se);
  const channel = await PcscChannel.open(inserted.reader);
  return {
    channel,
    se,
    isdAid: ISD,
    dispose: async () => {
      await channel.close();
      await inserted.remove();
    },
  };
}

async function kindOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => 'resolved',
    (x: unknown) => x,
  );
  if (!(e instanceof DriverError)) throw new Error(`expected a DriverError, got ${String(e)}`);
  return `${e.kind}: ${e.message}`;
}

describe.skipIf(!insidePrivatePcscd)('PC/SC driver through pcscd and vpcd', () => {
  runChannelConformance('PC/SC (vpcd)', () => openInVpcd(newCard()));
  runChannelConformance('PC/SC (vpcd, card speaking T=0 status words)', () => openInVpcd(new T0Card(newCard())));

  describe('readers, selection, events, removal', () => {
    const cleanup: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const c of cleanup.splice(0).reverse()) await c();
    });
    async function inserted(card: CardEndpoint, slot = 0): Promise<InsertedCard> {
      const c = await insertCard(card, slot);
      cleanup.push(() => c.remove());
      return c;
    }
    async function opened(selector: Parameters<typeof PcscChannel.open>[0], opts = {}): Promise<PcscChannel> {
      const ch = await PcscChannel.open(selector, opts);
      cleanup.push(() => ch.close());
      return ch;
    }

    beforeAll(async () => {
      // The namespace has at least the two slots of one vpcd reader.
      const names = (await listReaders()).map((r) => r.name);
      expect(names.slice(0, 2)).toEqual([vpcdReaderName(0), vpcdReaderName(1)]);
    });

    it('lists readers with the ATR of the inserted card and nothing in the empty slot', async () => {
      const card = newCard();
      await inserted(card, 1);
      const readers = await listReaders();
      expect(readers[0]).toMatchObject({ index: 0, name: vpcdReaderName(0), present: false });
      expect(readers[1]).toMatchObject({ index: 1, name: vpcdReaderName(1), present: true });
      expect(toHex(readers[1].atr!)).toBe(toHex(card.atr()));
    });

    it('chooses a reader by exact name, index, pattern, glob, or the only one holding a card', async () => {
      await inserted(newCard(), 1);
      for (const sel of [vpcdReaderName(1), 1, /PCD 00 01$/, '*PCD 00 01', '']) {
        const ch = await PcscChannel.open(sel);
        expect(ch.name).toBe(`pcsc:${vpcdReaderName(1)}`);
        expect(toHex(await ch.transmit(fromHex('80000000')))).toBe('6D00');
        await ch.close();
      }
      expect(await kindOf(PcscChannel.open('No Such Reader'))).toMatch(/^unavailable: .*no reader named "No Such Reader".*Virtual PCD 00 00/);
      expect(await kindOf(PcscChannel.open(0))).toMatch(/^unavailable: .*no card in reader "Virtual PCD 00 00"/);
      expect(await kindOf(PcscChannel.open('/PCD/'))).toMatch(/^unavailable: .*readers match/);
    });

    it('insertIntoVpcd puts an SE into every slot (several vpcd readers) and names each one’s pcsc: target', async () => {
      const slots = vpcdSlots();
      expect(slots.length).toBeGreaterThanOrEqual(4);
      const ses = slots.map((_, n) => newSimulatedSe(`se-${n}`).se);
      const cards = await insertIntoVpcd(ses);
      cleanup.push(() => cards.close());
      expect(cards.targets).toEqual(Object.fromEntries(ses.map((se, n) => [se.seId, `pcsc:${vpcdReaderName(n)}`])));
      for (const se of ses) {
        const ch = await openChannel(cards.targets[se.seId], { trace: false });
        // Each reader holds its own card: the CPLC (serial number derived from the SE id) says which.
        expect(toHex(await ch.transmit(fromHex('80CA9F7F00')))).toBe(toHex(se.process(fromHex('80CA9F7F00'))));
        await ch.close();
      }
      expect(await kindOf(insertIntoVpcd(slots.map((_, n) => newSimulatedSe(`se-${n}`).se).concat(newSimulatedSe('one-too-many').se)))).toMatch(
        /^unavailable: vpcd: \d+ SEs but only \d+ reader slots \(run under test\/pcsc\/with-pcscd\.sh --readers \d+\)/,
      );
    });

    it('is what openChannel("pcsc:<reader>") gives, traced', async () => {
      const c = await inserted(newCard());
      const ch = await openChannel(`pcsc:${c.reader}`);
      cleanup.push(() => ch.close());
      expect(isTraced(ch)).toBe(true);
      expect(ch.name).toBe(`pcsc:${c.reader}`);
      expect(toHex(await ch.transmit(fromHex('80000000')))).toBe('6D00');
    });

    it('waits for a card to be inserted when asked to, and reports insertion and removal events', async () => {
      const ctx = await PcscContext.acquire();
      const events: ReaderEvent[] = [];
      const off = ctx.on((e) => events.push(e));
      try {
        const opening = PcscChannel.open(0, { waitForCardMs: 10_000 });
        const card = newCard();
        const c = await insertCard(card, 0);
        const ch = await opening;
        expect(toHex(await ch.atr())).toBe(toHex(card.atr()));
        await ch.close();
        await c.remove();
        const mine = events.filter((e) => 'reader' in e && e.reader === vpcdReaderName(0)).map((e) => e.type);
        expect(mine).toEqual(['card-inserted', 'card-removed']);
      } finally {
        off();
        ctx.release();
      }
    });

    it('a card removed mid-command rejects the exchange with DriverError(removed), and later calls too', async () => {
      const card = newCard();
      let bridgeClose: (() => Promise<void>) | undefined;
      // The card is pulled out while it processes GET DATA: it never answers.
      const pulled: CardEndpoint = {
        get seId() {
          return card.seId;
        },
        get powered() {
          return card.powered;
        },
        powerOn: () => card.powerOn(),
        powerOff: () => card.powerOff(),
        reset: (cold) => card.reset(cold),
        atr: () => card.atr(),
        process: (c) => {
          if (c[1] === 0xca) {
            void bridgeClose?.();
            // The bridge is gone before this answer could travel.
          }
          return card.process(c);
        },
      };
      const c = await inserted(pulled);
      bridgeClose = () => c.pull();
      const ch = await opened(c.reader);
      const removedSeen = new Promise<string>((r) => ch.onRemoved(r));
      expect(toHex(await ch.transmit(fromHex('80000000')))).toBe('6D00');
      expect(await kindOf(ch.transmit(fromHex('80CA9F7F00'), { timeoutMs: 8000 }))).toMatch(/^removed: /);
      expect(await removedSeen).toMatch(/removed/);
      expect(ch.removed).toBe(true);
      expect(await kindOf(ch.transmit(fromHex('80000000')))).toMatch(/^removed: /);
    });

    it('exclusive access keeps other applications out; shared lets them in', async () => {
      const c = await inserted(newCard());
      const mine = await opened(c.reader, { exclusive: true });
      expect(await kindOf(PcscChannel.open(c.reader, { exclusive: false }))).toMatch(/^unavailable: .*exclusive use/);
      await mine.close();
      const a = await opened(c.reader, { exclusive: false });
      const b = await opened(c.reader, { exclusive: false });
      expect(toHex(await a.transmit(fromHex('80000000')))).toBe('6D00');
      expect(toHex(await b.transmit(fromHex('80000000')))).toBe('6D00');
    });

    it('fetches a simulated card’s 61xx-segmented answer (over 256 bytes) whole with GET RESPONSE', async () => {
      const instances = Array.from({ length: 30 }, (_, k) => ({
        aid: `F050415900000101${k.toString(16).padStart(2, '0')}`,
        packageAid: 'F0504159000001',
        moduleAid: 'F050415900000101',
        sd: DEFAULT_CENTRAL_SD_AID,
      }));
      const se = createSimulatedSe(defaultSeSpec({ seId: 'se-long', instances }));
      const c = await inserted(se);
      const ch = await opened(c.reader);
      const r = await ch.transmit(fromHex('80CA2F0000'));
      expect(r.length).toBeGreaterThan(258);
      expect(toHex(r.subarray(-2))).toBe('9000');
      // Every application, the 30 instances among them, arrived as one '61' template each.
      const apps = parseTlv(r.subarray(0, -2));
      expect(apps.length).toBe(32);
      expect(apps.every((t) => t.tag === 0x61)).toBe(true);
    });

    it('with extendedLength: false an extended command is refused before it reaches the card', async () => {
      const card = new T0Card(newCard());
      const c = await inserted(card);
      const ch = await opened(c.reader, { extendedLength: false });
      const ext = fromHex(`00A40400 000008 ${ISD} 0000`);
      expect(await kindOf(ch.transmit(ext))).toMatch(/^protocol: .*extended-length command refused/);
      expect(card.received).toEqual([]);
      expect(toHex(await ch.transmit(fromHex('80000000')))).toBe('6D00');
    });

    it('carries 61xx with GET RESPONSE and 6Cxx with a re-send, so callers see one answer', async () => {
      const t0 = new T0Card(newCard());
      const c = await inserted(t0);
      const ch = await opened(c.reader);
      // What the card answers SELECT without T=0 rules: its FCI length is what 61xx must announce.
      const fciLen = toHex(Uint8Array.of(newCard().process(fromHex(`00A40400 08 ${ISD} 00`)).length - 2));
      const select = await ch.transmit(fromHex(`00A40400 08 ${ISD} 00`));
      expect(toHex(select).endsWith('9000')).toBe(true);
      expect(toHex(select).startsWith('6F')).toBe(true);
      // GET DATA CPLC with a wrong Le of 5: the card says 6C2D, the driver asks again with Le=2D.
      const cplc = await ch.transmit(fromHex('80CA9F7F05'));
      expect(cplc.length).toBe(45 + 2);
      expect(t0.received).toEqual([`00A4040008${ISD}00`, `00C00000${fciLen}`, '80CA9F7F05', '80CA9F7F2D']);
      // With the chaining off the caller sees the card's own status words.
      await ch.close();
      const raw = await opened(c.reader, { getResponse: false });
      expect(toHex(await raw.transmit(fromHex(`00A40400 08 ${ISD} 00`)))).toBe(`61${fciLen}`);
    });

    it('reports pcscd gone as DriverError(unavailable) with what to do', async () => {
      const saved = process.env.PCSCLITE_CSOCK_NAME;
      // A child process, so this process keeps its working context.
      const script = `import('./drivers/pcsc.ts').then(m => m.listReaders()).then(() => console.log('listed'), e => console.log(e.kind + ': ' + e.message))`;
      const { stdout } = await run(process.execPath, ['--import', 'tsx', '-e', script], {
        env: { ...process.env, PCSCLITE_CSOCK_NAME: '/nonexistent/pcscd.comm' },
      });
      expect(saved).toBeDefined();
      expect(stdout.trim()).toMatch(/^unavailable: .*pcscd is not running/);
    });
  });

  describe('an external PC/SC client (opensc-tool) reads the simulated card', () => {
    it('gets the ATR and the ISD FCI, and the CPLC', async () => {
      const card = newCard();
      const c = await insertCard(card, 0);
      try {
        const atr = await run('opensc-tool', ['--reader', '0', '--atr']);
        expect(atr.stdout.trim().replace(/:/g, '').toUpperCase()).toBe(toHex(card.atr()));
        const apdu = await run('opensc-tool', ['--reader', '0', '--send-apdu', `00A4040008${ISD}`, '--send-apdu', '80CA9F7F00']);
        const sws = [...apdu.stdout.matchAll(/SW1=0x([0-9a-f]{2}), SW2=0x([0-9a-f]{2})/gi)].map((m) => `${m[1]}${m[2]}`.toUpperCase());
        expect(sws).toEqual(['9000', '9000']);
        // The FCI carries the ISD AID; opensc-tool prints the bytes spaced.
        expect(apdu.stdout.replace(/\s+/g, ' ')).toContain('84 08 A0 00 00 01 51 00 00 00');
        expect(apdu.stdout).toContain('9F 7F');
      } finally {
        await c.remove();
      }
    });
  });
});
