/**
 * Finishing or undoing an update saga (patent FIG 10) that a stop of the central TSM interrupted. The saga
 * writes its record to the store before each card step (DELETE, INSTALL [for install], INSTALL [for
 * extradition]); at start-up the central TSM looks at the card through its central SD session (GET STATUS of
 * the instance, SELECT when the central SD cannot see it) and decides from the record and what the card holds:
 *
 * | recorded step | instance on the card        | decision                                                     |
 * |---------------|-----------------------------|--------------------------------------------------------------|
 * | delete        | still under another SD      | the DELETE never ran: back to the state before, nothing done |
 * | any           | absent                      | deleted and not installed again: `failed` (update repairs)   |
 * | install, ext. | under the central SD        | resumed: INSTALL [for extradition] to the SP SD, `installed` |
 * | extradite     | under another SD (the SP's) | the card completed it: `installed`                           |
 * | install       | under another SD            | unexpected: `failed`, the note says where it is              |
 */
import { decodeGetStatusResponse, fromHex, getStatus, toHex } from '../gp/index.ts';
import type { CardChannel } from '../drivers/channel.ts';
import { extradite } from './card-commands.ts';
import { CentralSession } from './central-sd.ts';
import type { ServiceRecord } from './registry.ts';
import { isOnCard } from './sagas.ts';
import type { ServiceState } from './service-state.ts';

/** An update saga under way, as the store keeps it. */
export interface SagaRecord {
  saga: 'update';
  seId: string;
  serviceId: string;
  /** The card step about to be sent (written before it is sent). */
  step: 'delete' | 'install' | 'extradite';
  /** The service's state before the saga. */
  from: ServiceState;
  /** ms since the epoch. */
  at: number;
}

/** Where the instance is: under the central SD, under another SD (named), or not on the card. */
export type Placement = { at: 'central' } | { at: 'other'; sdAid?: string } | { at: 'absent' };

export interface Recovered {
  state: ServiceState;
  note?: string;
}

/** Looks for `instanceAid` from the central SD session (which SELECT ends, so it goes last). */
export async function locateInstance(session: CentralSession, link: CardChannel, instanceAid: string): Promise<Placement> {
  const r = await session.send(
    getStatus({ subset: 'applications', aid: fromHex(instanceAid), tagList: [0x4f, 0x9f70, 0xcc] }),
    `GET STATUS of ${instanceAid}`,
    [0x9000, 0x6310, 0x6a88],
  );
  if (r.sw !== 0x6a88) {
    const entry = decodeGetStatusResponse(r.data, { format: 'tlv', subset: 'applications' }).find((e) => toHex(e.aid) === instanceAid.toUpperCase());
    if (entry) {
      const sd = entry.sdAid ? toHex(entry.sdAid) : undefined;
      return sd === session.sdAid.toUpperCase() ? { at: 'central' } : { at: 'other', ...(sd ? { sdAid: sd } : {}) };
    }
  }
  // The central SD sees only its own part of the registry; SELECT finds the instance anywhere.
  return (await isOnCard(link, instanceAid)) ? { at: 'other' } : { at: 'absent' };
}

/** Finishes or undoes the interrupted update of `svc` (see the table above) under the central SD's session. */
export async function recoverUpdate(session: CentralSession, link: CardChannel, svc: ServiceRecord, saga: SagaRecord): Promise<Recovered> {
  const instance = svc.instanceAid!;
  const where = await locateInstance(session, link, instance);
  const prefix = `interrupted while updating at the ${saga.step} step`;
  if (where.at === 'absent') {
    return { state: 'failed', note: `${prefix}: the instance was deleted and is not on the card; update again to install it` };
  }
  if (where.at === 'central') {
    await session.send(extradite(svc.sdAid, instance), `INSTALL [for extradition] of ${instance} to ${svc.sdAid}`);
    return { state: 'installed', note: `${prefix}; resumed at restart: ${instance} extradited to ${svc.sdAid}` };
  }
  if (saga.step === 'delete') return { state: saga.from, note: `${prefix}: the card had not deleted the instance; nothing changed` };
  if (saga.step === 'extradite' && (where.sdAid === undefined || where.sdAid === svc.sdAid.toUpperCase())) {
    return { state: 'installed', note: `${prefix}: the card had completed the update` };
  }
  return { state: 'failed', note: `${prefix}: the instance is on the card under ${where.sdAid ?? 'another security domain'}` };
}
