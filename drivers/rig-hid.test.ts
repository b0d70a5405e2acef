/**
 * The HID relay rig driver, faked only at the node-hid device boundary: a board object that answers feature
 * reports byte for byte as the dcttech firmware does (8-byte reports on report 0, serial in bytes 0–4, relay
 * bits in byte 7). Everything above — board discovery, commands, state parsing, wiring polarity — is real.
 */
import { describe, expect, it } from 'vitest';
import { parseRigProfile, type RigProfile } from '../profiles/index.ts';
import { subscribe, type TraceEvent } from '../trace/index.ts';
import { InProcessChannel } from './inproc.ts';
import { hasPower } from './extensions.ts';
import { newSimulatedSe } from './channel.conformance.ts';
import { withRigPower, HidRelayRig, nodeHidBackend, relayCountOf, RigError, UsbRelayBoard, type HidBackend, type HidDevice, type HidDeviceInfo } from './rig-hid.ts';

/** A dcttech USBRelayN board as node-hid's HIDAsync sees it. */
class FakeDcttechBoard implements HidDevice {
  state = 0;
  readonly sent: string[] = [];
  closed = false;
  constructor(
    readonly serial: string,
    readonly relays: number,
    /** Whether hidapi hands the report number back in front of the data (platform-dependent). */
    private readonly withReportId = false,
    /** A board whose relay 1 is welded shut / never moves. */
    private readonly stuck = false,
  ) {}

  async sendFeatureReport(data: number[] | Buffer): Promise<number> {
    if (this.closed) throw new Error('device closed');
    const bytes = [...data];
    this.sent.push(Buffer.from(bytes).toString('hex').toUpperCase());
    if (bytes.length !== 9 || bytes[0] !== 0) return -1;
    const [cmd, n] = [bytes[1], bytes[2]];
    if (this.stuck) return bytes.length;
    if (cmd === 0xff && n >= 1 && n <= this.relays) this.state |= 1 << (n - 1);
    else if (cmd === 0xfd && n >= 1 && n <= this.relays) this.state &= ~(1 << (n - 1));
    else if (cmd === 0xfe) this.state = (1 << this.relays) - 1;
    else if (cmd === 0xfc) this.state = 0;
    return bytes.length;
  }

  async getFeatureReport(reportId: number, length: number): Promise<Buffer> {
    if (this.closed) throw new Error('device closed');
    if (reportId !== 0 || length < 8) throw new Error(`unexpected get-report ${reportId}/${length}`);
    const data = [...Buffer.from(this.serial.padEnd(5, '\0'), 'latin1').subarray(0, 5), 0, 0, this.state];
    return Buffer.from(this.withReportId ? [0, ...data] : data);
  }

