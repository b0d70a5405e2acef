/**
 * GlobalPlatform command builders (host side) and parsers (card side), one definition per command, GPCS 2.3.1
 * chapter 11: SELECT, INITIALIZE UPDATE, EXTERNAL AUTHENTICATE, GET DATA, GET STATUS, DELETE, SET STATUS
 * (and the Amendment C contactless form), STORE DATA, PUT KEY header. INSTALL variants live in
 * commands-install.ts; INSTALL [for load] and LOAD in load.ts. Parsers throw CommandFormatError carrying the
 * status word a card answers with.
 */
import type { CommandApdu } from './apdu.ts';
import { concat } from './bytes.ts';
import { parseTlv, tlv, type Tlv, TlvError } from './tlv.ts';
import { GpError } from './errors.ts';

export const Ins = {
  SELECT: 0xa4,
  INITIALIZE_UPDATE: 0x50,
  EXTERNAL_AUTHENTICATE: 0x82,
  GET_DATA: 0xca,
  GET_DATA_ODD: 0xcb,
  GET_STATUS: 0xf2,
  GET_RESPONSE: 0xc0,
  DELETE: 0xe4,
  INSTALL: 0xe6,
  LOAD: 0xe8,
  PUT_KEY: 0xd8,
  SET_STATUS: 0xf0,
  STORE_DATA: 0xe2,
  MANAGE_CHANNEL: 0x70,
} as const;

/** A command whose fields cannot be what they claim; `sw` is what a card answers (6A80, 6A86, 6700). */
export class CommandFormatError extends GpError<'bad-command'> {
  constructor(
    override readonly sw: number,
    message: string,
  ) {
    super('bad-command', message, sw);
    this.name = 'CommandFormatError';
  }
}

export const GP_CLA = 0x80;

function checkAid(aid: Uint8Array, what = 'AID', sw = 0x6a80): void {
  if (aid.length < 5 || aid.length > 16) throw new CommandFormatError(sw, `${what} must be 5..16 bytes, got ${aid.length}`);
}

function dataOf(cmd: CommandApdu): Uint8Array {
  return cmd.data ?? new Uint8Array(0);
}

function tlvs(data: Uint8Array, what: string): Tlv[] {
  try {
    return parseTlv(data);
  } catch (e) {
    if (e instanceof TlvError) throw new CommandFormatError(0x6a80, `${what}: ${e.message}`);
    throw e;
  }
}

// ---- SELECT (§11.9) ---------------------------------------------------------------------------------------

export interface SelectOptions {
  /** P2 '02': next occurrence (partial AID match). */
  next?: boolean;
  /** CLA (default '00'; logical channels 1-3 are '01'-'03'). */
  cla?: number;
}

/** SELECT [by name]: 00 A4 04 00|02 Lc AID 00. An empty AID selects the ISD (case 2). */
export function selectByAid(aid: Uint8Array, opts: SelectOptions = {}): CommandApdu {
  if (aid.length > 16) throw new RangeError(`AID of ${aid.length} bytes`);
  const cmd: CommandApdu = { cla: opts.cla ?? 0x00, ins: Ins.SELECT, p1: 0x04, p2: opts.next ? 0x02 : 0x00, le: 256 };
  if (aid.length > 0) cmd.data = aid.slice();
  return cmd;
}

export interface SelectCommand {
  aid: Uint8Array;
  next: boolean;
}

export function parseSelect(cmd: CommandApdu): SelectCommand {
  if (cmd.ins !== Ins.SELECT) throw new CommandFormatError(0x6d00, `not SELECT: INS ${cmd.ins.toString(16)}`);
  if (cmd.p1 !== 0x04) throw new CommandFormatError(0x6a86, `SELECT P1 ${cmd.p1.toString(16)}: only [by name] ('04') is supported`);
  if ((cmd.p2 & ~0x02) !== 0) throw new CommandFormatError(0x6a86, `SELECT P2 ${cmd.p2.toString(16)}: first ('00') or next ('02') occurrence only`);
  const aid = dataOf(cmd);
  if (aid.length > 16) throw new CommandFormatError(0x6a80, `AID of ${aid.length} bytes`);
  return { aid, next: cmd.p2 === 0x02 };
}

