/**
 * The HID relay rig: switches the card's supply and the contactless field through a USB HID relay board of the
 * common dcttech "USBRelayN" kind (16c0:05df). Its protocol, all 8-byte feature reports on report 0:
 *   set  [FF, n, 0…]  relay n (1-based) closed      [FD, n, 0…]  relay n open
 *        [FE, 0…]     every relay closed            [FC, 0…]     every relay open
 *   get  bytes 0–4: the board's 5-character serial; byte 7: relay state, bit n-1 set = relay n closed
 * node-hid is optional and loaded on first use only.
 */
import { createRequire } from 'node:module';
import { emit } from '../trace/index.ts';
import type { CardChannel, TransmitOptions } from './channel.ts';
import type { PowerControl } from './extensions.ts';
import type { RelayWiring, RigProfile } from '../profiles/index.ts';
import { rigCapabilities, usbIdNumber } from '../profiles/index.ts';

export const NODE_HID_INSTALL_HINT =
  'USB relay rigs need the node-hid native module: npm install node-hid (Linux: also a udev rule giving your user access to /dev/hidraw*)';

export const DCTTECH_VENDOR_ID = 0x16c0;
export const DCTTECH_PRODUCT_ID = 0x05df;

export const RelayCommand = { ON: 0xff, OFF: 0xfd, ALL_ON: 0xfe, ALL_OFF: 0xfc } as const;

export type RigErrorKind = 'unavailable' | 'not-found' | 'protocol' | 'closed';

export class RigError extends Error {
  constructor(
    readonly kind: RigErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'RigError';
  }
}

export interface HidDeviceInfo {
  vendorId: number;
  productId: number;
  path?: string;
  serialNumber?: string;
  product?: string;
}

/** The node-hid device surface the rig uses (node-hid's HIDAsync has exactly these). */
export interface HidDevice {
  sendFeatureReport(data: number[] | Buffer): Promise<number>;
  getFeatureReport(reportId: number, length: number): Promise<Buffer | number[]>;
  write(data: number[] | Buffer): Promise<number>;
  read(timeoutMs?: number): Promise<Buffer | undefined>;
  close(): Promise<void>;
}

export interface HidBackend {
  devices(): Promise<HidDeviceInfo[]>;
  open(path: string): Promise<HidDevice>;
}

interface NodeHidModule {
  devicesAsync(): Promise<HidDeviceInfo[]>;
  HIDAsync: { open(path: string): Promise<HidDevice> };
}

/** node-hid as a HidBackend; RigError('unavailable') with the install hint when it cannot load. */
export function nodeHidBackend(): HidBackend {
  let mod: NodeHidModule;
  try {
    mod = createRequire(import.meta.url)('node-hid') as NodeHidModule;
  } catch (e) {
    throw new RigError('unavailable', `${NODE_HID_INSTALL_HINT} (${(e as Error).message.split('\n')[0]})`);
  }
  return { devices: () => mod.devicesAsync(), open: (p) => mod.HIDAsync.open(p) };
}

/** "USBRelay2" → 2; boards whose product string does not say get 8 (the protocol's maximum). */
export function relayCountOf(product: string | undefined): number {
  const m = /^USBRelay(\d+)$/.exec(product ?? '');
  const n = m ? Number(m[1]) : 8;
  return n >= 1 && n <= 8 ? n : 8;
}

export interface BoardState {
  serial: string;
  /** closed[n-1]: relay n is closed. */
  closed: boolean[];
}

/** One dcttech relay board. */
export class UsbRelayBoard {
  private closedFlag = false;

  private constructor(
    private readonly device: HidDevice,
    readonly info: HidDeviceInfo,
    readonly relayCount: number,
  ) {}

