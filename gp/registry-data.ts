/**
 * Card data the host reads and the simulator produces: GET STATUS entries in both formats (GPCS 2.3.1 §11.4.3,
 * Tables 11-36/11-37, and the deprecated P2 '00' fixed format), GET DATA '2F00' application templates
 * (§11.3.3.1.3), CPLC ('9F7F'), Extended Card Resources ('FF21', ETSI TS 102 226) and Card Recognition Data
 * ('66', GPCS Appendix H.2).
 */
import { concat, readUint, toHex, uint } from './bytes.ts';
import type { GetStatusSubsetName } from './commands.ts';
import { findTlv, parseTlv, tlv, type Tlv, TlvError } from './tlv.ts';
import { GpError } from './errors.ts';

export class RegistryDataError extends GpError<'malformed-registry-data'> {
  constructor(message: string) {
    super('malformed-registry-data', message);
    this.name = 'RegistryDataError';
  }
}

function parse(data: Uint8Array, what: string): Tlv[] {
  try {
    return parseTlv(data);
  } catch (e) {
    if (e instanceof TlvError) throw new RegistryDataError(`${what}: ${e.message}`);
    throw e;
  }
}

// ---- GET STATUS ------------------------------------------------------------------------------------------

/** One GlobalPlatform Registry entry as GET STATUS reports it. */
export interface RegistryEntry {
  aid: Uint8Array;
  lifeCycle: number;
  /** 'C5': 3 bytes (TLV format) or 1 byte (legacy format). */
  privileges?: Uint8Array;
  /** 'CF' implicit selection parameters. */
  implicitSelection?: number[];
  /** 'C4': the application's executable load file. */
  loadFileAid?: Uint8Array;
  /** 'CC': the associated security domain. */
  sdAid?: Uint8Array;
  /** 'CE': load file version (Java Card: major, minor). */
  version?: Uint8Array;
  /** '84': executable modules of a load file. */
  modules?: Uint8Array[];
  /** Other data objects of the template, kept as received. */
  other?: Tlv[];
}

const ENTRY_TAGS = [0x4f, 0x9f70, 0xc5, 0xcf, 0xc4, 0xcc, 0xce, 0x84];

/** One 'E3' template (Tables 11-36/11-37); with `tagList`, only the listed objects (in the order given). */
export function encodeRegistryEntry(e: RegistryEntry, tagList?: number[]): Uint8Array {
  const objects: [number, Uint8Array][] = [[0x4f, e.aid], [0x9f70, Uint8Array.of(e.lifeCycle)]];
  if (e.privileges) objects.push([0xc5, e.privileges]);
  for (const s of e.implicitSelection ?? []) objects.push([0xcf, Uint8Array.of(s)]);
  if (e.loadFileAid) objects.push([0xc4, e.loadFileAid]);
  if (e.version) objects.push([0xce, e.version]);
  for (const m of e.modules ?? []) objects.push([0x84, m]);
  if (e.sdAid) objects.push([0xcc, e.sdAid]);
  for (const t of e.other ?? []) objects.push([t.tag, t.value]);
  const chosen = tagList ? tagList.flatMap((tag) => objects.filter(([t]) => t === tag)) : objects;
  return tlv(0xe3, chosen.map(([t, v]) => tlv(t, v)));
}

export function decodeRegistryEntry(template: Tlv): RegistryEntry {
  const c = template.children ?? [];
  const aid = findTlv(c, 0x4f);
  const lc = findTlv(c, 0x9f70);
  if (!aid) throw new RegistryDataError(`E3 template at offset ${template.offset} without AID '4F'`);
  const e: RegistryEntry = { aid: aid.value, lifeCycle: lc && lc.value.length === 1 ? lc.value[0] : -1 };
  const priv = findTlv(c, 0xc5);
  if (priv) e.privileges = priv.value;
  const cf = c.filter((t) => t.tag === 0xcf).map((t) => t.value[0]);
  if (cf.length > 0) e.implicitSelection = cf;
  const c4 = findTlv(c, 0xc4);
  if (c4) e.loadFileAid = c4.value;
  const cc = findTlv(c, 0xcc);
  if (cc) e.sdAid = cc.value;
  const ce = findTlv(c, 0xce);
  if (ce) e.version = ce.value;
  const mods = c.filter((t) => t.tag === 0x84).map((t) => t.value);
  if (mods.length > 0) e.modules = mods;
  const other = c.filter((t) => !ENTRY_TAGS.includes(t.tag));
  if (other.length > 0) e.other = other;
  return e;
}