// ---- INITIALIZE UPDATE / EXTERNAL AUTHENTICATE (§E.5 / Amd D §7.1) ----------------------------------------

export function initializeUpdate(kvn: number, hostChallenge: Uint8Array): CommandApdu {
  return { cla: GP_CLA, ins: Ins.INITIALIZE_UPDATE, p1: kvn, p2: 0x00, data: hostChallenge.slice(), le: 256 };
}

export function parseInitializeUpdate(cmd: CommandApdu): { kvn: number; keyId: number; hostChallenge: Uint8Array } {
  const data = dataOf(cmd);
  if (data.length !== 8 && data.length !== 16) throw new CommandFormatError(0x6700, `host challenge of ${data.length} bytes`);
  return { kvn: cmd.p1, keyId: cmd.p2, hostChallenge: data };
}

export function externalAuthenticate(level: number, cryptogramAndMac: Uint8Array): CommandApdu {
  return { cla: 0x84, ins: Ins.EXTERNAL_AUTHENTICATE, p1: level, p2: 0x00, data: cryptogramAndMac.slice() };
}

export function parseExternalAuthenticate(cmd: CommandApdu): { level: number; hostCryptogram: Uint8Array; mac: Uint8Array } {
  const data = dataOf(cmd);
  if (data.length !== 16 && data.length !== 32) throw new CommandFormatError(0x6700, `EXTERNAL AUTHENTICATE data of ${data.length} bytes`);
  const half = data.length / 2;
  return { level: cmd.p1, hostCryptogram: data.slice(0, half), mac: data.slice(half) };
}

// ---- GET DATA (§11.3) -----------------------------------------------------------------------------------

export const GetDataTag = {
  IIN: 0x42,
  CIN: 0x45,
  CARD_DATA: 0x66,
  CARD_CAPABILITY: 0x67,
  KEY_INFORMATION: 0xe0,
  SEQUENCE_COUNTER: 0xc1,
  CONFIRMATION_COUNTER: 0xc2,
  SECURITY_LEVEL: 0xd3,
  CPLC: 0x9f7f,
  LIST_OF_APPLICATIONS: 0x2f00,
  SECURITY_DOMAIN_MANAGER_URL: 0x5f50,
  EXTENDED_CARD_RESOURCES: 0xff21,
} as const;

/** GET DATA: 80 CA P1P2=tag 00; for '2F00' the tag list '5C 00' goes in the data field (§11.3.2.2). */
export function getData(tag: number, opts: { cla?: number } = {}): CommandApdu {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xffff) throw new RangeError(`GET DATA tag out of range: ${tag}`);
  const cmd: CommandApdu = { cla: opts.cla ?? GP_CLA, ins: Ins.GET_DATA, p1: tag >> 8, p2: tag & 0xff, le: 256 };
  if (tag === GetDataTag.LIST_OF_APPLICATIONS) cmd.data = Uint8Array.of(0x5c, 0x00);
  return cmd;
}

export function parseGetData(cmd: CommandApdu): { tag: number; tagList?: Uint8Array } {
  if (cmd.ins !== Ins.GET_DATA && cmd.ins !== Ins.GET_DATA_ODD) throw new CommandFormatError(0x6d00, 'not GET DATA');
  const tag = (cmd.p1 << 8) | cmd.p2;
  const data = dataOf(cmd);
  if (data.length === 0) return { tag };
  const list = tlvs(data, 'GET DATA data field');
  const tagList = list.find((t) => t.tag === 0x5c);
  return tagList ? { tag, tagList: tagList.value } : { tag };
}

// ---- GET STATUS (§11.4) ----------------------------------------------------------------------------------

export const GetStatusSubset = {
  ISD: 0x80,
  APPLICATIONS: 0x40,
  LOAD_FILES: 0x20,
  LOAD_FILES_AND_MODULES: 0x10,
} as const;

export type GetStatusSubsetName = 'isd' | 'applications' | 'load-files' | 'load-files-and-modules';

const SUBSET_BY_NAME: Record<GetStatusSubsetName, number> = {
  isd: 0x80,
  applications: 0x40,
  'load-files': 0x20,
  'load-files-and-modules': 0x10,
};

