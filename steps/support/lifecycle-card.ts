/**
 * What the harness itself does to and reads from a simulated card in the service-lifecycle features: looks up
 * registry entries, fills the card's memory with the issuer's content (to make eligibility fail), and tries key
 * sets against a security domain. Harness actions go through a driver traced from the `harness` lane, so the
 * trace shows them apart from what the central TSM sent.
 */
import type { CardChannel } from '../../drivers/index.ts';
import { openChannel } from '../../drivers/index.ts';
import {
  deleteCardContent,
  encodeCommand,
  encodeInstallParameters,
  fromHex,
  installForInstall,
  keyCheckValue,
  openSecureChannel,
  parseResponse,
  SecureChannelError,
  SecurityLevel,
  selectByAid,
  setStatus,
  toHex,
  type KeySet,
  type OpenedSecureChannel,
} from '../../gp/index.ts';
import type { KeySetSpec } from '../../profiles/fleet-types.ts';
import type { CardEndpoint, CardInspection, EntryInfo } from '../../simulator/index.ts';

/** AID of the issuer's filler application ("FILLER"): content the central TSM knows nothing about. */
export const FILLER_AID = 'F046494C4C4552';

export function keySetOf(spec: KeySetSpec): KeySet {
  return { kvn: spec.kvn, scp: spec.scp, enc: fromHex(spec.enc), mac: fromHex(spec.mac), dek: fromHex(spec.dek) };
}

/** A channel from the harness straight onto the simulated card (not through the central TSM or an MNO). */
export function harnessChannel(card: CardEndpoint): Promise<CardChannel> {
  return openChannel(`inproc:${card.seId}`, { endpoint: card, trace: { from: 'harness', corr: { seId: card.seId } } });
}

/** The registry entry (SD or application) of an AID on the card, if any. */
export function entryOf(card: CardInspection, aid: string): EntryInfo | undefined {
  const a = aid.toUpperCase();
  return [...card.securityDomains, ...card.applications].find((e) => e.aid.toUpperCase() === a);
}