  static async open(info: HidDeviceInfo, backend: HidBackend): Promise<UsbRelayBoard> {
    if (!info.path) throw new RigError('not-found', `relay board ${describeInfo(info)} has no device path`);
    let device: HidDevice;
    try {
      device = await backend.open(info.path);
    } catch (e) {
      throw new RigError('unavailable', `cannot open relay board at ${info.path}: ${(e as Error).message} (permissions on /dev/hidraw*?)`);
    }
    return new UsbRelayBoard(device, info, relayCountOf(info.product));
  }

  private check(relay?: number): void {
    if (this.closedFlag) throw new RigError('closed', 'relay board is closed');
    if (relay !== undefined && (!Number.isInteger(relay) || relay < 1 || relay > this.relayCount)) {
      throw new RigError('protocol', `relay ${relay} does not exist on a ${this.relayCount}-relay board`);
    }
  }

  private async command(cmd: number, relay = 0): Promise<void> {
    // Report 0 (the board does not number its reports) followed by the 8 data bytes.
    const report = [0x00, cmd, relay, 0, 0, 0, 0, 0, 0];
    let sent: number;
    try {
      sent = await this.device.sendFeatureReport(report);
    } catch (e) {
      throw new RigError('protocol', `relay board: feature report ${hex(report)} failed: ${(e as Error).message}`);
    }
    if (sent < 0) throw new RigError('protocol', `relay board: feature report ${hex(report)} was not sent`);
  }

  async readState(): Promise<BoardState> {
    this.check();
    let raw: number[];
    try {
      raw = [...(await this.device.getFeatureReport(0, 9))];
    } catch (e) {
      throw new RigError('protocol', `relay board: reading the state failed: ${(e as Error).message}`);
    }
    // hidapi may or may not put the report number (0) in front of the 8 data bytes; the serial is printable.
    const data = raw.length >= 9 && raw[0] === 0 ? raw.slice(1) : raw;
    if (data.length < 8) throw new RigError('protocol', `relay board: state report of ${data.length} bytes (${hex(raw)}), expected 8`);
    const serial = String.fromCharCode(...data.slice(0, 5)).replace(/\0+$/, '');
    const bits = data[7];
    return { serial, closed: Array.from({ length: this.relayCount }, (_, n) => (bits & (1 << n)) !== 0) };
  }

  /** Closes (true) or opens (false) relay n, then reads the state back to confirm. */
  async setRelay(relay: number, closed: boolean): Promise<void> {
    this.check(relay);
    await this.command(closed ? RelayCommand.ON : RelayCommand.OFF, relay);
    const state = await this.readState();
    if (state.closed[relay - 1] !== closed) {
      throw new RigError('protocol', `relay board ${state.serial}: relay ${relay} did not ${closed ? 'close' : 'open'}`);
    }
  }

  async setAll(closed: boolean): Promise<void> {
    this.check();
    await this.command(closed ? RelayCommand.ALL_ON : RelayCommand.ALL_OFF);
    const state = await this.readState();
    if (state.closed.some((c) => c !== closed)) throw new RigError('protocol', `relay board ${state.serial}: not every relay switched`);
  }

  async close(): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    await this.device.close().catch(() => undefined);
  }
}

export interface RigOptions {
  /** Where HID devices come from (default: node-hid). */
  backend?: HidBackend;
  /** Wait after switching, ms (default: the profile's settleMs, else 300). */
  settleMs?: number;
}

/** The rig of a rig profile: card power and field through the board's relays. */
export class HidRelayRig {
  readonly capabilities: string[];

  private constructor(
    readonly profile: RigProfile,
    readonly board: UsbRelayBoard,
    readonly serial: string,
    private readonly settleMs: number,
  ) {
    this.capabilities = rigCapabilities(profile);
  }

