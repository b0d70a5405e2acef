/**
 * What a card holds, read the way a lab reads a real card: through its ISD with GlobalPlatform commands
 * (GPCS 2.3.1 §11.3 GET DATA, §11.4 GET STATUS). The order is the one real cards need: the registry and the
 * free memory inside one ISD session, then — SELECT ending that session — each security domain's key
 * versions in the clear, then the ISD selected again.
 */
import { ApduError, type CommandApdu, encodeCommand, parseResponse, type ResponseApdu } from './apdu.ts';
import { fromHex, toHex } from './bytes.ts';
import { getData, GetDataTag, getStatus, getStatusNext, type GetStatusSubsetName, selectByAid } from './commands.ts';
import { KeyError, parseKeyInformationTemplate } from './keys.ts';
import { cardLifeCycleName, shortLifeCycleName } from './life-cycle.ts';
import type { OpenedSecureChannel, Transmit } from './open-secure-channel.ts';
import { decodeExtendedCardResources, decodeGetStatusResponse, RegistryDataError, type RegistryEntry } from './registry-data.ts';
import { SecureChannelError } from './secure-channel.ts';
import { CardError, describeSw, SW } from './sw.ts';
import { GpError } from './errors.ts';

export interface CardViewEntry {
  /** Hex, upper case. */
  aid: string;
  /** 'sd' when privilege byte 1 has the Security Domain bit ('80'). */
  kind: 'sd' | 'app';
  /** 'INSTALLED', 'SELECTABLE', 'PERSONALIZED', 'LOCKED' (whatever the state before; lifeCycleByte keeps it). */
  lifeCycle: string;
  lifeCycleByte: number;
  /** Hex; '' when the card did not say ('CC' absent). */
  associatedSd: string;
  /** 'C4': the executable load file. */
  packageAid?: string;
  /** Three privilege bytes, hex. */
  privilegesHex: string;
  /** SDs only: the distinct KVNs of GET DATA 'E0', sorted; absent when the SD would not answer it. */
  keyVersions?: number[];
}

export interface CardView {
  /** ISD AID. */
  isd: string;
  /** Card life cycle: 'OP_READY', 'INITIALIZED', 'SECURED', 'CARD_LOCKED', 'TERMINATED'. */
  lifeCycle: string;
  lifeCycleByte: number;
  /** Supplementary security domains (not the ISD), registry order. */
  securityDomains: CardViewEntry[];
  applications: CardViewEntry[];
  packages: { aid: string; version?: string; associatedSd: string; modules: string[] }[];
  /** GET DATA 'FF21' (ETSI TS 102 226 extended card resources), when the card answers it. */
  freeNonVolatile?: number;
}

/** The card answered something the view cannot be built from; `command` names the exchange, `sw` its status. */
export class CardViewError extends GpError<'unusable-answer'> {
  constructor(
    readonly command: string,
    detail: string,
    sw?: number,
    options?: ErrorOptions,
  ) {
    super('unusable-answer', `${command}: ${detail}`, sw, options);
    this.name = 'CardViewError';
  }
}

/** Short life cycle names of the view: every locked state reads 'LOCKED', the rest as gp names them. */
export function entryLifeCycleName(state: number, kind: 'sd' | 'app'): string {
  return shortLifeCycleName(kind === 'sd' ? 'security-domain' : 'application', state);
}

/** Privilege byte 1, b8 (GPCS Table 11-7). */
const SECURITY_DOMAIN_BIT = 0x80;
/** Tag lists so that C4/CC (applications) and CE/CC (load files) come back even where they are optional. */
const APPLICATION_TAGS = [0x4f, 0x9f70, 0xc5, 0xc4, 0xcc];
const LOAD_FILE_TAGS = [0x4f, 0x9f70, 0xce, 0x84, 0xcc];
/** A card that keeps answering 6310 is not paging, it is looping. */
const MAX_PAGES = 64;

function swText(sw: number): string {
  const d = describeSw(sw);
  return `${d.hex} ${d.meaning}`;
}

