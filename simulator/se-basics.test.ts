import { describe, expect, it } from 'vitest';
import { fromHex, parseTlv, findTlv, toHex } from '../gp/index.ts';
import { checkAtr } from './atr.ts';
import { defaultKeySet, defaultSeSpec } from './default-card.ts';
import { SimulatorError } from './errors.ts';
import { SimulatedSe } from './se.ts';
import { cmd } from './testing-apdus.ts';
import { CENTRAL, ISD, fixture } from './test-fixtures.ts';

const raw = (se: SimulatedSe, hex: string) => toHex(se.process(fromHex(hex)));
const sw = (hex: string) => hex.slice(-4);

describe('ATR and power', () => {
  it('announces T=1 with a valid TCK, per SE configurable', () => {
    const { se } = fixture('02');
    const atr = se.atr();
    expect(atr[0]).toBe(0x3b);
    expect(checkAtr(atr).protocols).toContain(1);
    let x = 0;
    for (const b of atr.subarray(1)) x ^= b;
    expect(x).toBe(0);
    const custom = new SimulatedSe(defaultSeSpec({ atr: '3B8180018080' }));
    expect(toHex(custom.atr())).toBe('3B8180018080');
  });

  it('rejects an ATR without T=1 or with a wrong TCK', () => {
    expect(() => new SimulatedSe(defaultSeSpec({ atr: '3B00' }))).toThrow(/T=1/);
    expect(() => new SimulatedSe(defaultSeSpec({ atr: '3B8180018081' }))).toThrow(/TCK/);
  });

  it('answers 6F00 while powered off and drops the selection and channel on power off and reset', () => {
    const { se, t, isdKeys } = fixture('02');
    expect(t.select(CENTRAL).sw).toBe(0x9000);
    se.powerOff();
    expect(se.powered).toBe(false);
    expect(raw(se, '80CA9F7F00')).toBe('6F00');
    expect(toHex(se.powerOn())).toBe(toHex(se.atr()));
    expect(se.inspect().session.selected).toBe(ISD);
    expect(t.open(isdKeys)).toBe(0x9000);
    expect(se.inspect().session.secureChannel?.sd).toBe(ISD);
    se.reset(false);
    expect(se.inspect().session.secureChannel).toBeUndefined();
    expect(t.send(cmd.getStatus(0x40)).sw).toBe(0x6982);
  });
});

describe('class and instruction errors', () => {
  const { se } = fixture('02');
  it.each([
    ['FFCA9F7F00', '6E00', 'CLA FF'],
    ['81CA9F7F00', '6881', 'logical channel 1'],
    ['C0CA9F7F00', '6881', 'further interindustry channel'],
    ['90CA9F7F00', '6884', 'ISO chaining'],
    ['88CA9F7F00', '6882', 'ISO secure messaging'],
    ['20CA9F7F00', '6E00', 'b6 without b7'],
    ['80CA', '6700', 'shorter than a header'],
    ['80CA9F7F0501', '6700', 'Lc larger than the data'],
    ['80990000', '6D00', 'unknown INS'],
    ['00F2400002', '6E00', 'GET STATUS with an ISO class'],
    ['80700000', '6D00', 'INS 70 with a GP class is no SD command'],
    ['00700000', '6881', 'MANAGE CHANNEL'],
    ['84CA9F7F00', '6982', 'secure messaging without a channel'],
    ['00C0000000', '6985', 'GET RESPONSE with nothing pending'],
  ])('%s → %s (%s)', (apdu, expected) => {
    expect(sw(raw(se, apdu))).toBe(expected);
  });
});

describe('SELECT', () => {
  it('selects the ISD by full AID and without data, with an SD FCI', () => {
    const { t } = fixture('02');
    const r = t.select(ISD);
    expect(r.sw).toBe(0x9000);
    const fci = parseTlv(r.data)[0];
    expect(fci.tag).toBe(0x6f);
    expect(toHex(findTlv(fci.children, 0x84)!.value)).toBe(ISD);
    expect(t.send({ cla: 0, ins: 0xa4, p1: 4, p2: 0, le: 256 }).sw).toBe(0x9000);
    expect(t.send({ cla: 0, ins: 0xa4, p1: 4, p2: 0x0c, data: fromHex(ISD) }).data.length).toBe(0);
  });

  it('selects by partial AID, first then next occurrence, and fails when nothing more matches', () => {
    const { se, t } = fixture('02', {
      instances: [
        { aid: 'F050415900000101AA', packageAid: 'F0504159000001', moduleAid: 'F050415900000101', sd: CENTRAL },
        { aid: 'F050415900000101BB', packageAid: 'F0504159000001', moduleAid: 'F050415900000101', sd: CENTRAL },
      ],
    });
    const next = { cla: 0, ins: 0xa4, p1: 4, p2: 0x02, data: fromHex('F050415900'), le: 256 };
    expect(t.send({ ...next, p2: 0 }).sw).toBe(0x9000);
    expect(se.inspect().session.selected).toBe('F050415900000101AA');
    expect(t.send(next).sw).toBe(0x9000);
    expect(se.inspect().session.selected).toBe('F050415900000101BB');
    expect(t.send(next).sw).toBe(0x6a82);
  });

  it('answers 6A82 for an absent AID, 6999 for a LOCKED or only INSTALLED one, 6A86 for other P1/P2', () => {
    const { t } = fixture('02', {
      instances: [
        { aid: 'F050415900000101AA', packageAid: 'F0504159000001', moduleAid: 'F050415900000101', sd: CENTRAL, lifeCycle: 'LOCKED' },
        { aid: 'F050415900000101BB', packageAid: 'F0504159000001', moduleAid: 'F050415900000101', sd: CENTRAL, lifeCycle: 'INSTALLED' },
      ],
    });
    expect(t.select('A0000000FFFF').sw).toBe(0x6a82);
    expect(t.select('F050415900000101AA').sw).toBe(0x6999);
    expect(t.select('F050415900000101BB').sw).toBe(0x6999);
    expect(t.send({ cla: 0, ins: 0xa4, p1: 0, p2: 0, data: fromHex('3F00') }).sw).toBe(0x6a86);
    expect(t.send({ cla: 0, ins: 0xa4, p1: 4, p2: 0x04, data: fromHex(ISD) }).sw).toBe(0x6a86);
  });

  it('an applet answers its own GET DATA objects only and knows no other INS', () => {
    const { t } = fixture('02', {
      instances: [{ aid: 'F050415900000101AA', packageAid: 'F0504159000001', moduleAid: 'F050415900000101', sd: CENTRAL }],
    });
    expect(t.select('F050415900000101AA').sw).toBe(0x9000);
    expect(t.send(cmd.getData(0x005a)).sw).toBe(0x6a88);
    expect(t.send({ cla: 0x80, ins: 0x50, p1: 0, p2: 0, data: new Uint8Array(8), le: 256 }).sw).toBe(0x6d00);
  });
});

