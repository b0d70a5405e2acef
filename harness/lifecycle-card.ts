/**
 * What the harness itself does to and reads from a card in the service-lifecycle features: looks up registry entries
 * in what the card shows, fills the card's memory with the issuer's content (to make eligibility fail), and proves
 * which key set an SD holds. Issuer actions go through the ISD with the issuer's keys (the fleet's for a simulated
 * card, the profile's for a real one) on a channel traced from the `harness` lane, so the trace shows them apart
 * from what the central TSM sent.
 */
import type { CardChannel } from '../drivers/index.ts';
import { openChannel, secureTransmit } from '../drivers/index.ts';
import {
  deleteCardContent,
  encodeInstallParameters,
  fromHex,
  installForInstall,
  openIssuerSession,
  proveKeySet,
  setStatus,
  SW,
  type CommandApdu,
  type IssuerKeys,
  type KeyProof,
  type KeySet,
} from '../gp/index.ts';
import type { KeySetSpec } from '../profiles/index.ts';
import type { CardEndpoint } from '../gp/index.ts';
import { keySetOf, scpOptionOf } from '../profiles/index.ts';

/** AID of the issuer's filler application ("FILLER"): content the central TSM knows nothing about. */
export const FILLER_AID = 'F046494C4C4552';

/** The card issuer as the harness acts for it: its ISD and the keys that open it. */
export interface Issuer {
  aid: string;
  keys: IssuerKeys;
}

/** The issuer of a simulated card, from the fleet's ISD key set. */
export function issuerOfSpec(isd: { aid: string; keys: KeySetSpec }): Issuer {
  return { aid: isd.aid, keys: { ...keySetOf(isd.keys), i: scpOptionOf(isd.keys), keyScheme: 'none' } };
}

/** A channel from the harness straight onto the simulated card (not through the central TSM or an MNO). */
export function harnessChannel(card: CardEndpoint): Promise<CardChannel> {
  return openChannel(`inproc:${card.seId}`, { endpoint: card, trace: { from: 'harness', corr: { seId: card.seId } } });
}

/** A registry entry (SD or application) as any view of the card gives it. */
interface Entry {
  aid: string;
  kind: string;
  lifeCycle: string;
  associatedSd: string;
}

/** The registry entry (SD or application) of an AID on the card, if any. */
export function entryOf<E extends Entry>(card: { securityDomains: E[]; applications: E[] }, aid: string): E | undefined {
  const a = aid.toUpperCase();
  return [...card.securityDomains, ...card.applications].find((e) => e.aid.toUpperCase() === a);
}

/** One line per registry entry, for failure messages. */
export function describeContent(card: { securityDomains: Entry[]; applications: Entry[] }): string {
  return [...card.securityDomains, ...card.applications]
    .map((e) => `${e.aid} (${e.kind}, ${e.lifeCycle}, under ${e.associatedSd})`)
    .join('; ');
}

export class HarnessCardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HarnessCardError';
  }
}

/** Sends one command as the issuer from the ISD; `what` names it when the card refuses. */
async function asIssuer(channel: CardChannel, issuer: Issuer, command: CommandApdu, what: string): Promise<void> {
  const session = await openIssuerSession(secureTransmit(channel), fromHex(issuer.aid), issuer.keys);
  const r = await session.transmitSecure(command);
  if (r.sw !== SW.OK) throw new HarnessCardError(`${what} answered ${r.sw.toString(16)}`);
}

/**
 * Makes the card keep only `leave` bytes of free non-volatile memory: the issuer installs a filler application
 * (from a package already on the card) whose Reserved Memory takes the rest. `freeNow` is the card's free memory
 * before; at least the instance footprint must be taken, so `freeNow - leave` must exceed it.
 */
export async function fillMemory(
  channel: CardChannel,
  issuer: Issuer,
  donor: { packageAid: string; moduleAid: string },
  freeNow: number,
  leave: number,
): Promise<void> {
  const take = freeNow - leave;
  // Below the footprint of an instance the reservation would not be what is charged.
  if (take < 512) throw new HarnessCardError(`cannot leave ${leave} of ${freeNow} free bytes: too little to take`);
  const install = installForInstall({
    loadFileAid: fromHex(donor.packageAid),
    moduleAid: fromHex(donor.moduleAid),
    aid: fromHex(FILLER_AID),
    privileges: fromHex('00'),
    parameters: encodeInstallParameters({ nonVolatileReserved: take }),
    makeSelectable: true,
  });
  await asIssuer(channel, issuer, install, "the issuer's filler INSTALL");
}

/** Removes the issuer's filler application, giving its memory back. */
export function removeFiller(channel: CardChannel, issuer: Issuer): Promise<void> {
  return asIssuer(channel, issuer, deleteCardContent(fromHex(FILLER_AID)), 'DELETE of the filler');
}

/**
 * The issuer installs an application on its own (from the ISD, out of a package already on the card), with the
 * AID the central TSM means to give a service's instance: content the central TSM did not put there.
 */
export function installAsIssuer(channel: CardChannel, issuer: Issuer, app: { packageAid: string; moduleAid: string; aid: string }): Promise<void> {
  const install = installForInstall({ loadFileAid: fromHex(app.packageAid), moduleAid: fromHex(app.moduleAid), aid: fromHex(app.aid), privileges: fromHex('00'), makeSelectable: true });
  return asIssuer(channel, issuer, install, `the issuer's INSTALL of ${app.aid}`);
}

/** The issuer locks an application on its own (SET STATUS from the ISD), behind the central TSM's back. */
export function lockAsIssuer(channel: CardChannel, issuer: Issuer, appAid: string): Promise<void> {
  return asIssuer(channel, issuer, setStatus('application', 0x83, fromHex(appAid)), `the issuer's SET STATUS LOCKED of ${appAid}`);
}

/**
 * Whether an SD holds exactly `keys`: its key versions (GET DATA 'E0', as the view read them) are the one set's, and
 * INITIALIZE UPDATE with that version answers a card cryptogram the keys reproduce. Nothing is authenticated, so
 * a wrong guess costs the card nothing. Undefined when it does; else why not.
 */
export async function keysHeldBy(channel: CardChannel, sd: { aid: string; keyVersions?: number[] }, keys: KeySet): Promise<string | undefined> {
  if (sd.keyVersions && (sd.keyVersions.length !== 1 || sd.keyVersions[0] !== keys.kvn)) {
    return `${sd.aid} holds key versions ${sd.keyVersions.join(', ') || 'none'}, not just ${keys.kvn}`;
  }
  const proof = await proveKeySet((c) => channel.transmit(c), fromHex(sd.aid), keys);
  return proof === 'match' ? undefined : `${sd.aid}: INITIALIZE UPDATE with key version ${keys.kvn}: ${proof}`;
}

/** Whether a key set opens an SD (KVN 0: whatever set the card has), proved without EXTERNAL AUTHENTICATE. */
export function keyProof(channel: CardChannel, sdAid: string, keys: KeySetSpec | KeySet): Promise<KeyProof> {
  const set = typeof keys.enc === 'string' ? keySetOf(keys as KeySetSpec) : (keys as KeySet);
  return proveKeySet((c) => channel.transmit(c), fromHex(sdAid), set, { kvn: 0 });
}