/** The subsets in words (Table 11-33), as traces and reports show them. */
export const GET_STATUS_SUBSET_TEXT: Readonly<Record<GetStatusSubsetName, string>> = {
  isd: 'Issuer Security Domain',
  applications: 'applications and Security Domains',
  'load-files': 'executable load files',
  'load-files-and-modules': 'executable load files and modules',
};

/** What a GET STATUS P1 asks for: its highest subset bit decides (other bits are RFU); undefined when none is set. */
export function getStatusSubsetOf(p1: number): GetStatusSubsetName | undefined {
  return (Object.keys(SUBSET_BY_NAME) as GetStatusSubsetName[]).find((k) => (p1 & SUBSET_BY_NAME[k]) !== 0);
}

export function getStatusSubsetName(p1: number): GetStatusSubsetName | undefined {
  return (Object.keys(SUBSET_BY_NAME) as GetStatusSubsetName[]).find((k) => SUBSET_BY_NAME[k] === p1);
}

export interface GetStatusOptions {
  subset: GetStatusSubsetName | number;
  /** 'tlv' = P2 b2 set, E3 templates (default); 'legacy' = P2 '00', the deprecated fixed format. */
  format?: 'tlv' | 'legacy';
  /** P2 b1: get next occurrence(s) after 6310. */
  next?: boolean;
  /** AID search qualifier (default empty: all). */
  aid?: Uint8Array;
  /** Tag list ('5C'), e.g. [0x4f, 0x9f70, 0xc5, 0xcc]. */
  tagList?: number[];
}

function tagBytes(tag: number): Uint8Array {
  return tag > 0xff ? Uint8Array.of(tag >> 8, tag & 0xff) : Uint8Array.of(tag);
}

/** GET STATUS: 80 F2 P1 P2 data = 4F <aid> [5C <tags>] 00. */
export function getStatus(opts: GetStatusOptions): CommandApdu {
  const p1 = typeof opts.subset === 'number' ? opts.subset : SUBSET_BY_NAME[opts.subset];
  if (p1 === undefined || ![0x80, 0x40, 0x20, 0x10].includes(p1)) throw new RangeError(`GET STATUS subset ${String(opts.subset)}`);
  const p2 = (opts.format === 'legacy' ? 0x00 : 0x02) | (opts.next ? 0x01 : 0x00);
  const parts = [tlv(0x4f, opts.aid ?? new Uint8Array(0))];
  if (opts.tagList) parts.push(tlv(0x5c, concat(...opts.tagList.map(tagBytes))));
  return { cla: GP_CLA, ins: Ins.GET_STATUS, p1, p2, data: concat(...parts), le: 256 };
}

/** The follow-up after '6310': same command with P2 b1 set. */
export function getStatusNext(previous: CommandApdu): CommandApdu {
  return { ...previous, p2: previous.p2 | 0x01 };
}

export interface GetStatusCommand {
  p1: number;
  subset: GetStatusSubsetName;
  format: 'tlv' | 'legacy';
  next: boolean;
  /** AID search qualifier; empty matches everything (a prefix matches by RID or more). */
  aid: Uint8Array;
  tagList?: number[];
  /** Other search criteria, as sent. */
  criteria: Tlv[];
}

export function parseGetStatus(cmd: CommandApdu): GetStatusCommand {
  const subset = getStatusSubsetName(cmd.p1);
  if (!subset) throw new CommandFormatError(0x6a86, `GET STATUS P1 ${cmd.p1.toString(16)}: one of 80, 40, 20, 10`);
  if ((cmd.p2 & 0xfc) !== 0) throw new CommandFormatError(0x6a86, `GET STATUS P2 ${cmd.p2.toString(16)}: RFU bits set`);
  const list = tlvs(dataOf(cmd), 'GET STATUS search criteria');
  const aidTlv = list.find((t) => t.tag === 0x4f);
  if (!aidTlv && subset !== 'isd') throw new CommandFormatError(0x6a80, "GET STATUS without the mandatory '4F' search qualifier");
  if (aidTlv && aidTlv.value.length > 16) throw new CommandFormatError(0x6a80, `AID search qualifier of ${aidTlv.value.length} bytes`);
  const out: GetStatusCommand = {
    p1: cmd.p1,
    subset,
    format: cmd.p2 & 0x02 ? 'tlv' : 'legacy',
    next: (cmd.p2 & 0x01) !== 0,
    aid: aidTlv?.value ?? new Uint8Array(0),
    criteria: list.filter((t) => t.tag !== 0x4f && t.tag !== 0x5c),
  };
  const tl = list.find((t) => t.tag === 0x5c);
  if (tl) out.tagList = splitTagList(tl.value);
  return out;
}

