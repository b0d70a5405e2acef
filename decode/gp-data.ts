/** GP data objects the viewer and the reports explain: life cycles, privileges, registry entries (E3), CPLC. */
import {
  CPLC_SIZE,
  decodeCplc as decodeCplcFields,
  decodePrivileges as decodePrivilegeList,
  decodeRegistryEntry,
  describePrivileges,
  getStatusSubsetOf,
  parseTlv,
  PRIVILEGE_NAMES,
  PrivilegeError,
  shortLifeCycleName,
  type Tlv,
} from '../gp/index.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

/** Privilege names as the spec writes them (gp's coding, Tables 11-7 to 11-9); throws PrivilegeError unless 1 or 3 bytes. */
export function decodePrivileges(bytes: Uint8Array): string[] {
  return decodePrivilegeList(bytes).map((p) => PRIVILEGE_NAMES[p]);
}

/** One line for a privileges field: the names, 'none', or why the bytes are not a privilege coding. */
export function privilegesNote(bytes: Uint8Array): string {
  try {
    return describePrivileges(bytes);
  } catch (e) {
    if (e instanceof PrivilegeError) return e.message;
    throw e;
  }
}

export type EntryKind = 'isd' | 'application' | 'security-domain' | 'load-file';

/** Life cycle names of registry entries, as gp gives them (Tables 11-3 to 11-6); locked states read 'LOCKED'. */
export function lifeCycleName(state: number, kind: EntryKind): string {
  return shortLifeCycleName(kind === 'isd' ? 'card' : kind, state);
}

export interface DecodedRegistryEntry {
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
export function decodeRegistry(data: Uint8Array, p1: number): DecodedRegistryEntry[] {
  return parseTlv(data)
    .filter((t) => t.tag === 0xe3)
    .map((t) => {
      const r = decodeRegistryEntry(t);
      const subset = getStatusSubsetOf(p1);
      let kind: EntryKind = subset === 'isd' ? 'isd' : subset === 'load-files' || subset === 'load-files-and-modules' ? 'load-file' : 'application';
      if (kind === 'application' && r.privileges && r.privileges.length > 0 && r.privileges[0] & 0x80) kind = 'security-domain';
      const e: DecodedRegistryEntry = { aid: hex(r.aid), kind };
      if (r.lifeCycle >= 0) {
        e.lifeCycleByte = hex(Uint8Array.of(r.lifeCycle));
        e.lifeCycle = lifeCycleName(r.lifeCycle, kind);
      }
      if (r.privileges) {
        e.privilegesHex = hex(r.privileges);
        e.privileges = decodePrivileges(r.privileges);
      }
      if (r.loadFileAid) e.loadFileAid = hex(r.loadFileAid);
      if (r.sdAid) e.associatedSdAid = hex(r.sdAid);
      if (r.version) e.version = Array.from(r.version).join('.');
      if (r.modules) e.modules = r.modules.map(hex);
      return e;
    });
}

export interface DecodedCplcField {
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
export function decodeCplc(data: Uint8Array): DecodedCplcField[] {
  let v = data;
  if (v.length >= 3 && v[0] === 0x9f && v[1] === 0x7f) {
    const t = parseTlv(v)[0] as Tlv;
    v = t.value;
  }
  if (v.length < CPLC_SIZE) throw new RangeError(`CPLC is ${CPLC_SIZE} bytes, got ${v.length}`);
  return decodeCplcFields(v).map((f) => {
    const out: DecodedCplcField = { name: f.label, hex: f.hex };
    if (f.date) out.note = `year ending in ${f.date.yearDigit}, day ${f.date.dayOfYear}`;
    return out;
  });
}