/** gp's typed failures become CardViewError naming the command; anything else (a transport's error) passes. */
function asCardViewError(command: string, e: unknown): unknown {
  if (e instanceof CardViewError) return e;
  if (e instanceof CardError) return new CardViewError(command, e.message, e.sw, { cause: e });
  if (e instanceof SecureChannelError || e instanceof ApduError || e instanceof RegistryDataError || e instanceof KeyError) {
    return new CardViewError(command, e.message, undefined, { cause: e });
  }
  return e;
}

async function guarded<T>(command: string, act: () => Promise<T> | T): Promise<T> {
  try {
    return await act();
  } catch (e) {
    throw asCardViewError(command, e);
  }
}

function inClear(transmit: Transmit, command: CommandApdu, name: string): Promise<ResponseApdu> {
  return guarded(name, async () => parseResponse(await transmit(encodeCommand(command))));
}

async function selectIsd(transmit: Transmit, aid: Uint8Array, name: string): Promise<void> {
  const r = await inClear(transmit, selectByAid(aid), name);
  // '6283': CARD_LOCKED and the ISD holds Final Application — selected, with a warning.
  if (r.sw !== SW.OK && r.sw !== SW.CARD_LOCKED) throw new CardViewError(name, `answered ${swText(r.sw)}`, r.sw);
}

/** Every entry of one GET STATUS subset, following '6310' with GET STATUS [next occurrence]. */
async function getStatusAll(session: OpenedSecureChannel, subset: GetStatusSubsetName, tagList?: number[]): Promise<RegistryEntry[]> {
  let command = getStatus({ subset, tagList });
  const name = `GET STATUS '${toHex(Uint8Array.of(command.p1))}'`;
  const entries: RegistryEntry[] = [];
  for (let page = 1; ; page++) {
    const r = await guarded(name, () => session.transmitSecure(command));
    // '6A88' on the first page: nothing of this kind on the card.
    if (r.sw === SW.REFERENCED_DATA_NOT_FOUND && page === 1 && subset !== 'isd') return entries;
    if (r.sw !== SW.OK && r.sw !== SW.MORE_DATA) throw new CardViewError(name, `answered ${swText(r.sw)}${page > 1 ? ` on page ${page}` : ''}`, r.sw);
    entries.push(...(await guarded(name, () => decodeGetStatusResponse(r.data, { format: 'tlv', subset }))));
    if (r.sw === SW.OK) return entries;
    if (page === MAX_PAGES) throw new CardViewError(name, `still '6310' after ${MAX_PAGES} pages`, r.sw);
    command = getStatusNext(command);
  }
}

function checkedAid(aid: Uint8Array, name: string): string {
  if (aid.length < 5 || aid.length > 16) throw new CardViewError(name, `AID ${toHex(aid)} of ${aid.length} bytes (5..16)`);
  return toHex(aid);
}

function lifeCycleByte(e: RegistryEntry, aid: string, name: string): number {
  if (e.lifeCycle < 0) throw new CardViewError(name, `${aid} without a one-byte life cycle state ('9F70')`);
  return e.lifeCycle;
}

/** Three privilege bytes; a one-byte 'C5' (GP 2.1.1 cards) is byte 1 with the others zero. */
function privilegeBytes(e: RegistryEntry, aid: string, name: string): Uint8Array {
  const p = e.privileges;
  if (p && p.length === 3) return p;
  if (p && p.length === 1) return Uint8Array.of(p[0], 0, 0);
  throw new CardViewError(name, `${aid} without privileges ('C5' of 3 bytes)${p ? `: ${p.length} bytes` : ''}`);
}

function entryOf(e: RegistryEntry, name: string): CardViewEntry {
  const aid = checkedAid(e.aid, name);
  const privileges = privilegeBytes(e, aid, name);
  const kind = privileges[0] & SECURITY_DOMAIN_BIT ? 'sd' : 'app';
  const state = lifeCycleByte(e, aid, name);
  const out: CardViewEntry = {
    aid,
    kind,
    lifeCycle: entryLifeCycleName(state, kind),
    lifeCycleByte: state,
    associatedSd: e.sdAid ? toHex(e.sdAid) : '',
    privilegesHex: toHex(privileges),
  };
  if (e.loadFileAid) out.packageAid = toHex(e.loadFileAid);
  return out;
}

