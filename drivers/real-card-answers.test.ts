/**
 * GET RESPONSE chaining as a T=0 card does it ('61xx', then data with the final status word), where the final
 * status word is a warning ('6283', '6310'): the command completed, so its data must reach the caller intact,
 * also under SCP03 with R-MAC and R-ENCRYPTION. The card is the simulator behind the T=0 adapter of the PC/SC
 * tests; the host side is the driver's exchangeT0 and gp's openSecureChannel.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  decodeGetStatusResponse,
  encodeCommand,
  fromHex,
  getStatus,
  getStatusNext,
  openSecureChannel,
  parseResponse,
  Scp02Host,
  scp02HostFactory,
  selectByAid,
  setStatus,
  SW,
  toHex,
} from '../gp/index.ts';
import { type CardProfile, parseCardProfile, resolveCardKeys } from '../profiles/index.ts';
import { defaultKeySet } from '../simulator/default-card.ts';
import { cmd } from '../simulator/testing-apdus.ts';
import { CENTRAL, ISD, fixture } from '../simulator/test-fixtures.ts';
import { T0Card } from '../test/pcsc/t0-card.ts';
import { InProcessChannel } from './inproc.ts';
import { exchangeT0 } from './pcsc-t0.ts';
import { AuthBudgets, GuardedCard, InconclusiveError } from './safety.ts';

const PKG = 'F0504159000001';
const MOD = 'F050415900000101';

function apps(n: number) {
  return Array.from({ length: n }, (_, k) => ({ aid: `${MOD}${k.toString(16).padStart(4, '0').toUpperCase()}`, packageAid: PKG, moduleAid: MOD, sd: CENTRAL, size: 16 }));
}

describe('a warning after GET RESPONSE chaining keeps its data', () => {
  it("SELECT of the ISD on a CARD_LOCKED card: '61xx', GET RESPONSE, then the FCI with '6283'", async () => {
    const { se, t, centralKeys } = fixture('03', { instances: apps(1) });
    t.select(CENTRAL);
    t.open(centralKeys);
    t.ok(cmd.setStatus(0x80, 0x7f));
    const card = new T0Card(se);
    const select = encodeCommand(selectByAid(fromHex(ISD)));
    const raw = card.process(select);
    expect(raw[0]).toBe(0x61); // the card announces the FCI; the warning comes with it later
    const r = parseResponse(await exchangeT0(select, async (c) => card.process(c)));
    expect(r.sw).toBe(SW.CARD_LOCKED);
    expect(r.data[0]).toBe(0x6f);
    expect(toHex(r.data)).toContain(ISD);
    expect(card.received.at(-1)).toMatch(/^00C00000/);
  });

  it("GET STATUS pages under SCP03 level 33 over T=0: each page's data with '6310' is unwrapped and kept", async () => {
    const { se, isdKeys } = fixture('03', { instances: apps(20) });
    const card = new T0Card(se);
    const transmit = (c: Uint8Array) => exchangeT0(c, async (x) => card.process(x));
    expect(parseResponse(await transmit(encodeCommand(selectByAid(fromHex(ISD))))).sw).toBe(0x9000);
    const keys = { kvn: isdKeys.kvn, scp: '03' as const, enc: fromHex(isdKeys.enc), mac: fromHex(isdKeys.mac), dek: fromHex(isdKeys.dek) };
    const channel = await openSecureChannel(transmit, { keys, level: 0x33, sdAid: fromHex(ISD) });
    let command = getStatus({ subset: 'applications' });
    const aids: string[] = [];
    let warnings = 0;
    for (;;) {
      const r = await channel.transmitSecure(command);
      aids.push(...decodeGetStatusResponse(r.data, { format: 'tlv', subset: 'applications' }).map((e) => toHex(e.aid)));
      if (r.sw === SW.OK) break;
      expect(r.sw).toBe(SW.MORE_DATA);
      expect(r.data.length).toBeGreaterThan(0);
      warnings++;
      command = getStatusNext(command);
    }
    expect(warnings).toBeGreaterThan(0);
    for (const a of apps(20)) expect(aids).toContain(a.aid);
    // The answers really went through GET RESPONSE.
    expect(card.received.filter((c) => c.startsWith('00C0')).length).toBeGreaterThan(warnings);
  });
});

describe("the real-card guard follows a SELECT answered with a warning ('6283')", () => {
  it('after the card is locked, the ISD selected with 6283 is the SD whose card cryptogram the guard checks', async () => {
    const RIGHT = '404142434445464748494A4B4C4D4E4F';
    const WRONG = '000102030405060708090A0B0C0D0E0F';
    const { se, centralKeys: central } = fixture('02', { isdKeys: defaultKeySet({ scp: '02', key: RIGHT, kvn: 0x20, i: '55' }) });
    const p = parseCardProfile(JSON.parse(readFileSync(new URL('../profiles/examples/sim-scp02.json', import.meta.url), 'utf8')) as CardProfile, { source: 'sim-scp02.json' });
    const env = { TSMLAB_SCP02_ENC: WRONG, TSMLAB_SCP02_MAC: WRONG, TSMLAB_SCP02_DEK: WRONG };
    const guard = await GuardedCard.open(new InProcessChannel(se), {
      profile: p,
      keys: resolveCardKeys(p, env),
      destructive: { scenarioTags: ['@destructive'], sacrificial: true, allowDestructive: true },
      budgets: new AuthBudgets(),
    });
    // Lock the card through the central SD (it holds Card Lock), as a @destructive scenario would.
    expect(parseResponse(await guard.transmit(encodeCommand(selectByAid(fromHex(CENTRAL)))))).toMatchObject({ sw: 0x9000 });
    const keys = { kvn: central.kvn, scp: '02' as const, enc: fromHex(central.enc), mac: fromHex(central.mac), dek: fromHex(central.dek) };
    const channel = await openSecureChannel((c) => guard.transmit(c), { keys, level: 0x01, sdAid: fromHex(CENTRAL), hostFactory: scp02HostFactory(0x55) });
    expect((await channel.transmitSecure(setStatus('isd', 0x7f))).sw).toBe(0x9000);
    // The ISD (Final Application) is selected with the warning and its FCI.
    const selected = parseResponse(await guard.transmit(encodeCommand(selectByAid(fromHex(ISD)))));
    expect(selected.sw).toBe(SW.CARD_LOCKED);
    expect(selected.data.length).toBeGreaterThan(0);
    // INITIALIZE UPDATE now goes to the ISD: the guard checks its card cryptogram against the (wrong) profile keys.
    const host = new Scp02Host({ keys: { enc: fromHex(WRONG), mac: fromHex(WRONG), dek: fromHex(WRONG) }, i: 0x55 });
    const e = await guard.transmit(encodeCommand(host.initializeUpdate(0x20, fromHex('1122334455667788')))).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InconclusiveError);
    expect((e as Error).message).toMatch(/card cryptogram mismatch on INITIALIZE UPDATE \(ISD A000000151000000/);
  });
});

