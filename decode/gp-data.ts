/** GP data objects the viewer and the reports explain: life cycles, privileges, registry entries (E3), CPLC. */
import { CPLC_SIZE, decodeCplc as decodeCplcFields, findTlv, parseTlv, type Tlv } from '../gp/index.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

/** GP 2.3.1 Tables 11-8 and 11-9, bit by bit (byte index, mask, name); byte 1 is decoded by its own rules. */
const PRIVILEGES: [number, number, string][] = [
  [1, 0x80, 'Trusted Path'],
  [1, 0x40, 'Authorized Management'],
  [1, 0x20, 'Token Management'],
  [1, 0x10, 'Global Delete'],
  [1, 0x08, 'Global Lock'],
  [1, 0x04, 'Global Registry'],
  [1, 0x02, 'Final Application'],
  [1, 0x01, 'Global Service'],
  [2, 0x80, 'Receipt Generation'],
  [2, 0x40, 'Ciphered Load File Data Block'],
  [2, 0x20, 'Contactless Activation'],
  [2, 0x10, 'Contactless Self-Activation'],
];

/**
 * Privilege names. Byte 1 (Table 11-7) is not one bit per privilege: DAP Verification is b8+b7 with b1 = 0,
 * Mandated DAP Verification is b8+b7+b1, Delegated Management is b8+b6.
 */
export function decodePrivileges(bytes: Uint8Array): string[] {
  const out: string[] = [];
  const b1 = bytes[0] ?? 0;
  if (b1 & 0x80) out.push('Security Domain');
  if ((b1 & 0xc1) === 0xc0) out.push('DAP Verification');
  if ((b1 & 0xa0) === 0xa0) out.push('Delegated Management');
  if (b1 & 0x10) out.push('Card Lock');
  if (b1 & 0x08) out.push('Card Terminate');
  if (b1 & 0x04) out.push('Card Reset');
  if (b1 & 0x02) out.push('CVM Management');
  if ((b1 & 0xc1) === 0xc1) out.push('Mandated DAP Verification');
  for (const [i, mask, name] of PRIVILEGES) if (i < bytes.length && (bytes[i] & mask) === mask) out.push(name);
  return out;
}

export type EntryKind = 'isd' | 'application' | 'security-domain' | 'load-file';

/** Life cycle names: card (ISD), application, security domain, executable load file (Tables 11-3 to 11-6). */
export function lifeCycleName(state: number, kind: EntryKind): string {
  if (kind === 'isd') {
    return { 0x01: 'OP_READY', 0x07: 'INITIALIZED', 0x0f: 'SECURED', 0x7f: 'CARD_LOCKED', 0xff: 'TERMINATED' }[state] ?? `card state '${state.toString(16).padStart(2, '0').toUpperCase()}'`;
  }
  if (kind === 'load-file') return state === 0x01 ? 'LOADED' : `'${state.toString(16).padStart(2, '0').toUpperCase()}'`;
  if ((state & 0x83) === 0x83) return 'LOCKED';
  if (state === 0x03) return 'INSTALLED';
  if (state === 0x07) return 'SELECTABLE';
  if (kind === 'security-domain' && state === 0x0f) return 'PERSONALIZED';
  if ((state & 0x07) === 0x07) return `application specific state '${state.toString(16).padStart(2, '0').toUpperCase()}'`;
  return `'${state.toString(16).padStart(2, '0').toUpperCase()}'`;
}

export interface RegistryEntry {
  aid: string;
  kind: EntryKind;
  lifeCycle?: string;
  lifeCycleByte?: string;
  privileges?: string[];
  privilegesHex?: string;
  loadFileAid?: string;
  associatedSdAid?: string;
  version?: string;
  modules?: string[];
}

/**
 * Decodes a GET STATUS (P2 = '02') response: one 'E3' template per entry. `p1` tells what was asked for
 * ('80' ISD, '40' applications and SDs, '20'/'10' load files), since the entries do not say it themselves.
 */
export function decodeRegistry(data: Uint8Array, p1: number): RegistryEntry[] {
  const entries: RegistryEntry[] = [];
  for (const t of parseTlv(data)) {
    if (t.tag !== 0xe3) continue;
    const c = t.children ?? [];
    const aid = findTlv(c, 0x4f);
    const lc = findTlv(c, 0x9f70);
    const priv = findTlv(c, 0xc5);
    let kind: EntryKind = p1 & 0x80 ? 'isd' : p1 & 0x30 ? 'load-file' : 'application';
    if (kind === 'application' && priv && priv.value.length > 0 && priv.value[0] & 0x80) kind = 'security-domain';
    const e: RegistryEntry = { aid: aid ? hex(aid.value) : '', kind };
    if (lc && lc.value.length === 1) {
      e.lifeCycleByte = hex(lc.value);
      e.lifeCycle = lifeCycleName(lc.value[0], kind);
    }
    if (priv) {
      e.privilegesHex = hex(priv.value);
      e.privileges = decodePrivileges(priv.value);
    }
    const elf = findTlv(c, 0xc4);
    if (elf) e.loadFileAid = hex(elf.value);
    const sd = findTlv(c, 0xcc);
    if (sd) e.associatedSdAid = hex(sd.value);
    const ver = findTlv(c, 0xce);
    if (ver) e.version = Array.from(ver.value).join('.');
    const mods = c.filter((x) => x.tag === 0x84).map((x) => hex(x.value));
    if (mods.length) e.modules = mods;
    entries.push(e);
  }
  return entries;
}

export interface CplcField {
  /** The field's label in gp's CPLC layout ('IC fabricator', …). */
  name: string;
  hex: string;
  /** Human reading for dates ('YDDD': last digit of the year, day of the year). */
  note?: string;
}

/**
 * CPLC data (GET DATA '9F7F') split by gp's layout: accepts the bare 42 bytes or the '9F7F' TLV around them.
 * The wrapper and the length are checked here so the viewer keeps its own messages for malformed data.
 */
export function decodeCplc(data: Uint8Array): CplcField[] {
  let v = data;
  if (v.length >= 3 && v[0] === 0x9f && v[1] === 0x7f) {
    const t = parseTlv(v)[0] as Tlv;
    v = t.value;
  }
  if (v.length < CPLC_SIZE) throw new RangeError(`CPLC is ${CPLC_SIZE} bytes, got ${v.length}`);
  return decodeCplcFields(v).map((f) => {
    const out: CplcField = { name: f.label, hex: f.hex };
    if (f.date) out.note = `year ending in ${f.date.yearDigit}, day ${f.date.dayOfYear}`;
    return out;
  });
}