  async write(): Promise<number> {
    throw new Error('the dcttech board has no output reports');
  }
  async read(): Promise<Buffer | undefined> {
    return undefined;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

function backendWith(...boards: [HidDeviceInfo, FakeDcttechBoard][]): HidBackend {
  return {
    devices: async () => boards.map(([info]) => info),
    open: async (p) => {
      const hit = boards.find(([info]) => info.path === p);
      if (!hit) throw new Error(`no device ${p}`);
      return hit[1];
    },
  };
}

const relay2 = (path: string, serial: string, opts: { withReportId?: boolean; stuck?: boolean } = {}) =>
  [
    { vendorId: 0x16c0, productId: 0x05df, path, product: 'USBRelay2' },
    new FakeDcttechBoard(serial, 2, opts.withReportId, opts.stuck),
  ] as [HidDeviceInfo, FakeDcttechBoard];

function profile(over: Partial<RigProfile> = {}): RigProfile {
  return parseRigProfile({
    rig: 'bench-1',
    kind: 'hid-relay',
    device: { vendorId: '16c0', productId: '05df', product: 'USBRelay2' },
    protocol: 'dcttech',
    relays: { cardPower: { relay: 1 }, field: { relay: 2, onWhen: 'open' } },
    settleMs: 0,
    ...over,
  }).profile;
}

describe('dcttech relay board protocol', () => {
  it('sends FF n / FD n as 8-byte feature reports on report 0 and reads the relay bits back', async () => {
    const [info, dev] = relay2('/dev/hidraw3', 'QWERT');
    const board = await UsbRelayBoard.open(info, backendWith([info, dev]));
    expect(board.relayCount).toBe(2);
    await board.setRelay(2, true);
    expect(dev.state).toBe(0b10);
    await board.setRelay(1, true);
    await board.setRelay(2, false);
    expect(dev.sent).toEqual(['00FF02000000000000', '00FF01000000000000', '00FD02000000000000']);
    expect(await board.readState()).toEqual({ serial: 'QWERT', closed: [true, false] });
    await board.setAll(false);
    expect(dev.sent.at(-1)).toBe('00FC00000000000000');
    await board.setAll(true);
    expect(dev.sent.at(-1)).toBe('00FE00000000000000');
    expect(dev.state).toBe(0b11);
  });

  it('reads the state whether or not hidapi puts the report number in front', async () => {
    const [info, dev] = relay2('/dev/hidraw4', 'AB1', { withReportId: true });
    dev.state = 0b01;
    const board = await UsbRelayBoard.open(info, backendWith([info, dev]));
    expect(await board.readState()).toEqual({ serial: 'AB1', closed: [true, false] });
  });

  it('refuses relays the board lacks and notices a relay that did not move', async () => {
    const [info, dev] = relay2('/dev/hidraw5', 'STUCK', { stuck: true });
    const board = await UsbRelayBoard.open(info, backendWith([info, dev]));
    await expect(board.setRelay(3, true)).rejects.toThrow(/relay 3 does not exist on a 2-relay board/);
    expect(dev.sent).toEqual([]);
    await expect(board.setRelay(1, true)).rejects.toThrow(/relay board STUCK: relay 1 did not close/);
    await board.close();
    await expect(board.readState()).rejects.toThrow(RigError);
  });

  it('knows the relay count from the product string', () => {
    expect(relayCountOf('USBRelay1')).toBe(1);
    expect(relayCountOf('USBRelay8')).toBe(8);
    expect(relayCountOf('Something')).toBe(8);
  });
});

describe('HidRelayRig from a rig profile', () => {
  it('finds the board by ids, product and serial, switches power and field with the wiring polarity, and traces power', async () => {
    const a = relay2('/dev/hidraw0', 'AAAAA');
    const b = relay2('/dev/hidraw1', 'BBBBB');
    const events: TraceEvent[] = [];
    const stop = subscribe((e) => events.push(e));
    try {
      const rig = await HidRelayRig.open(profile({ device: { vendorId: '0x16C0', productId: '05DF', serial: 'BBBBB' } }), {
        backend: backendWith(a, b),
      });
      expect(rig.serial).toBe('BBBBB');
      expect(rig.capabilities).toEqual(['power-control', 'field-control']);
      await rig.cardPower(true);
      // The field relay is wired normally closed: field on = relay open.
      await rig.field(true);
      expect(b[1].state).toBe(0b01);
      expect(a[1].sent).toEqual([]);
      expect(await rig.state()).toEqual({ cardPower: true, field: true });
      await rig.field(false);
      await rig.cardPower(false);
      expect(b[1].state).toBe(0b10);
      expect(await rig.state()).toEqual({ cardPower: false, field: false });
      const power = events.filter((e) => e.kind === 'card.power').map((e) => (e as { on: boolean }).on);
      expect(power).toEqual([true, false]);
      await rig.close();
      expect(b[1].closed).toBe(true);
    } finally {
      stop();
    }
  });

  it('says which board it looked for and which HID devices it saw', async () => {
    const a = relay2('/dev/hidraw0', 'AAAAA');
    await expect(HidRelayRig.open(profile({ device: { vendorId: '16c0', productId: '05df', serial: 'ZZZZZ' } }), { backend: backendWith(a) })).rejects.toThrow(
      /rig bench-1: no relay board 16c0:05df serial ZZZZZ \(HID devices: 16c0:05df "USBRelay2" at \/dev\/hidraw0\)/,
    );
    expect(a[1].closed).toBe(true);
  });

  it('refuses wiring to a relay the board does not have', async () => {
    const one: [HidDeviceInfo, FakeDcttechBoard] = [
      { vendorId: 0x16c0, productId: 0x05df, path: '/dev/hidraw9', product: 'USBRelay1' },
      new FakeDcttechBoard('ONE01', 1),
    ];
    const p = profile({ device: { vendorId: '16c0', productId: '05df' } });
    await expect(HidRelayRig.open(p, { backend: backendWith(one) })).rejects.toThrow(/field is wired to relay 2, but USBRelay1 has 1/);
  });

  it('a rig without a field relay says so when asked to switch the field', async () => {
    const a = relay2('/dev/hidraw0', 'AAAAA');
    const rig = await HidRelayRig.open(profile({ relays: { cardPower: { relay: 2 } } }), { backend: backendWith(a) });
    expect(rig.capabilities).toEqual(['power-control']);
    await expect(rig.field(true)).rejects.toThrow(/has no field relay/);
  });

  it('gives a channel power control through the card-power relay, with a cold reset on power-up', async () => {
    const a = relay2('/dev/hidraw0', 'AAAAA');
    const rig = await HidRelayRig.open(profile(), { backend: backendWith(a) });
    const { se } = newSimulatedSe('se-rig');
    const ch = withRigPower(new InProcessChannel(se), rig);
    expect(hasPower(ch)).toBe(true);
    expect(await ch.power(false)).toBeUndefined();
    expect(a[1].state & 0b01).toBe(0);
    const atr = await ch.power(true);
    expect(a[1].state & 0b01).toBe(1);
    expect(Buffer.from(atr!).equals(Buffer.from(se.atr()))).toBe(true);
    expect(ch.name).toBe('inproc:se-rig');
  });

  it('loads the real node-hid lazily', () => {
    // node-hid is installed here: loading it works and enumerating devices does not throw.
    const backend = nodeHidBackend();
    expect(typeof backend.devices).toBe('function');
  });
});

describe('rig profile validation', () => {
  it('names the path of schema errors and refuses one relay for two jobs', () => {
    expect(() => parseRigProfile({ rig: 'r', kind: 'hid-relay', device: { vendorId: '16c0' }, protocol: 'dcttech', relays: {} }, 'r.json')).toThrow(
      /missing field \/device\/productId/,
    );
    expect(() =>
      parseRigProfile(
        { rig: 'r', kind: 'hid-relay', device: { vendorId: '16c0', productId: '05df' }, protocol: 'dcttech', relays: { cardPower: { relay: 1 }, field: { relay: 1 } } },
        'r.json',
      ),
    ).toThrow('r.json: /relays/field/relay: relay 1 already switches the card power');
  });

  it('accepts the example rig profile', async () => {
    const { loadRigProfile } = await import('../profiles/index.ts');
    const loaded = loadRigProfile(new URL('../profiles/examples/rig-usbrelay2.json', import.meta.url).pathname);
    expect(loaded.profile.relays.cardPower?.relay).toBe(1);
    expect(loaded.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