/** A '5C' tag list: concatenated BER tags. */
export function splitTagList(value: Uint8Array): number[] {
  const tags: number[] = [];
  let i = 0;
  while (i < value.length) {
    let tag = value[i++];
    if ((tag & 0x1f) === 0x1f) {
      let more = true;
      while (more) {
        if (i >= value.length) throw new CommandFormatError(0x6a80, 'truncated tag in tag list');
        const b = value[i++];
        tag = tag * 256 + b;
        more = (b & 0x80) !== 0;
      }
    }
    tags.push(tag);
  }
  return tags;
}

// ---- DELETE (§11.2) --------------------------------------------------------------------------------------

export interface DeleteCardContentOptions {
  /** P2 b8: the object and its related objects (a load file with its applications). */
  related?: boolean;
  /** Delete Token ('9E'), with its CRT ('B6') if given. */
  token?: Uint8Array;
  tokenCrt?: Uint8Array;
}

/** DELETE [card content]: 80 E4 00 00|80 4F <aid> [B6 ...] [9E token] 00. */
export function deleteCardContent(aid: Uint8Array, opts: DeleteCardContentOptions = {}): CommandApdu {
  checkAid(aid);
  const parts = [tlv(0x4f, aid)];
  if (opts.tokenCrt) parts.push(tlv(0xb6, opts.tokenCrt));
  if (opts.token) parts.push(tlv(0x9e, opts.token));
  return { cla: GP_CLA, ins: Ins.DELETE, p1: 0x00, p2: opts.related ? 0x80 : 0x00, data: concat(...parts), le: 256 };
}

/** DELETE [key]: D0 <key id> and/or D2 <KVN>. */
export function deleteKey(ref: { keyId?: number; kvn?: number }): CommandApdu {
  if (ref.keyId === undefined && ref.kvn === undefined) throw new RangeError('DELETE [key] needs a key identifier or a key version number');
  const parts: Uint8Array[] = [];
  if (ref.keyId !== undefined) parts.push(tlv(0xd0, Uint8Array.of(ref.keyId)));
  if (ref.kvn !== undefined) parts.push(tlv(0xd2, Uint8Array.of(ref.kvn)));
  return { cla: GP_CLA, ins: Ins.DELETE, p1: 0x00, p2: 0x00, data: concat(...parts), le: 256 };
}

export type DeleteCommand =
  | { kind: 'card-content'; aid: Uint8Array; related: boolean; more: boolean; token?: Uint8Array; tokenCrt?: Uint8Array }
  | { kind: 'key'; keyId?: number; kvn?: number; related: boolean; more: boolean };

export function parseDelete(cmd: CommandApdu): DeleteCommand {
  if ((cmd.p1 & 0x7f) !== 0 || (cmd.p2 & 0x7f) !== 0) throw new CommandFormatError(0x6a86, `DELETE P1/P2 ${cmd.p1.toString(16)}/${cmd.p2.toString(16)}: RFU bits set`);
  const related = (cmd.p2 & 0x80) !== 0;
  const more = (cmd.p1 & 0x80) !== 0;
  const list = tlvs(dataOf(cmd), 'DELETE data field');
  const aid = list.find((t) => t.tag === 0x4f);
  if (aid) {
    checkAid(aid.value);
    const out: DeleteCommand = { kind: 'card-content', aid: aid.value, related, more };
    const token = list.find((t) => t.tag === 0x9e);
    const crt = list.find((t) => t.tag === 0xb6);
    if (token) out.token = token.value;
    if (crt) out.tokenCrt = crt.value;
    return out;
  }
  const kid = list.find((t) => t.tag === 0xd0);
  const kvn = list.find((t) => t.tag === 0xd2);
  if (!kid && !kvn) throw new CommandFormatError(0x6a80, "DELETE names no object ('4F', 'D0' or 'D2')");
  for (const t of [kid, kvn]) if (t && t.value.length !== 1) throw new CommandFormatError(0x6a80, `DELETE [key] ${t.tag.toString(16)} of ${t.value.length} bytes`);
  const out: DeleteCommand = { kind: 'key', related, more };
  if (kid) out.keyId = kid.value[0];
  if (kvn) out.kvn = kvn.value[0];
  return out;
}