describe('GET DATA', () => {
  it('returns CPLC, IIN, CIN, card recognition data, key information and FF21', () => {
    const { se, t, spec } = fixture('02');
    t.select(ISD);
    const cplc = parseTlv(t.ok(cmd.getData(0x9f7f)))[0];
    expect(cplc.tag).toBe(0x9f7f);
    expect(cplc.value.length).toBe(42);
    expect(toHex(parseTlv(t.ok(cmd.getData(0x42)))[0].value)).toBe(spec.iin);
    expect(toHex(parseTlv(t.ok(cmd.getData(0x45)))[0].value)).toBe(spec.cin);
    // ISO class: the value only.
    expect(toHex(t.ok(cmd.getData(0x45, 0x00)))).toBe(spec.cin);
    const cd = toHex(t.ok(cmd.getData(0x66)));
    expect(cd.startsWith('66')).toBe(true);
    expect(cd).toContain('06092A864886FC6B040255'); // SCP02, i=55 of the ISD key set
    expect(cd).toContain('060A2A864886FC6B02020301'); // GP 2.3.1
    const kit = parseTlv(t.ok(cmd.getData(0xe0)))[0];
    expect(kit.children!.map((c) => toHex(c.value))).toEqual(['01208010', '02208010', '03208010']);
    const ff21 = parseTlv(t.ok(cmd.getData(0xff21)))[0];
    const num = (tag: number) => parseInt(toHex(findTlv(ff21.children, tag)!.value), 16);
    expect(num(0x81)).toBe(se.inspect().securityDomains.length + se.inspect().applications.length - 1);
    expect(num(0x82)).toBe(se.inspect().memory.nonVolatile.free);
    expect(num(0x83)).toBe(se.inspect().memory.volatile.free);
  });

  it('lists applications (2F00) with a GP class and with the ISO odd INS, and answers 6A88 otherwise', () => {
    const { t } = fixture('02');
    t.select(ISD);
    const list = parseTlv(t.ok(cmd.getData(0x2f00)));
    expect(list.map((x) => toHex(findTlv(x.children, 0x4f)!.value))).toEqual([ISD, CENTRAL]);
    const iso = t.ok({ cla: 0x00, ins: 0xcb, p1: 0x2f, p2: 0x00, data: fromHex('5C00'), le: 256 });
    expect(parseTlv(iso).length).toBe(2);
    expect(t.send(cmd.getData(0x1234)).sw).toBe(0x6a88);
    expect(t.send({ cla: 0x80, ins: 0xcb, p1: 0x2f, p2: 0x00, le: 256 }).sw).toBe(0x6d00);
  });
});

describe('long responses', () => {
  it('sends a list of applications over 256 bytes in pieces fetched with GET RESPONSE', () => {
    const instances = Array.from({ length: 30 }, (_, k) => ({
      aid: `F050415900000101${k.toString(16).padStart(2, '0')}`,
      packageAid: 'F0504159000001',
      moduleAid: 'F050415900000101',
      sd: CENTRAL,
    }));
    const { se } = fixture('02', { instances });
    const first = se.process(fromHex('80CA2F0000'));
    expect(first.length).toBe(258);
    expect(first[256]).toBe(0x61);
    const rest = se.process(fromHex(`00C00000${toHex(first.subarray(257))}`));
    expect(toHex(rest.subarray(-2))).toBe('9000');
    const all = new Uint8Array([...first.subarray(0, 256), ...rest.subarray(0, -2)]);
    expect(parseTlv(all).length).toBe(32);
    expect(sw(raw(se, '00C0000000'))).toBe('6985');
  });
});

describe('card description errors', () => {
  it('names the offending field', () => {
    const spec = defaultSeSpec();
    spec.card.instances = [{ aid: 'F000000001', packageAid: 'F0FFFFFFFF', moduleAid: 'F000000002', sd: CENTRAL }];
    expect(() => new SimulatedSe(spec)).toThrow(/card\.instances\[0\]\.packageAid/);
    const spec2 = defaultSeSpec({ isdKeys: { ...defaultKeySet(), enc: '0011' } });
    expect(() => new SimulatedSe(spec2)).toThrow(SimulatorError);
    const spec3 = defaultSeSpec({ memory: { nonVolatile: 100, volatile: 100 } });
    expect(() => new SimulatedSe(spec3)).toThrow(/cannot hold/);
  });
});
