/**
 * Explains command and response APDUs the way a lab engineer reads them: ISO/GP command name, CLA bits,
 * P1/P2 meaning, Lc/Le, data fields, BER-TLV tree, status word, GP registry and CPLC.
 */
import {
  commandName,
  GET_DATA_OBJECTS,
  GET_STATUS_SUBSET_TEXT,
  getStatusSubsetOf,
  initializeUpdateHead,
  installRoleNames,
  parseCommand,
  parseScp02InitializeUpdateResponse,
  parseScp03InitializeUpdateResponse,
  SECURITY_LEVEL_BITS,
  SecurityDomainLifeCycle,
  SET_STATUS_SCOPE_TEXT,
  setStatusScopeOf,
  type CommandApdu,
} from '../gp/index.ts';
import { decodeCplc, decodeRegistry, lifeCycleName, privilegesNote, type DecodedCplcField, type DecodedRegistryEntry } from './gp-data.ts';
import { describeSw, type SwClass } from './sw.ts';
import { tlvTree, type TlvNode } from './tlv-tree.ts';
import { cipheredLabel, macLabel, protectionText, splitCommandData, splitResponseData, type Protection, type WireSplit } from './wrapped.ts';

export interface Field {
  label: string;
  hex?: string;
  note?: string;
}

export interface DecodedCommand {
  hex: string;
  cla: string;
  claInfo: string;
  ins: string;
  name: string;
  p1: string;
  p2: string;
  p1Meaning?: string;
  p2Meaning?: string;
  case: 1 | 2 | 3 | 4;
  extended: boolean;
  lc?: number;
  le?: number;
  data?: string;
  fields?: Field[];
  tlv?: TlvNode[];
  /** The secure channel the bytes travel on ("SCP03 C-MAC C-DECRYPTION"); its protected bytes are labelled, not parsed. */
  protection?: string;
  /** Set when the bytes are not a well-formed command; the other fields are then best effort. */
  error?: string;
}

export interface DecodedResponse {
  hex: string;
  sw: string;
  swMeaning: string;
  swClass: SwClass;
  data?: string;
  fields?: Field[];
  tlv?: TlvNode[];
  registry?: DecodedRegistryEntry[];
  cplc?: DecodedCplcField[];
  /** As for commands: the secure channel whose R-MAC / R-ENCRYPTION the data carries. */
  protection?: string;
  error?: string;
}

const h2 = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