/**
 * The deprecated fixed format (P2 '00', GP 2.1.1): AID length ‖ AID ‖ life cycle ‖ privileges (1 byte);
 * load files with modules (P1 '10') add the module count and LV-coded module AIDs.
 */
export function encodeLegacyEntry(e: RegistryEntry, subset: GetStatusSubsetName): Uint8Array {
  const privilege = e.privileges && e.privileges.length > 0 ? e.privileges[0] : 0x00;
  const head = concat(Uint8Array.of(e.aid.length), e.aid, Uint8Array.of(e.lifeCycle & 0xff, privilege));
  if (subset !== 'load-files-and-modules') return head;
  const mods = e.modules ?? [];
  return concat(head, Uint8Array.of(mods.length), ...mods.map((m) => concat(Uint8Array.of(m.length), m)));
}

export interface GetStatusFormat {
  format: 'tlv' | 'legacy';
  subset: GetStatusSubsetName;
}

/** The response data of one GET STATUS for `entries` (no paging: see splitGetStatusResponse). */
export function encodeGetStatusResponse(entries: RegistryEntry[], f: GetStatusFormat & { tagList?: number[] }): Uint8Array {
  return concat(...entries.map((e) => (f.format === 'tlv' ? encodeRegistryEntry(e, f.tagList) : encodeLegacyEntry(e, f.subset))));
}

/**
 * Pages of encoded entries that fit `maxLength` bytes each (whole entries only): the card answers the first
 * with '6310' and the rest to GET STATUS [next occurrence].
 */
export function splitGetStatusResponse(encodedEntries: Uint8Array[], maxLength = 256): Uint8Array[] {
  const pages: Uint8Array[][] = [[]];
  let size = 0;
  for (const e of encodedEntries) {
    if (e.length > maxLength) throw new RegistryDataError(`one GET STATUS entry of ${e.length} bytes exceeds ${maxLength}`);
    if (size + e.length > maxLength) {
      pages.push([]);
      size = 0;
    }
    pages[pages.length - 1].push(e);
    size += e.length;
  }
  return pages.map((p) => concat(...p));
}

export function decodeGetStatusResponse(data: Uint8Array, f: GetStatusFormat): RegistryEntry[] {
  if (f.format === 'tlv') {
    const list = parse(data, 'GET STATUS response');
    const bad = list.find((t) => t.tag !== 0xe3);
    if (bad) throw new RegistryDataError(`GET STATUS response: tag ${bad.tag.toString(16).toUpperCase()} at offset ${bad.offset} is not an 'E3' template`);
    return list.map(decodeRegistryEntry);
  }
  const out: RegistryEntry[] = [];
  let i = 0;
  const need = (n: number, what: string) => {
    if (i + n > data.length) throw new RegistryDataError(`legacy GET STATUS response: ${what} truncated at offset ${i}`);
  };
  while (i < data.length) {
    need(1, 'AID length');
    const len = data[i++];
    if (len < 5 || len > 16) throw new RegistryDataError(`legacy GET STATUS response: AID length ${len} at offset ${i - 1}`);
    need(len + 2, 'entry');
    const e: RegistryEntry = { aid: data.slice(i, i + len), lifeCycle: data[i + len], privileges: data.slice(i + len + 1, i + len + 2) };
    i += len + 2;
    if (f.subset === 'load-files-and-modules') {
      need(1, 'module count');
      const n = data[i++];
      const mods: Uint8Array[] = [];
      for (let k = 0; k < n; k++) {
        need(1, 'module AID length');
        const ml = data[i++];
        need(ml, 'module AID');
        mods.push(data.slice(i, i + ml));
        i += ml;
      }
      e.modules = mods;
    }
    out.push(e);
  }
  return out;
}

// ---- GET DATA '2F00' ---------------------------------------------------------------------------------------

export interface ApplicationTemplate {
  aid: Uint8Array;
  /** '50' application label, when present. */
  label?: string;
  other?: Tlv[];
}

export function encodeApplicationList(apps: ApplicationTemplate[]): Uint8Array {
  return concat(
    ...apps.map((a) => {
      const parts = [tlv(0x4f, a.aid)];
      if (a.label !== undefined) parts.push(tlv(0x50, new TextEncoder().encode(a.label)));
      for (const t of a.other ?? []) parts.push(tlv(t.tag, t.value));
      return tlv(0x61, parts);
    }),
  );
}

