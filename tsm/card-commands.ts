/**
 * The card-content commands the central TSM sends under its own keys (GPCS 2.3.1 §11), named for what they do
 * in the TSM's terms. Every one is built by gp's command builders; this file only fixes the TSM's choices (the
 * platform's SD package, privileges, which life cycle bits) and takes AIDs as the registry holds them (hex).
 */
import {
  ApplicationLifeCycle,
  CardLifeCycle,
  deleteCardContent,
  fromHex,
  getData,
  GetDataTag,
  installForExtradition,
  installForInstall,
  scp03PutKey,
  SecurityDomainLifeCycle,
  selectByAid,
  setContactlessActivation,
  setStatus,
  type CommandApdu,
} from '../gp/index.ts';

/** The GlobalPlatform security domain load file and module (the platform's SD package), by their GP AIDs. */
export const SD_PACKAGE_AID = 'A0000001515350';
export const SD_MODULE_AID = 'A000000151535041';

export function select(aidHex: string): CommandApdu {
  return selectByAid(fromHex(aidHex));
}

/** INSTALL [for install and make selectable] of a service's instance (no privileges) from its pre-loaded package. */
export function installInstance(p: { packageAid: string; moduleAid: string; instanceAid: string; c9?: string }): CommandApdu {
  return installForInstall({
    loadFileAid: fromHex(p.packageAid),
    moduleAid: fromHex(p.moduleAid),
    aid: fromHex(p.instanceAid),
    privileges: [],
    parameters: { applicationSpecific: fromHex(p.c9 ?? '') },
  });
}

/** INSTALL [for install and make selectable] of an SP SD from the platform's SD package (Security Domain privilege). */
export function installSecurityDomain(sdAid: string): CommandApdu {
  return installForInstall({
    loadFileAid: fromHex(SD_PACKAGE_AID),
    moduleAid: fromHex(SD_MODULE_AID),
    aid: fromHex(sdAid),
    privileges: ['security-domain'],
  });
}

/** INSTALL [for extradition]: moves `appAid` under the SD `sdAid`. */
export function extradite(sdAid: string, appAid: string): CommandApdu {
  return installForExtradition({ sdAid: fromHex(sdAid), aid: fromHex(appAid) });
}

/** DELETE of an application, SD or load file; `related` also deletes what hangs under it. */
export function deleteObject(aidHex: string, related = false): CommandApdu {
  return deleteCardContent(fromHex(aidHex), { related });
}

/** GET DATA 'FF21': extended card resources (free memory, eligibility). */
export function getCardResources(): CommandApdu {
  return getData(GetDataTag.EXTENDED_CARD_RESOURCES);
}

/** SET STATUS of an application or SD: LOCKED (true) or back to the state it had (false). */
export function setApplicationLock(aidHex: string, lock: boolean): CommandApdu {
  return setStatus('application', lock ? ApplicationLifeCycle.LOCKED_BIT : 0x00, fromHex(aidHex));
}

/** SET STATUS of the selected SD itself to PERSONALIZED (§11.10.2.2). */
export function setOwnPersonalized(aidHex: string): CommandApdu {
  return setStatus('application', SecurityDomainLifeCycle.PERSONALIZED, fromHex(aidHex));
}

/** SET STATUS (Amendment C §3.11.4) switching one application's contactless availability. */
export function setContactlessAvailability(aidHex: string, activated: boolean): CommandApdu {
  return setContactlessActivation([fromHex(aidHex)], activated);
}

/** SET STATUS of the card (§11.10, P1 '80'): CARD_LOCKED (true) or back to SECURED (false). Needs Card Lock. */
export function setCardLock(lock: boolean): CommandApdu {
  return setStatus('isd', lock ? CardLifeCycle.CARD_LOCKED : CardLifeCycle.SECURED);
}

/**
 * PUT KEY of a whole AES key set replacing `oldKvn` (0 adds one), each key encrypted with the SCP03 static DEK
 * and carrying its clear length, as the TSM has always sent it.
 */
export function putAesKeySet(dek: Uint8Array, oldKvn: number, newKvn: number, keys: { enc: Uint8Array; mac: Uint8Array; dek: Uint8Array }): CommandApdu {
  return scp03PutKey(dek, oldKvn, newKvn, keys, { lengthPrefix: true });
}
