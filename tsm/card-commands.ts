/**
 * The card-content commands the central TSM sends under its own keys (GPCS 2.3.1 §11). Kept here until gp/
 * offers builders for them; then this file shrinks to re-exports.
 */
import { concat, encodeLength, fromHex, tlv, type CommandApdu } from '../gp/index.ts';

const lv = (bytes: Uint8Array) => concat(Uint8Array.of(bytes.length), bytes);
const lvBer = (bytes: Uint8Array) => concat(encodeLength(bytes.length), bytes);

/** The GlobalPlatform security domain load file and module (the platform's SD package), by their GP AIDs. */
export const SD_PACKAGE_AID = 'A0000001515350';
export const SD_MODULE_AID = 'A000000151535041';

export function select(aidHex: string): CommandApdu {
  return { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: fromHex(aidHex), le: 256 };
}

export interface InstallParameters {
  /** Executable load file (package) AID. */
  elf: string;
  /** Executable module (applet class) AID. */
  module: string;
  /** AID of the new application or SD. */
  app: string;
  /** Privilege bytes, hex (1 or 3 bytes); '00' for an application, '80' for an SD. */
  privileges?: string;
  /** Application-specific parameters ('C9'), hex. */
  c9?: string;
}

/** INSTALL [for install and make selectable] (§11.5.2.3.3): P1 '0C'. */
export function installAndMakeSelectable(p: InstallParameters): CommandApdu {
  const params = tlv(0xc9, fromHex(p.c9 ?? ''));
  return {
    cla: 0x80,
    ins: 0xe6,
    p1: 0x0c,
    p2: 0x00,
    data: concat(lv(fromHex(p.elf)), lv(fromHex(p.module)), lv(fromHex(p.app)), lv(fromHex(p.privileges ?? '00')), lvBer(params), lvBer(new Uint8Array(0))),
    le: 256,
  };
}

/** INSTALL [for extradition] (§11.5.2.3.5): P1 '10'; moves `appAid` under SD `sdAid`. */
export function installForExtradition(sdAid: string, appAid: string): CommandApdu {
  return {
    cla: 0x80,
    ins: 0xe6,
    p1: 0x10,
    p2: 0x00,
    data: concat(lv(fromHex(sdAid)), Uint8Array.of(0), lv(fromHex(appAid)), Uint8Array.of(0), Uint8Array.of(0), Uint8Array.of(0)),
    le: 256,
  };
}

/** DELETE (§11.2) of an application, SD or load file; `related` also deletes what hangs under it (P2 '80'). */
export function deleteObject(aidHex: string, related = false): CommandApdu {
  return { cla: 0x80, ins: 0xe4, p1: 0x00, p2: related ? 0x80 : 0x00, data: tlv(0x4f, fromHex(aidHex)), le: 256 };
}

/** GET DATA (§11.3) with a GP class. */
export function getData(tag: number): CommandApdu {
  return { cla: 0x80, ins: 0xca, p1: tag >> 8, p2: tag & 0xff, le: 256 };
}

/** SET STATUS of an application or SD (§11.10, P1 '40'): lock (true) or back from LOCKED (false). */
export function setApplicationLock(aidHex: string, lock: boolean): CommandApdu {
  return { cla: 0x80, ins: 0xf0, p1: 0x40, p2: lock ? 0x80 : 0x00, data: fromHex(aidHex) };
}

/** SET STATUS of the selected SD itself to PERSONALIZED ('0F', §11.10.2.2). */
export function setOwnPersonalized(aidHex: string): CommandApdu {
  return { cla: 0x80, ins: 0xf0, p1: 0x40, p2: 0x0f, data: fromHex(aidHex) };
}

/** Amendment C Table 3-19: status type '01', availability state over the contactless interface. */
export const STATUS_TYPE_CONTACTLESS_AVAILABILITY = 0x01;

/** SET STATUS (Amendment C §3.11.4) switching one application's contactless availability; data '4F' AID. */
export function setContactlessAvailability(aidHex: string, activated: boolean): CommandApdu {
  const aid = fromHex(aidHex);
  return { cla: 0x80, ins: 0xf0, p1: STATUS_TYPE_CONTACTLESS_AVAILABILITY, p2: activated ? 0x01 : 0x00, data: concat(Uint8Array.of(0x4f, aid.length), aid) };
}

/**
 * PUT KEY (§11.8) of an AES key set (ENC, MAC, DEK as ids 1-3) replacing `oldKvn` (0: add a new set), each
 * key encrypted by `encrypt` (the SCP03 static DEK) with its 3-byte check value.
 */
export function putAesKeySet(
  oldKvn: number,
  newKvn: number,
  keys: { enc: Uint8Array; mac: Uint8Array; dek: Uint8Array },
  encrypt: (key: Uint8Array) => Uint8Array,
  checkValue: (key: Uint8Array) => Uint8Array,
): CommandApdu {
  const component = (key: Uint8Array) => {
    const block = encrypt(key);
    // An AES key block carries the clear key length first (Amd D §7.2.1 / GPCS Table 11-70 extended coding).
    const value = concat(Uint8Array.of(key.length), block);
    const kcv = checkValue(key);
    return concat(Uint8Array.of(0x88), encodeLength(value.length), value, Uint8Array.of(kcv.length), kcv);
  };
  return {
    cla: 0x80,
    ins: 0xd8,
    p1: oldKvn,
    p2: 0x81,
    data: concat(Uint8Array.of(newKvn), component(keys.enc), component(keys.mac), component(keys.dek)),
    le: 256,
  };
}