export function decodeApplicationList(data: Uint8Array): ApplicationTemplate[] {
  return parse(data, 'list of applications').map((t) => {
    if (t.tag !== 0x61) throw new RegistryDataError(`list of applications: tag ${t.tag.toString(16).toUpperCase()} at offset ${t.offset} is not '61'`);
    const aid = findTlv(t.children, 0x4f);
    if (!aid) throw new RegistryDataError(`application template at offset ${t.offset} without '4F'`);
    const out: ApplicationTemplate = { aid: aid.value };
    const label = findTlv(t.children, 0x50);
    if (label) out.label = new TextDecoder().decode(label.value);
    const other = (t.children ?? []).filter((c) => c.tag !== 0x4f && c.tag !== 0x50);
    if (other.length > 0) out.other = other;
    return out;
  });
}

// ---- CPLC ('9F7F') -------------------------------------------------------------------------------------------

/** The 18 CPLC fields in order: name, size (42 bytes in all) and the label people read (reports, the viewer). */
export const CPLC_LAYOUT: ReadonlyArray<readonly [name: string, size: number, label: string]> = [
  ['icFabricator', 2, 'IC fabricator'],
  ['icType', 2, 'IC type'],
  ['operatingSystemId', 2, 'Operating system identifier'],
  ['operatingSystemReleaseDate', 2, 'Operating system release date'],
  ['operatingSystemReleaseLevel', 2, 'Operating system release level'],
  ['icFabricationDate', 2, 'IC fabrication date'],
  ['icSerialNumber', 4, 'IC serial number'],
  ['icBatchIdentifier', 2, 'IC batch identifier'],
  ['icModuleFabricator', 2, 'IC module fabricator'],
  ['icModulePackagingDate', 2, 'IC module packaging date'],
  ['iccManufacturer', 2, 'ICC manufacturer'],
  ['icEmbeddingDate', 2, 'IC embedding date'],
  ['icPrePersonalizer', 2, 'IC pre-personalizer'],
  ['icPrePersonalizationEquipmentDate', 2, 'IC pre-personalization equipment date'],
  ['icPrePersonalizationEquipmentId', 4, 'IC pre-personalization equipment identifier'],
  ['icPersonalizer', 2, 'IC personalizer'],
  ['icPersonalizationDate', 2, 'IC personalization date'],
  ['icPersonalizationEquipmentId', 4, 'IC personalization equipment identifier'],
];

const CPLC_DATES = new Set(['operatingSystemReleaseDate', 'icFabricationDate', 'icModulePackagingDate', 'icEmbeddingDate', 'icPrePersonalizationEquipmentDate', 'icPersonalizationDate']);

export const CPLC_SIZE = 42;

export interface CplcField {
  name: string;
  label: string;
  offset: number;
  value: Uint8Array;
  hex: string;
  /** Date fields are 'YDDD': last digit of the year and day of the year, BCD. */
  date?: { yearDigit: number; dayOfYear: number };
}

/** 'YDDD' BCD date, or undefined when the bytes are not such a date (e.g. '0000' or vendor data). */
export function decodeCplcDate(v: Uint8Array): { yearDigit: number; dayOfYear: number } | undefined {
  if (v.length !== 2) return undefined;
  const digits = [v[0] >> 4, v[0] & 15, v[1] >> 4, v[1] & 15];
  if (digits.some((d) => d > 9)) return undefined;
  const day = digits[1] * 100 + digits[2] * 10 + digits[3];
  if (day < 1 || day > 366) return undefined;
  return { yearDigit: digits[0], dayOfYear: day };
}

/** CPLC fields from GET DATA '9F7F' (with or without the 9F7F wrapper). */
export function decodeCplc(data: Uint8Array): CplcField[] {
  let v = data;
  if (data.length >= 3 && data[0] === 0x9f && data[1] === 0x7f) {
    const [t] = parse(data, 'CPLC');
    v = t.value;
  }
  if (v.length < CPLC_SIZE) throw new RegistryDataError(`CPLC of ${v.length} bytes, expected ${CPLC_SIZE}`);
  let off = 0;
  return CPLC_LAYOUT.map(([name, size, label]) => {
    const value = v.slice(off, off + size);
    const f: CplcField = { name, label, offset: off, value, hex: toHex(value) };
    const date = CPLC_DATES.has(name) ? decodeCplcDate(value) : undefined;
    if (date) f.date = date;
    off += size;
    return f;
  });
}

/** 42 CPLC bytes from named fields (missing ones are zero). */
export function encodeCplc(fields: Record<string, Uint8Array>): Uint8Array {
  for (const name of Object.keys(fields)) if (!CPLC_LAYOUT.some(([n]) => n === name)) throw new RegistryDataError(`unknown CPLC field "${name}"`);
  return concat(
    ...CPLC_LAYOUT.map(([name, size]) => {
      const v = fields[name] ?? new Uint8Array(size);
      if (v.length !== size) throw new RegistryDataError(`CPLC ${name} must be ${size} bytes, got ${v.length}`);
      return v;
    }),
  );
}