// ---- SET STATUS (§11.10; Amendment C §3.11.4) ------------------------------------------------------------

export type SetStatusScope = 'isd' | 'application' | 'sd-and-applications';

const SCOPE_P1: Record<SetStatusScope, number> = { isd: 0x80, application: 0x40, 'sd-and-applications': 0x60 };

/** The scopes in words (Table 11-63), as traces show them. */
export const SET_STATUS_SCOPE_TEXT: Readonly<Record<SetStatusScope, string>> = {
  isd: 'Issuer Security Domain (card)',
  application: 'application or Security Domain',
  'sd-and-applications': 'Security Domain and its associated applications',
};

/** The scope P1 b8-b6 select; undefined for other codings (Amendment C's contactless status types among them). */
export function setStatusScopeOf(p1: number): SetStatusScope | undefined {
  return (Object.keys(SCOPE_P1) as SetStatusScope[]).find((s) => SCOPE_P1[s] === (p1 & 0xe0));
}

/**
 * SET STATUS: 80 F0 P1 P2 [AID]. P2 is the target state: card states for the ISD, for another application
 * or SD only b8 matters (lock '80' / unlock '00').
 */
export function setStatus(scope: SetStatusScope, state: number, aid?: Uint8Array): CommandApdu {
  const cmd: CommandApdu = { cla: GP_CLA, ins: Ins.SET_STATUS, p1: SCOPE_P1[scope], p2: state };
  if (scope !== 'isd') {
    if (!aid) throw new RangeError(`SET STATUS ${scope} needs the target AID`);
    checkAid(aid);
    cmd.data = aid.slice();
  }
  return cmd;
}

/** Amendment C contactless status types (P1) sent to the CRS application. */
export const ContactlessStatusType = {
  AVAILABILITY: 0x01,
  PRIORITY: 0x02,
  INTERFACE_ACCESS: 0x04,
  PROTOCOL_TYPE_STATE: 0x08,
  REMAINING_RESPONSE_DATA: 0x80,
} as const;

/** Amendment C: activate (P2 '01') or deactivate ('00') applications over the contactless interface; data = 4F AID... */
export function setContactlessActivation(aids: Uint8Array[], activated: boolean): CommandApdu {
  if (aids.length === 0) throw new RangeError('contactless activation needs at least one AID');
  aids.forEach((a) => checkAid(a));
  return {
    cla: GP_CLA,
    ins: Ins.SET_STATUS,
    p1: ContactlessStatusType.AVAILABILITY,
    p2: activated ? 0x01 : 0x00,
    data: concat(...aids.map((a) => tlv(0x4f, a))),
    le: 256,
  };
}

export type SetStatusCommand =
  | { kind: 'life-cycle'; scope: SetStatusScope; state: number; aid?: Uint8Array }
  | { kind: 'contactless'; statusType: number; value: number; aids: Uint8Array[]; data: Uint8Array };

export function parseSetStatus(cmd: CommandApdu): SetStatusCommand {
  const data = dataOf(cmd);
  const scope = setStatusScopeOf(cmd.p1);
  if (scope && (cmd.p1 & 0x1f) === 0) {
    if (scope === 'isd') return { kind: 'life-cycle', scope, state: cmd.p2 };
    checkAid(data, 'SET STATUS target AID');
    return { kind: 'life-cycle', scope, state: cmd.p2, aid: data };
  }
  if ((Object.values(ContactlessStatusType) as number[]).includes(cmd.p1)) {
    const aids = cmd.p1 === 0x01 || cmd.p1 === 0x02 ? tlvs(data, 'SET STATUS AID list').filter((t) => t.tag === 0x4f).map((t) => t.value) : [];
    return { kind: 'contactless', statusType: cmd.p1, value: cmd.p2, aids, data };
  }
  throw new CommandFormatError(0x6a86, `SET STATUS P1 ${cmd.p1.toString(16)}: not a status type`);
}