/** One line per registry entry, for failure messages. */
export function describeContent(card: CardInspection): string {
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

async function openIssuerSession(channel: CardChannel, isd: { aid: string; keys: KeySetSpec }): Promise<OpenedSecureChannel> {
  const aid = fromHex(isd.aid);
  const sel = parseResponse(await channel.transmit(encodeCommand(selectByAid(aid))));
  if (sel.sw !== 0x9000) throw new HarnessCardError(`SELECT of the issuer SD ${isd.aid} answered ${sel.sw.toString(16)}`);
  return openSecureChannel((c) => channel.transmit(c), { keys: keySetOf(isd.keys), level: SecurityLevel.CMAC, sdAid: aid });
}

/**
 * Makes the card keep only `leave` bytes of free non-volatile memory: the issuer installs a filler application
 * (from a package already on the card) whose Reserved Memory takes the rest. `freeNow` is the card's free memory
 * before; at least the instance footprint must be taken, so `freeNow - leave` must exceed it.
 */
export async function fillMemory(
  channel: CardChannel,
  isd: { aid: string; keys: KeySetSpec },
  donor: { packageAid: string; moduleAid: string },
  freeNow: number,
  leave: number,
): Promise<void> {
  const take = freeNow - leave;
  // Below the footprint of an instance the reservation would not be what is charged.
  if (take < 512) throw new HarnessCardError(`cannot leave ${leave} of ${freeNow} free bytes: too little to take`);
  const session = await openIssuerSession(channel, isd);
  const r = await session.transmitSecure(
    installForInstall({
      loadFileAid: fromHex(donor.packageAid),
      moduleAid: fromHex(donor.moduleAid),
      aid: fromHex(FILLER_AID),
      privileges: fromHex('00'),
      parameters: encodeInstallParameters({ nonVolatileReserved: take }),
      makeSelectable: true,
    }),
  );
  if (r.sw !== 0x9000) throw new HarnessCardError(`the issuer's filler INSTALL answered ${r.sw.toString(16)}`);
}

/** Removes the issuer's filler application, giving its memory back. */
export async function removeFiller(channel: CardChannel, isd: { aid: string; keys: KeySetSpec }): Promise<void> {
  const session = await openIssuerSession(channel, isd);
  const r = await session.transmitSecure(deleteCardContent(fromHex(FILLER_AID)));
  if (r.sw !== 0x9000) throw new HarnessCardError(`DELETE of the filler answered ${r.sw.toString(16)}`);
}

/**
 * The issuer installs an application on its own (from the ISD, out of a package already on the card), with the
 * AID the central TSM means to give a service's instance: content the central TSM did not put there.
 */
export async function installAsIssuer(
  channel: CardChannel,
  isd: { aid: string; keys: KeySetSpec },
  app: { packageAid: string; moduleAid: string; aid: string },
): Promise<void> {
  const session = await openIssuerSession(channel, isd);
  const r = await session.transmitSecure(
    installForInstall({ loadFileAid: fromHex(app.packageAid), moduleAid: fromHex(app.moduleAid), aid: fromHex(app.aid), privileges: fromHex('00'), makeSelectable: true }),
  );
  if (r.sw !== 0x9000) throw new HarnessCardError(`the issuer's INSTALL of ${app.aid} answered ${r.sw.toString(16)}`);
}

/** The issuer locks an application on its own (SET STATUS from the ISD), behind the central TSM's back. */
export async function lockAsIssuer(channel: CardChannel, isd: { aid: string; keys: KeySetSpec }, appAid: string): Promise<void> {
  const session = await openIssuerSession(channel, isd);
  const r = await session.transmitSecure(setStatus('application', 0x83, fromHex(appAid)));
  if (r.sw !== 0x9000) throw new HarnessCardError(`the issuer's SET STATUS LOCKED of ${appAid} answered ${r.sw.toString(16)}`);
}

export type OpenAttempt = 'opened' | 'card-cryptogram-mismatch' | `refused ${string}`;

/**
 * Tries to open a secure channel to an SD with a key set (KVN 0: whatever set the card has). The card cryptogram
 * is checked before EXTERNAL AUTHENTICATE, so a wrong key set costs the card no authentication failure.
 */
export async function tryOpen(channel: CardChannel, sdAid: string, keys: KeySetSpec): Promise<OpenAttempt> {
  const aid = fromHex(sdAid);
  const sel = parseResponse(await channel.transmit(encodeCommand(selectByAid(aid))));
  if (sel.sw !== 0x9000) return `refused SELECT ${toHex(Uint8Array.of(sel.sw >> 8, sel.sw & 0xff))}`;
  try {
    await openSecureChannel((c) => channel.transmit(c), { keys: keySetOf(keys), kvn: 0, level: SecurityLevel.CMAC, sdAid: aid });
    return 'opened';
  } catch (e) {
    if (e instanceof SecureChannelError) return e.kind === 'card-cryptogram-mismatch' ? e.kind : `refused ${e.kind}: ${e.message}`;
    throw e;
  }
}

/** Why an SD does not hold exactly `keys` (one key set, same KVN, same check values), or undefined if it does. */
export function keyMismatch(sd: EntryInfo, keys: KeySet): string | undefined {
  if (sd.keySets.length !== 1) return `${sd.aid} holds ${sd.keySets.length} key sets (versions ${sd.keySets.map((k) => k.kvn).join(', ') || 'none'})`;
  const held = sd.keySets[0];
  if (held.kvn !== keys.kvn) return `${sd.aid} holds key version ${held.kvn}, not ${keys.kvn}`;
  const alg = keys.scp === '03' ? 'aes' : 'des';
  const want = [keys.enc, keys.mac, keys.dek].map((k) => toHex(keyCheckValue(k, alg)));
  const got = [held.kcv[1], held.kcv[2], held.kcv[3]];
  if (want.some((w, i) => w !== got[i])) return `${sd.aid} key check values ${got.join('/')} differ from ${want.join('/')}`;
  return undefined;
}
