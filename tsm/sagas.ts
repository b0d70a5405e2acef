/**
 * Card-side steps of the central TSM's service management (pre-personalization, update, delete), each one a
 * command or two under a CentralSession. The state bookkeeping around them lives in service-manager.ts.
 */
import { randomBytes } from 'node:crypto';
import type { CardChannel } from '../drivers/index.ts';
import { decodeExtendedCardResources, encodeCommand, parseResponse, RegistryDataError, toHex } from '../gp/index.ts';
import type { KeySetSpec } from '../profiles/index.ts';
import { deleteObject, extradite, getCardResources, installInstance, installSecurityDomain, select, setOwnPersonalized } from './card-commands.ts';
import { CentralSession, swHex } from './central-sd.ts';
import type { ServiceRecord } from './registry.ts';
import { TsmError } from './status.ts';

export interface CardResources {
  installedApplications: number;
  freeNonVolatile: number;
  freeVolatile: number;
}

/** GET DATA 'FF21' (extended card resources, ETSI TS 102 226 §8.2.1.7.2): what the card still has room for. */
export async function cardResources(session: CentralSession): Promise<CardResources> {
  const r = await session.send(getCardResources(), "GET DATA 'FF21' (extended card resources)");
  try {
    // gp's decoder reads what cards send: the 'FF21' wrapper or not, lengths in any BER form.
    const res = decodeExtendedCardResources(r.data);
    return { installedApplications: res.installedApplications, freeNonVolatile: res.freeNonVolatileMemory, freeVolatile: res.freeVolatileMemory };
  } catch (e) {
    // The card's answer, not the TSM's failure: it carries the status word the card sent with it.
    if (e instanceof RegistryDataError) throw TsmError.cardRefused('4.2', `the card's extended card resources are malformed: ${e.message}`, r.sw);
    throw e;
  }
}

/** Technical eligibility: refuses (4.8) when the card has less free non-volatile memory than needed. */
export async function checkMemory(session: CentralSession, needed: number, what: string): Promise<CardResources> {
  const res = await cardResources(session);
  if (res.freeNonVolatile < needed) {
    throw TsmError.failed('4.8', `${what} needs ${needed} bytes of non-volatile memory; the card has ${res.freeNonVolatile} free`);
  }
  return res;
}

/** Deletes an application with its data; one that is already gone (6A88) counts as deleted. */
export async function deleteApplication(session: CentralSession, aid: string): Promise<'deleted' | 'absent'> {
  const r = await session.send(deleteObject(aid), `DELETE of ${aid}`, [0x9000, 0x6a88]);
  return r.sw === 0x6a88 ? 'absent' : 'deleted';
}

/** Installs and makes selectable the service's instance under the central SD, then extradites it to the SP SD. */
export async function installService(
  session: CentralSession,
  svc: ServiceRecord,
  c9?: string,
  /** Told before each of the two commands is sent (the update saga records its step). */
  onStep?: (step: 'install' | 'extradite') => void,
): Promise<void> {
  if (!svc.packageAid || !svc.moduleAid || !svc.instanceAid) {
    throw TsmError.failed('3.8', `service ${svc.id} does not name its package, module and instance AIDs`);
  }
  onStep?.('install');
  await session.send(
    installInstance({ packageAid: svc.packageAid, moduleAid: svc.moduleAid, instanceAid: svc.instanceAid, c9 }),
    `INSTALL [for install and make selectable] of ${svc.instanceAid} from ${svc.packageAid}`,
  );
  onStep?.('extradite');
  await session.send(extradite(svc.sdAid, svc.instanceAid), `INSTALL [for extradition] of ${svc.instanceAid} to ${svc.sdAid}`);
}

/** Fresh random temporary keys for an SP SD (AES-128, the central TSM's KVN). */
export function temporaryKeySet(kvn: number): KeySetSpec {
  const k = () => toHex(randomBytes(16));
  return { kvn, scp: '03', i: '70', enc: k(), mac: k(), dek: k() };
}

/**
 * Creates the SP SD under the central SD (it starts with a copy of the central key set), replaces that key set
 * with the temporary keys and makes the SD PERSONALIZED, so instances can be extradited to it.
 */
export async function createSpSd(link: CardChannel, central: CentralSession, centralSd: { aid: string; keys: KeySetSpec }, sdAid: string, temporary: KeySetSpec): Promise<void> {
  await central.send(
    installSecurityDomain(sdAid),
    `INSTALL [for install and make selectable] of the SP security domain ${sdAid}`,
  );
  const sd = await CentralSession.open(link, { aid: sdAid, keys: centralSd.keys });
  await sd.putKeySet(centralSd.keys.kvn, temporary, `PUT KEY of the temporary keys into ${sdAid}`);
  await sd.send(setOwnPersonalized(sdAid), `SET STATUS PERSONALIZED of ${sdAid}`);
}

/** Whether an SD or application is on the card: SELECT finds it (9000, or a 62xx warning when locked) or not (6A82). */
export async function isOnCard(link: CardChannel, aid: string): Promise<boolean> {
  const r = parseResponse(await link.transmit(encodeCommand(select(aid))));
  if (r.sw === 0x9000 || r.sw >> 8 === 0x62) return true;
  if (r.sw === 0x6a82) return false;
  throw TsmError.cardRefused('4.2', `SELECT of ${aid} answered SW ${swHex(r.sw)}`, r.sw);
}