function packageOf(e: RegistryEntry, name: string): CardView['packages'][number] {
  const out: CardView['packages'][number] = {
    aid: checkedAid(e.aid, name),
    associatedSd: e.sdAid ? toHex(e.sdAid) : '',
    modules: (e.modules ?? []).map((m) => toHex(m)),
  };
  if (e.version) out.version = toHex(e.version);
  return out;
}

/** GET DATA 'FF21' in the session: free non-volatile memory, or undefined when the card does not answer it. */
async function freeNonVolatileOf(session: OpenedSecureChannel): Promise<number | undefined> {
  const name = "GET DATA 'FF21'";
  const r = await guarded(name, () => session.transmitSecure(getData(GetDataTag.EXTENDED_CARD_RESOURCES)));
  if (r.sw !== SW.OK) return undefined;
  return (await guarded(name, () => decodeExtendedCardResources(r.data))).freeNonVolatileMemory;
}

/** SELECT of the SD and GET DATA '00E0' in the clear; undefined when either is refused. */
async function keyVersionsOf(transmit: Transmit, aid: string): Promise<number[] | undefined> {
  const selected = await inClear(transmit, selectByAid(fromHex(aid)), `SELECT of ${aid}`);
  if (selected.sw !== SW.OK && selected.sw !== SW.CARD_LOCKED) return undefined;
  const name = `GET DATA '00E0' of ${aid}`;
  const r = await inClear(transmit, getData(GetDataTag.KEY_INFORMATION), name);
  if (r.sw !== SW.OK) return undefined;
  const keys = await guarded(name, () => parseKeyInformationTemplate(r.data));
  return [...new Set(keys.map((k) => k.kvn))].sort((a, b) => a - b);
}

/**
 * Reads the card through its ISD: SELECT, `isd.open` (the issuer's secure channel, e.g. openIssuerChannel),
 * GET STATUS '80' / '40' / '10' (P2 '02', paged on '6310') and GET DATA 'FF21' in that session; then each
 * SD's key versions (SELECT + GET DATA '00E0' in the clear; a refusal leaves keyVersions out); last, SELECT of
 * the ISD again. Throws CardViewError naming the command for a refusal or a malformed answer.
 */
export async function readCardView(
  transmit: Transmit,
  isd: { aid: Uint8Array; open: (transmit: Transmit) => Promise<OpenedSecureChannel> },
): Promise<CardView> {
  await selectIsd(transmit, isd.aid, 'SELECT of the ISD');
  const session = await guarded('opening the secure channel with the ISD', () => isd.open(transmit));
  const isdEntries = await getStatusAll(session, 'isd');
  if (isdEntries.length !== 1) throw new CardViewError("GET STATUS '80'", `${isdEntries.length} entries for the ISD`);
  const entries = (await getStatusAll(session, 'applications', APPLICATION_TAGS)).map((e) => entryOf(e, "GET STATUS '40'"));
  const packages = (await getStatusAll(session, 'load-files-and-modules', LOAD_FILE_TAGS)).map((e) => packageOf(e, "GET STATUS '10'"));
  const freeNonVolatile = await freeNonVolatileOf(session);

  for (const sd of entries.filter((e) => e.kind === 'sd')) {
    const kvns = await keyVersionsOf(transmit, sd.aid);
    if (kvns) sd.keyVersions = kvns;
  }
  await selectIsd(transmit, isd.aid, 'SELECT of the ISD (after the security domains)');

  const card = isdEntries[0];
  const cardState = lifeCycleByte(card, toHex(card.aid), "GET STATUS '80'");
  const view: CardView = {
    isd: checkedAid(card.aid, "GET STATUS '80'"),
    lifeCycle: cardLifeCycleName(cardState),
    lifeCycleByte: cardState,
    securityDomains: entries.filter((e) => e.kind === 'sd'),
    applications: entries.filter((e) => e.kind === 'app'),
    packages,
  };
  if (freeNonVolatile !== undefined) view.freeNonVolatile = freeNonVolatile;
  return view;
}