function bytesOf(hexText: string): Uint8Array {
  const clean = hexText.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new Error('not hex');
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

export function describeCla(cla: number): string {
  if (cla === 0xff) return 'invalid class (FF)';
  const origin = cla & 0x80 ? 'GlobalPlatform / proprietary' : 'ISO/IEC 7816-4 interindustry';
  let channel: number;
  let sm: string;
  if ((cla & 0x40) === 0) {
    channel = cla & 0x03;
    sm = ['no secure messaging', 'secure messaging (GP proprietary)', 'ISO secure messaging, header not authenticated', 'ISO secure messaging, header authenticated'][(cla >> 2) & 0x03];
  } else {
    channel = 4 + (cla & 0x0f);
    sm = cla & 0x20 ? 'secure messaging' : 'no secure messaging';
  }
  const chain = (cla & 0x10) !== 0 && (cla & 0x40) === 0 ? ', command chaining' : '';
  return `${origin}, ${sm}, logical channel ${channel}${chain}`;
}

function lastOrMore(p1: number, what: string): string {
  return p1 & 0x80 ? `more ${what} commands follow` : 'last (or only) command';
}

function securityLevel(p1: number): string {
  if (p1 === 0) return 'no secure messaging';
  return SECURITY_LEVEL_BITS.filter((b) => p1 & b.bit).map((b) => b.name).join(' + ') || `'${h2(p1)}'`;
}

/** Fields for protected bytes: ciphered data and MACs by name; undefined when the split leaves everything in clear. */
function protectedFields(split: WireSplit, p: Protection): Field[] | undefined {
  if (!split.ciphered && !split.mac) return undefined;
  const fields: Field[] = [];
  if (split.ciphered) {
    fields.push(
      p.level === undefined
        ? { label: `wrapped data (${split.body.length} bytes)`, hex: hex(split.body), note: 'secure messaging of a level the trace does not record: not parsed' }
        : { label: cipheredLabel(split.body.length), hex: hex(split.body), note: 'encrypted with the session keys: not parsed' },
    );
  }
  if (split.mac) fields.push({ label: macLabel(split.macName ?? 'MAC', split.mac.length), hex: hex(split.mac) });
  return fields;
}

function p1p2Meaning(c: CommandApdu, name: string): { p1?: string; p2?: string } {
  const { p1, p2 } = c;
  switch (name) {
    case 'SELECT': {
      const by = { 0x00: 'select MF, DF or EF by file identifier', 0x04: 'select by name (AID)', 0x02: 'select EF under current DF', 0x08: 'select by path from MF', 0x09: 'select by path from current DF' }[p1];
      const occ = ['first or only occurrence', 'last occurrence', 'next occurrence', 'previous occurrence'][p2 & 0x03];
      const fci = ['return FCI', 'return FCP', 'return FMD', 'no response data'][(p2 >> 2) & 0x03];
      return { p1: by ?? `'${h2(p1)}'`, p2: `${occ}, ${fci}` };
    }
    case 'MANAGE CHANNEL':
      return { p1: p1 === 0x00 ? 'open' : p1 === 0x80 ? 'close' : `'${h2(p1)}'`, p2: p2 === 0 ? (p1 === 0 ? 'card assigns the channel' : 'channel 0') : `channel ${p2}` };
    case 'GET DATA': {
      return { p1: `tag ${h2(p1)}${h2(p2)}`, p2: GET_DATA_OBJECTS[(p1 << 8) | p2] ?? GET_DATA_OBJECTS[p2] ?? 'data object' };
    }
    case 'INITIALIZE UPDATE':
      return { p1: p1 === 0 ? 'first available key version' : `key version ${p1}`, p2: p2 === 0 ? 'key identifier 0' : `key identifier ${p2}` };
    case 'EXTERNAL AUTHENTICATE':
      return { p1: `security level: ${securityLevel(p1)}`, p2: p2 === 0 ? 'reference 00' : `'${h2(p2)}'` };
    case 'INSTALL': {
      const roles = installRoleNames(p1);
      const p2m = { 0x00: 'no information', 0x01: 'beginning of combined load, install and make selectable', 0x03: 'end of combined load, install and make selectable' }[p2];
      return { p1: `[for ${roles.join(' and ') || '?'}], ${lastOrMore(p1, 'INSTALL')}`, p2: p2m ?? `'${h2(p2)}'` };
    }
    case 'LOAD':
      return { p1: p1 & 0x80 ? 'last block' : 'more blocks', p2: `block number ${p2}` };
    case 'DELETE':
      return { p1: lastOrMore(p1, 'DELETE'), p2: p2 & 0x80 ? 'delete object and related object' : 'delete object' };
    case 'GET STATUS': {
      const subset = getStatusSubsetOf(p1);
      const what = subset ? GET_STATUS_SUBSET_TEXT[subset] : `'${h2(p1)}'`;
      return { p1: what, p2: `${p2 & 0x01 ? 'next occurrence(s)' : 'first or all occurrence(s)'}, ${p2 & 0x02 ? 'GP Registry data (TLV, E3)' : 'deprecated fixed format'}` };
    }
    case 'SET STATUS': {
      const scope = setStatusScopeOf(p1);
      const target = scope ? SET_STATUS_SCOPE_TEXT[scope] : `'${h2(p1)}'`;
      // PERSONALIZED exists for Security Domains only (Table 11-5).
      const kind = scope === 'sd-and-applications' || p2 === SecurityDomainLifeCycle.PERSONALIZED ? 'security-domain' : 'application';
      const state = scope === 'isd' ? lifeCycleName(p2, 'isd') : p2 & 0x80 ? `LOCKED ('${h2(p2)}')` : `'${h2(p2)}' (back from LOCKED / ${lifeCycleName(p2, kind)})`;
      return { p1: target, p2: `new state ${state}` };
    }
    case 'PUT KEY':
      return { p1: `${p1 & 0x7f ? `key version ${p1 & 0x7f}` : 'new key set (version in the data)'}, ${lastOrMore(p1, 'PUT KEY')}`, p2: `${p2 & 0x80 ? 'multiple keys' : 'single key'}, first key identifier ${p2 & 0x7f}` };
    case 'STORE DATA': {
      const enc = ['no encryption information', 'application dependent encryption', 'RFU encryption', 'encrypted data'][(p1 >> 5) & 0x03];
      const struct = ['no structure information', 'DGI format', 'BER-TLV format', 'RFU structure'][(p1 >> 3) & 0x03];
      return { p1: `${p1 & 0x80 ? 'last block' : 'more blocks'}, ${enc}, ${struct}, ${p1 & 0x01 ? 'case 4 (response may follow)' : 'case 3'}`, p2: `block number ${p2}` };
    }
    case 'GET RESPONSE':
      return {};
    case 'READ BINARY': case 'UPDATE BINARY':
      return { p1: p1 & 0x80 ? `short file id ${p1 & 0x1f}` : `offset ${(p1 << 8) | p2}`, p2: p1 & 0x80 ? `offset ${p2}` : undefined };
    case 'READ RECORD': case 'UPDATE RECORD':
      return { p1: `record ${p1}`, p2: `short file id ${p2 >> 3}, mode ${p2 & 0x07}` };
    case 'VERIFY': case 'CHANGE REFERENCE DATA': case 'RESET RETRY COUNTER':
      return { p2: `reference data '${h2(p2)}'` };
    default:
      return {};
  }
}

/** Length-value fields of INSTALL data (Tables 11-42 to 11-47), named for the INSTALL role. */
function installFields(p1: number, data: Uint8Array): { fields: Field[]; tlv?: TlvNode[] } {
  let names: string[];
  if (p1 & 0x02) names = ['Load file AID', 'Security Domain AID', 'Load file data block hash', 'Load parameters', 'Load token'];
  else if (p1 & 0x04) names = ['Executable load file AID', 'Executable module AID', 'Application AID', 'Privileges', 'Install parameters', 'Install token'];
  else if (p1 & 0x08) names = ['(empty)', '(empty)', 'Application AID', 'Privileges', 'Make selectable parameters', 'Make selectable token'];
  else if (p1 & 0x10) names = ['Security Domain AID', '(empty)', 'Application AID', '(empty)', 'Extradition parameters', 'Extradition token'];
  else if (p1 & 0x20) names = ['(empty)', '(empty)', 'Application AID', '(empty)', '(empty)', '(empty)'];
  else if (p1 & 0x40) names = ['Security Domain AID', '(empty)', 'Application AID', 'Privileges', 'Registry update parameters', 'Registry update token'];
  else return { fields: [] };
  const fields: Field[] = [];
  let tlv: TlvNode[] | undefined;
  let o = 0;
  for (const name of names) {
    if (o >= data.length) break;
    let len = data[o++];
    // Parameter and token fields may use a two-byte length ('81' xx) when longer than 127 bytes.
    if (len === 0x81 && o < data.length) len = data[o++];
    else if (len === 0x82 && o + 1 < data.length) {
      len = (data[o] << 8) | data[o + 1];
      o += 2;
    }
    const v = data.subarray(o, o + len);
    o += len;
    const f: Field = { label: name, hex: hex(v) };
    if (name === 'Privileges' && v.length) f.note = privilegesNote(v);
    if (name.endsWith('parameters') && v.length) tlv = tlvTree(v);
    fields.push(f);
  }
  if (o < data.length) fields.push({ label: 'Trailing bytes (C-MAC if wrapped)', hex: hex(data.subarray(o)) });
  return tlv ? { fields, tlv } : { fields };
}

function dataFields(c: CommandApdu, name: string): { fields?: Field[]; tlv?: TlvNode[] } {
  const d = c.data;
  if (!d || d.length === 0) return {};
  switch (name) {
    case 'SELECT':
      return { fields: [{ label: c.p1 === 0x04 ? 'AID' : 'File identifier / path', hex: hex(d) }] };
    case 'INSTALL':
      return installFields(c.p1, d);
    case 'INITIALIZE UPDATE':
      return { fields: [{ label: 'Host challenge', hex: hex(d) }] };
    case 'EXTERNAL AUTHENTICATE':
      return { fields: [{ label: 'Host cryptogram', hex: hex(d.subarray(0, 8)) }, ...(d.length > 8 ? [{ label: 'C-MAC', hex: hex(d.subarray(8)) }] : [])] };
    case 'SET STATUS':
      return { fields: [{ label: 'AID', hex: hex(d) }] };
    case 'PUT KEY':
      return { fields: [{ label: 'New key version number', hex: h2(d[0]) }, { label: 'Key components (encrypted key data, KCVs)', hex: hex(d.subarray(1)) }] };
    case 'LOAD':
      return { fields: [{ label: 'Load file data block', hex: hex(d), note: `${d.length} bytes` }] };
    case 'STORE DATA': {
      const struct = (c.p1 >> 3) & 0x03;
      if (struct === 1) return { fields: dgiFields(d) };
      const tlv = tlvTree(d);
      return tlv ? { tlv } : { fields: [{ label: 'Data', hex: hex(d) }] };
    }
    default: {
      const tlv = tlvTree(d);
      return tlv ? { tlv } : {};
    }
  }
}

/** DGI structures: 2-byte tag, 1-byte length or 'FF' + 2-byte length, value. */
function dgiFields(d: Uint8Array): Field[] {
  const out: Field[] = [];
  let o = 0;
  while (o + 3 <= d.length) {
    const tag = hex(d.subarray(o, o + 2));
    o += 2;
    let len = d[o++];
    if (len === 0xff && o + 2 <= d.length) {
      len = (d[o] << 8) | d[o + 1];
      o += 2;
    }
    out.push({ label: `DGI ${tag}`, hex: hex(d.subarray(o, o + len)), note: `${len} bytes` });
    o += len;
  }
  if (o < d.length) out.push({ label: 'Trailing bytes', hex: hex(d.subarray(o)) });
  return out;
}

/**
 * `protection` (from the event's secure channel, see protectionOf) marks the bytes as wire bytes of a secure
 * channel: the C-MAC and ciphered data are labelled, and only data the level leaves in clear is parsed.
 */
export function decodeCommand(commandHex: string, protection?: Protection): DecodedCommand {
  let raw: Uint8Array;
  try {
    raw = bytesOf(commandHex);
  } catch {
    return { hex: commandHex, cla: '', claInfo: '', ins: '', name: 'not hex', p1: '', p2: '', case: 1, extended: false, error: 'not hex' };
  }
  const up = hex(raw);
  if (raw.length < 4) {
    return { hex: up, cla: '', claInfo: '', ins: '', name: 'too short', p1: '', p2: '', case: 1, extended: false, error: `command shorter than a header: ${raw.length} bytes` };
  }
  const [cla, ins, p1, p2] = raw;
  const name = commandName(cla, ins, p1);
  const shownName = name === 'INSTALL' ? `INSTALL [for ${installRoleNames(p1).join(' and ') || '?'}]` : name;
  const base = { hex: up, cla: h2(cla), claInfo: describeCla(cla), ins: h2(ins), name: shownName, p1: h2(p1), p2: h2(p2) };
  let c: CommandApdu;
  try {
    c = parseCommand(raw);
  } catch (e) {
    return { ...base, case: 1, extended: false, error: (e as Error).message };
  }
  const hasData = !!c.data && c.data.length > 0;
  const hasLe = c.le !== undefined;
  const m = p1p2Meaning(c, name);
  const out: DecodedCommand = {
    ...base,
    case: hasData ? (hasLe ? 4 : 3) : hasLe ? 2 : 1,
    extended: raw.length > 5 && raw[4] === 0x00,
  };
  if (m.p1) out.p1Meaning = m.p1;
  if (m.p2) out.p2Meaning = m.p2;
  if (hasData) {
    out.lc = c.data!.length;
    out.data = hex(c.data!);
  }
  if (hasLe) out.le = c.le;
  if (protection) out.protection = protectionText(protection);
  const split = protection && hasData ? splitCommandData(c.data!, protection, cla) : undefined;
  const wrapped = split && protectedFields(split, protection!);
  if (!split || !wrapped) {
    Object.assign(out, dataFields(c, name));
    return out;
  }
  if (split.ciphered || split.body.length === 0) {
    out.fields = wrapped;
    return out;
  }
  // C-MAC alone: the data before it is in clear.
  const clear = dataFields({ ...c, data: split.body }, name);
  out.fields = [...(clear.fields ?? (clear.tlv ? [] : [{ label: 'Data', hex: hex(split.body) }])), ...wrapped];
  if (clear.tlv) out.tlv = clear.tlv;
  return out;
}

/** What a response means given the command that caused it (registry for GET STATUS, CPLC for GET DATA 9F7F, ...). */
export function decodeResponse(responseHex: string, commandHex?: string, protection?: Protection): DecodedResponse {
  let raw: Uint8Array;
  try {
    raw = bytesOf(responseHex);
  } catch {
    return { hex: responseHex, sw: '', swMeaning: 'not hex', swClass: 'unknown', error: 'not hex' };
  }
  if (raw.length < 2) return { hex: hex(raw), sw: '', swMeaning: 'no status word', swClass: 'unknown', error: `response shorter than a status word: ${raw.length} bytes` };
  const sw = (raw[raw.length - 2] << 8) | raw[raw.length - 1];
  let cmd: Uint8Array | undefined;
  try {
    cmd = commandHex ? bytesOf(commandHex) : undefined;
  } catch {
    cmd = undefined;
  }
  const ins = cmd && cmd.length >= 4 ? cmd[1] : undefined;
  const info = describeSw(sw, ins);
  const out: DecodedResponse = { hex: hex(raw), sw: info.sw, swMeaning: info.meaning, swClass: info.class };
  if (protection) out.protection = protectionText(protection);
  if (raw.length === 2) return out;
  out.data = hex(raw.subarray(0, raw.length - 2));
  let data = raw.subarray(0, raw.length - 2);
  if (protection) {
    const split = splitResponseData(data, protection);
    const wrapped = protectedFields(split, protection);
    if (wrapped) {
      out.fields = wrapped;
      if (split.ciphered || split.body.length === 0) return out;
      // R-MAC alone: the data before it is in clear, and read as usual below.
      data = split.body;
    }
  }
  try {
    if (cmd && cmd.length >= 4) {
      const [cla, , p1, p2] = cmd;
      const name = commandName(cla, cmd[1], p1);
      if (name === 'GET STATUS' && p2 & 0x02) {
        out.registry = decodeRegistry(data, p1);
        out.tlv = tlvTree(data);
        return out;
      }
      if (name === 'GET DATA' && p1 === 0x9f && p2 === 0x7f) {
        out.cplc = decodeCplc(data);
        return out;
      }
      if (name === 'INITIALIZE UPDATE') {
        out.fields = [...initializeUpdateFields(data), ...(out.fields ?? [])];
        return out;
      }
    }
  } catch (e) {
    out.error = (e as Error).message;
  }
  const tlv = tlvTree(data);
  if (tlv) out.tlv = tlv;
  return out;
}

/**
 * INITIALIZE UPDATE response split by gp's layouts (SCP02 Table E-8, SCP03 Amd D Table 7-3, told apart by the
 * SCP identifier); a response neither layout accepts keeps its head and says why the rest is not split.
 */
function initializeUpdateFields(d: Uint8Array): Field[] {
  const head = initializeUpdateHead(d);
  if (!head) return [{ label: 'Data', hex: hex(d) }];
  const f: Field[] = [
    { label: 'Key diversification data', hex: hex(head.kdd) },
    { label: 'Key version number', hex: h2(head.kvn) },
    { label: 'Secure channel protocol', hex: h2(head.scpId), note: head.scpId === 2 ? 'SCP02' : head.scpId === 3 ? 'SCP03' : undefined },
  ];
  try {
    if (head.scpId === 0x03) {
      const r = parseScp03InitializeUpdateResponse(d);
      f.push({ label: 'SCP03 "i" parameter', hex: h2(r.i) });
      f.push({ label: 'Card challenge', hex: hex(r.cardChallenge) });
      f.push({ label: 'Card cryptogram', hex: hex(r.cardCryptogram) });
      if (r.sequenceCounter) f.push({ label: 'Sequence counter', hex: hex(r.sequenceCounter) });
    } else {
      const r = parseScp02InitializeUpdateResponse(d);
      f.push({ label: 'Sequence counter', hex: hex(r.sequenceCounter) });
      f.push({ label: 'Card challenge', hex: hex(r.cardChallenge) });
      f.push({ label: 'Card cryptogram', hex: hex(r.cardCryptogram) });
    }
  } catch (e) {
    f.push({ label: 'Rest of the response', hex: hex(d.subarray(12)), note: (e as Error).message });
  }
  return f;
}

/**
 * One short line for the list pane: "SELECT A000000151000000", "GET DATA 9F7F". Cheap on purpose (the viewer
 * builds one per event): reads header bytes only, no TLV or data decoding.
 */
export function commandSummary(commandHex: string, readData = true): string {
  const h = commandHex.replace(/\s+/g, '');
  if (h.length < 8 || !/^[0-9a-fA-F]+$/.test(h)) return h.length < 8 ? 'too short' : 'not hex';
  const byte = (k: number) => parseInt(h.slice(2 * k, 2 * k + 2), 16);
  const [cla, ins, p1, p2] = [byte(0), byte(1), byte(2), byte(3)];
  const name = commandName(cla, ins, p1);
  switch (name) {
    case 'SELECT': {
      const lc = readData && h.length > 10 ? byte(4) : 0;
      return lc && h.length >= 10 + 2 * lc ? `SELECT ${h.slice(10, 10 + 2 * lc).toUpperCase()}` : 'SELECT';
    }
    case 'GET DATA':
      return `GET DATA ${h.slice(4, 8).toUpperCase()}`;
    case 'GET STATUS':
      return `GET STATUS ${GET_STATUS_SUBSET_TEXT[getStatusSubsetOf(p1) ?? 'load-files-and-modules']}${p2 & 0x01 ? ' (next)' : ''}`;
    case 'EXTERNAL AUTHENTICATE':
      return `EXTERNAL AUTHENTICATE ${securityLevel(p1)}`;
    case 'INSTALL':
      return `INSTALL [for ${installRoleNames(p1).join(' and ') || '?'}]`;
    case 'LOAD':
      return `LOAD block ${p2}${p1 & 0x80 ? ' (last)' : ''}`;
    case 'STORE DATA':
      return `STORE DATA block ${p2}${p1 & 0x80 ? ' (last)' : ''}`;
    default:
      return name;
  }
}