// ---- Extended Card Resources ('FF21', TS 102 226) -----------------------------------------------------------

export interface ExtendedCardResources {
  installedApplications: number;
  freeNonVolatileMemory: number;
  freeVolatileMemory: number;
}

export function encodeExtendedCardResources(r: ExtendedCardResources): Uint8Array {
  const minimal = (n: number) => {
    let size = 1;
    while (size < 4 && n >= 256 ** size) size++;
    return uint(n, size);
  };
  return tlv(0xff21, [tlv(0x81, minimal(r.installedApplications)), tlv(0x82, minimal(r.freeNonVolatileMemory)), tlv(0x83, minimal(r.freeVolatileMemory))]);
}

/** Decodes 'FF21' (wrapper optional): '81' installed applications, '82' free NVM, '83' free volatile memory. */
export function decodeExtendedCardResources(data: Uint8Array): ExtendedCardResources {
  const list = parse(data, 'extended card resources');
  const inner = list.length === 1 && list[0].tag === 0xff21 ? (list[0].children ?? []) : list;
  const get = (tag: number, name: string): number => {
    const t = findTlv(inner, tag);
    if (!t) throw new RegistryDataError(`extended card resources without '${tag.toString(16)}' (${name})`);
    if (t.value.length === 0 || t.value.length > 4) throw new RegistryDataError(`extended card resources: ${name} of ${t.value.length} bytes`);
    return readUint(t.value);
  };
  return {
    installedApplications: get(0x81, 'number of installed applications'),
    freeNonVolatileMemory: get(0x82, 'free non-volatile memory'),
    freeVolatileMemory: get(0x83, 'free volatile memory'),
  };
}

// ---- Card Recognition Data ('66' / '73', Appendix H.2) -------------------------------------------------------

export function decodeOid(v: Uint8Array): number[] {
  if (v.length === 0) throw new RegistryDataError('empty OID');
  const arcs: number[] = [];
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    n = n * 128 + (v[i] & 0x7f);
    if (!(v[i] & 0x80)) {
      if (arcs.length === 0) arcs.push(n < 80 ? Math.floor(n / 40) : 2, n < 80 ? n % 40 : n - 80);
      else arcs.push(n);
      n = 0;
    } else if (i === v.length - 1) throw new RegistryDataError('OID ends inside an arc');
  }
  return arcs;
}

const GP_OID = [1, 2, 840, 114283];

export interface CardRecognitionData {
  /** Card management type and version from tag '60', e.g. "2.3" or "2.1.1". */
  gpVersion?: string;
  /** SCP and i of the ISD from each '64' tag. */
  secureChannels: { scp: number; i: number }[];
  /** Raw '65' / '66' / '67' / '68' values when present. */
  cardConfiguration?: Uint8Array;
  chipDetails?: Uint8Array;
}

function gpArcs(t: Tlv | undefined): number[] | undefined {
  const oid = findTlv(t?.children, 0x06);
  if (!oid) return undefined;
  const arcs = decodeOid(oid.value);
  if (GP_OID.some((a, k) => arcs[k] !== a)) return undefined;
  return arcs.slice(GP_OID.length);
}

/** Decodes GET DATA '66' (Card Data with its '73' Card Recognition Data). */
export function decodeCardRecognitionData(data: Uint8Array): CardRecognitionData {
  const list = parse(data, 'card data');
  const top = list.length === 1 && list[0].tag === 0x66 ? list[0].children : list;
  const crd = findTlv(top, 0x73);
  if (!crd) throw new RegistryDataError("card data without Card Recognition Data '73'");
  const c = crd.children ?? [];
  const out: CardRecognitionData = { secureChannels: [] };
  const version = gpArcs(findTlv(c, 0x60));
  if (version && version[0] === 2) out.gpVersion = version.slice(1).join('.');
  for (const t of c.filter((x) => x.tag === 0x64)) {
    const arcs = gpArcs(t);
    if (arcs && arcs[0] === 4 && arcs.length >= 3) out.secureChannels.push({ scp: arcs[1], i: arcs[2] });
  }
  const c65 = findTlv(c, 0x65);
  if (c65) out.cardConfiguration = c65.value;
  const c66 = findTlv(c, 0x66);
  if (c66) out.chipDetails = c66.value;
  return out;
}