  /** Finds the profile's board (vendor/product id, then product, serial or path when given) and opens it. */
  static async open(profile: RigProfile, opts: RigOptions = {}): Promise<HidRelayRig> {
    const backend = opts.backend ?? nodeHidBackend();
    const want = profile.device;
    const vid = usbIdNumber(want.vendorId);
    const pid = usbIdNumber(want.productId);
    const all = await backend.devices();
    const candidates = all.filter(
      (d) => d.vendorId === vid && d.productId === pid && (!want.product || d.product === want.product) && (!want.path || d.path === want.path),
    );
    const label = `${want.vendorId}:${want.productId}${want.product ? ` "${want.product}"` : ''}${want.serial ? ` serial ${want.serial}` : ''}`;
    for (const info of candidates) {
      const board = await UsbRelayBoard.open(info, backend);
      try {
        const state = await board.readState();
        if (want.serial && state.serial !== want.serial) {
          await board.close();
          continue;
        }
        for (const [role, w] of Object.entries(profile.relays) as [string, RelayWiring][]) {
          if (w.relay > board.relayCount) {
            throw new RigError('protocol', `rig ${profile.rig}: ${role} is wired to relay ${w.relay}, but ${board.info.product ?? 'the board'} has ${board.relayCount}`);
          }
        }
        return new HidRelayRig(profile, board, state.serial, opts.settleMs ?? profile.settleMs ?? 300);
      } catch (e) {
        await board.close();
        throw e;
      }
    }
    const seen = all.map(describeInfo).join(', ') || 'none';
    throw new RigError('not-found', `rig ${profile.rig}: no relay board ${label} (HID devices: ${seen})`);
  }

  private async switchTo(role: 'cardPower' | 'field', on: boolean): Promise<void> {
    const w = this.profile.relays[role];
    if (!w) throw new RigError('not-found', `rig ${this.profile.rig} has no ${role === 'cardPower' ? 'card power' : 'field'} relay`);
    const closed = (w.onWhen ?? 'closed') === 'closed' ? on : !on;
    await this.board.setRelay(w.relay, closed);
    if (role === 'cardPower') emit({ kind: 'card.power', from: 'harness', to: 'se', on });
    else emit({ kind: 'note', from: 'harness', to: 'se', text: `rig ${this.profile.rig}: field ${on ? 'on' : 'off'}` });
    if (this.settleMs > 0) await new Promise((r) => setTimeout(r, this.settleMs));
  }

  /** Switches the card's supply; the card needs a reset (reconnect) after power comes back. */
  cardPower(on: boolean): Promise<void> {
    return this.switchTo('cardPower', on);
  }

  /** Switches the contactless field. */
  field(on: boolean): Promise<void> {
    return this.switchTo('field', on);
  }

  /** What the relays say now, in the profile's terms. */
  async state(): Promise<{ cardPower?: boolean; field?: boolean }> {
    const s = await this.board.readState();
    const out: { cardPower?: boolean; field?: boolean } = {};
    for (const role of ['cardPower', 'field'] as const) {
      const w = this.profile.relays[role];
      if (w) out[role] = (w.onWhen ?? 'closed') === 'closed' ? s.closed[w.relay - 1] : !s.closed[w.relay - 1];
    }
    return out;
  }

  close(): Promise<void> {
    return this.board.close();
  }
}

function describeInfo(d: HidDeviceInfo): string {
  const id = `${d.vendorId.toString(16).padStart(4, '0')}:${d.productId.toString(16).padStart(4, '0')}`;
  return `${id}${d.product ? ` "${d.product}"` : ''}${d.path ? ` at ${d.path}` : ''}`;
}

function hex(bytes: number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join('');
}

/**
 * Gives a channel card power control through the rig (for @needs:power-control): power(false) opens the
 * supply; power(true) closes it and cold-resets the channel, resolving the new ATR.
 */
export function withRigPower<T extends CardChannel>(channel: T, rig: HidRelayRig): T & PowerControl {
  const power = async (on: boolean, opts?: TransmitOptions): Promise<Uint8Array | undefined> => {
    await rig.cardPower(on);
    return on ? channel.reset(true, opts) : undefined;
  };
  return new Proxy(channel, {
    get(target, prop, receiver) {
      if (prop === 'power') return power;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as T & PowerControl;
}