// ---- STORE DATA (§11.11) ----------------------------------------------------------------------------------

export type StoreDataEncryption = 'none' | 'application-dependent' | 'encrypted';
export type StoreDataStructure = 'none' | 'dgi' | 'ber-tlv';

const ENCRYPTION_BITS: Record<StoreDataEncryption, number> = { none: 0x00, 'application-dependent': 0x20, encrypted: 0x60 };
const STRUCTURE_BITS: Record<StoreDataStructure, number> = { none: 0x00, dgi: 0x08, 'ber-tlv': 0x10 };

export interface StoreDataOptions {
  block: number;
  last: boolean;
  encryption?: StoreDataEncryption;
  structure?: StoreDataStructure;
  /** P1 b1: case 4, response data may come back. */
  responseExpected?: boolean;
}

export function storeData(data: Uint8Array, opts: StoreDataOptions): CommandApdu {
  if (!Number.isInteger(opts.block) || opts.block < 0 || opts.block > 0xff) throw new RangeError(`STORE DATA block number ${opts.block}`);
  const p1 = (opts.last ? 0x80 : 0) | ENCRYPTION_BITS[opts.encryption ?? 'none'] | STRUCTURE_BITS[opts.structure ?? 'none'] | (opts.responseExpected ? 0x01 : 0);
  const cmd: CommandApdu = { cla: GP_CLA, ins: Ins.STORE_DATA, p1, p2: opts.block, data: data.slice() };
  if (opts.responseExpected) cmd.le = 256;
  return cmd;
}

/** Splits `data` into STORE DATA blocks of at most `blockSize` bytes, numbered from 0, the last flagged. */
export function storeDataBlocks(data: Uint8Array, blockSize: number, opts: Omit<StoreDataOptions, 'block' | 'last'> = {}): CommandApdu[] {
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > 255) throw new RangeError(`STORE DATA block size ${blockSize}`);
  const count = Math.max(1, Math.ceil(data.length / blockSize));
  if (count > 256) throw new RangeError(`${data.length} bytes need ${count} STORE DATA blocks; P2 allows 256`);
  return Array.from({ length: count }, (_, n) => storeData(data.slice(n * blockSize, (n + 1) * blockSize), { ...opts, block: n, last: n === count - 1 }));
}

export interface StoreDataCommand {
  block: number;
  last: boolean;
  encryption: StoreDataEncryption | 'rfu';
  structure: StoreDataStructure | 'rfu';
  responseExpected: boolean;
  data: Uint8Array;
}

export function parseStoreData(cmd: CommandApdu): StoreDataCommand {
  const enc = cmd.p1 & 0x60;
  const str = cmd.p1 & 0x18;
  return {
    block: cmd.p2,
    last: (cmd.p1 & 0x80) !== 0,
    encryption: (Object.keys(ENCRYPTION_BITS) as StoreDataEncryption[]).find((k) => ENCRYPTION_BITS[k] === enc) ?? 'rfu',
    structure: (Object.keys(STRUCTURE_BITS) as StoreDataStructure[]).find((k) => STRUCTURE_BITS[k] === str) ?? 'rfu',
    responseExpected: (cmd.p1 & 0x01) !== 0,
    data: dataOf(cmd),
  };
}

// ---- PUT KEY header (§11.8.2.1-2; the data field is built by scp02-put-key.ts / scp03-put-key.ts) ----------

export function parsePutKeyHeader(cmd: CommandApdu): { kvnToReplace: number; more: boolean; keyId: number; multiple: boolean; newKvn: number } {
  const data = dataOf(cmd);
  if (data.length < 1) throw new CommandFormatError(0x6700, 'PUT KEY without data');
  return { kvnToReplace: cmd.p1 & 0x7f, more: (cmd.p1 & 0x80) !== 0, keyId: cmd.p2 & 0x7f, multiple: (cmd.p2 & 0x80) !== 0, newKvn: data[0] };
}
