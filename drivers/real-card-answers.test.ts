/**
 * GET RESPONSE chaining as a T=0 card does it ('61xx', then data with the final status word), where the final
 * status word is a warning ('6283', '6310'): the command completed, so its data must reach the caller intact,
 * also under SCP03 with R-MAC and R-ENCRYPTION. The card is the simulator behind the T=0 adapter of the PC/SC
 * tests; the host side is the driver's exchangeT0 and gp's openSecureChannel.
 */
import { describe, expect, it } from 'vitest';
import { decodeGetStatusResponse, encodeCommand, fromHex, getStatus, getStatusNext, openSecureChannel, parseResponse, selectByAid, SW, toHex } from '../gp/index.ts';
import { cmd } from '../simulator/testing-apdus.ts';
import { CENTRAL, ISD, fixture } from '../simulator/test-fixtures.ts';
import { T0Card } from '../test/pcsc/t0-card.ts';
import { exchangeT0 } from './pcsc-t0.ts';

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
