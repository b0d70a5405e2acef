/**
 * Reconciliation: the central TSM reads the card's truth through its own central SD session and brings a
 * journaled request (journal.ts) that did not reach its recorded outcome — the TSM stopped in between, or the
 * card answered what the recorded state cannot explain — to a state the card agrees with. What it reads: the
 * card life cycle (SELECT of the central SD, the card's Final Application: 9000 SECURED, 6283 CARD_LOCKED) and,
 * for a service, its instance (GET STATUS '40': life cycle, LOCKED bit, associated SD; SELECT when the central
 * SD cannot see it). Per function, the instance's place and LOCKED bit (or the card life cycle) say whether the
 * card did what was asked: then the request is finished (with the one command that completes it, where one is
 * missing: an extradition, an idempotent contactless activation); if not, it is rolled back (a pre-personalization
 * that created the SP SD has it deleted: its temporary keys were only in the lost answer); what fits neither is
 * marked `failed` with a note. docs/sp-api.md ("Journal and reconciliation") lists every rule as a table.
 *
 * Whatever the function, the card life cycle read is recorded too: a CARD_LOCKED card the TSM thought unlocked
 * is recorded locked (`foundOnCard`: any SP with a service there may unlock it), a SECURED card is recorded
 * unlocked. A card that cannot be read leaves the entry in the journal (tried again before the next request
 * on that SE) and a service `failed` with a note.
 */
import type { CardChannel } from '../drivers/index.ts';
import { decodeGetStatusResponse, encodeCommand, fromHex, getStatus, isLocked, parseResponse, SW, toHex } from '../gp/index.ts';
import type { Clock } from './clock.ts';
import type { SeAccess } from './se-access.ts';
import type { Answer } from './api-types.ts';
import { deleteObject, extradite, select, setContactlessAvailability } from './card-commands.ts';
import { CentralSession } from './central-sd.ts';
import type { JournalEntry } from './journal.ts';
import type { Registry, SeLockRecord, ServiceRecord } from './registry.ts';
import { cardResources, isOnCard } from './sagas.ts';
import type { ServiceState } from './service-state.ts';
import { TsmError } from './status.ts';

/** Where the instance is: under the central SD, under another SD (named), or not on the card. */
export type Placement = { at: 'central'; lifeCycle?: number } | { at: 'other'; sdAid?: string; lifeCycle?: number } | { at: 'absent' };

/** `lockedBy` of a lock the central TSM found on the card without a record of who asked for it. */
export const FOUND_ON_CARD = 'unknown (found CARD_LOCKED on the card)';

/** What reconciliation decided about one journaled request. */
export interface Verdict {
  outcome: 'finished' | 'rolled-back' | 'marked';
  /** The service's new state (service functions). */
  service?: { state: ServiceState; note: string; resumeTo?: ServiceState };
  /** The SE lock to record: a record, `null` for none, absent to leave as is. */
  seLock?: SeLockRecord | null;
  /** One line for the trace, the note and the replayed answer. */
  note: string;
  /** What a repeat of the request's functionCallIdentifier answers. */
  answer: { answer: Answer } | { error: TsmError };
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
      return sd === session.sdAid.toUpperCase() ? { at: 'central', lifeCycle: entry.lifeCycle } : { at: 'other', lifeCycle: entry.lifeCycle, ...(sd ? { sdAid: sd } : {}) };
    }
  }
  // The central SD sees only its own part of the registry; SELECT finds the instance anywhere.
  return (await isOnCard(link, instanceAid)) ? { at: 'other' } : { at: 'absent' };
}

/** What reconciliation reads the card with: the SE's records, the way to its card, the time. */
export interface CardReader {
  readonly registry: Registry;
  /** Its central sessions are asked for `whileLocked`: reconciliation must read a CARD_LOCKED card too. */
  readonly access: SeAccess;
  readonly clock: Clock;
}

/**
 * Reads the card of `entry` and decides (and does, at the card, what finishing or rolling back needs).
 * `refusedSw`: the card refused the entry's recorded step with this status word, so that step did not run.
 */
export async function reconcile(reader: CardReader, entry: JournalEntry, refusedSw?: string): Promise<Verdict> {
  const svc = entry.serviceId ? reader.registry.service(entry.seId, entry.serviceId) : undefined;
  const central = reader.registry.centralSdKeys(entry.seId);
  let decided: Omit<Verdict, 'seLock'> | undefined;
  let cardLocked = false;
  await reader.access.withCentralSession(
    entry.seId,
    reader.access.route(entry.seId),
    async (session, link) => {
      if (svc) decided = await decideService(entry, svc, session, link, central, refusedSw);
      cardLocked = await cardIsLocked(link, central.aid);
    },
    { whileLocked: true },
  );
  const held = reader.registry.seLock(entry.seId);
  let seLock: SeLockRecord | null | undefined;
  if (cardLocked && !held) {
    const mine = entry.fn === 'lock-se' || (entry.fn === 'unlock-se' && entry.lock);
    seLock =
      entry.fn === 'unlock-se' && entry.lock
        ? entry.lock
        : mine
          ? { seId: entry.seId, lockedBy: entry.serviceProvider, lockedAt: new Date(reader.clock.now()).toISOString(), ...(entry.reason ? { reason: entry.reason } : {}) }
          : { seId: entry.seId, lockedBy: FOUND_ON_CARD, lockedAt: new Date(reader.clock.now()).toISOString(), foundOnCard: true };
  } else if (!cardLocked && held) {
    seLock = null;
  }
  if (!svc) decided = decideSeLock(entry, cardLocked, held ?? (seLock || undefined));
  return { ...decided!, ...(seLock !== undefined ? { seLock } : {}) };
}

/**
 * The card life cycle as the central SD's SELECT shows it (it ends any session, so it goes last): the central
 * SD is the Final Application, selectable on a CARD_LOCKED card with the warning 6283.
 */
export async function cardIsLocked(link: CardChannel, centralSdAid: string): Promise<boolean> {
  return parseResponse(await link.transmit(encodeCommand(select(centralSdAid)))).sw === SW.CARD_LOCKED;
}

/** Reads only the card life cycle of an SE (after an answer its recorded lock cannot explain). */
export async function readCardLocked(reader: CardReader, seId: string): Promise<boolean> {
  let locked = false;
  const { access, registry } = reader;
  await access.withCentralSession(seId, access.route(seId), async (_s, link) => void (locked = await cardIsLocked(link, registry.centralSdKeys(seId).aid)), { whileLocked: true });
  return locked;
}

const interrupted = (e: JournalEntry) => (e.step === 'begin' ? `${e.fn} did not complete and had sent nothing that changes the card` : `${e.fn} did not complete (last step sent: ${e.step})`);

function failedAnswer(note: string, state?: string): { error: TsmError } {
  return { error: TsmError.failed('5.4', `${note}; the request is not executed again`, state ? { state } : undefined) };
}

async function decideService(
  entry: JournalEntry,
  svc: ServiceRecord,
  session: CentralSession,
  link: CardChannel,
  central: ReturnType<Registry['centralSdKeys']>,
  refusedSw?: string,
): Promise<Omit<Verdict, 'seLock'>> {
  const from = entry.from ?? (svc.state as ServiceState);
  const what = interrupted(entry);
  const base = { serviceId: svc.id, seId: entry.seId, instanceAid: svc.instanceAid ?? '' };
  const finished = (state: ServiceState, note: string, extra: Record<string, unknown> = {}, resumeTo?: ServiceState): Omit<Verdict, 'seLock'> => ({
    outcome: 'finished',
    service: { state, note, ...(resumeTo ? { resumeTo } : {}) },
    note,
    answer: { answer: { status: 'Executed-Success', message: note, ...base, state, ...extra } as Answer },
  });
  const rolledBack = (state: ServiceState, note: string): Omit<Verdict, 'seLock'> => ({ outcome: 'rolled-back', service: { state, note }, note, answer: failedAnswer(note, state) });
  const marked = (state: ServiceState, note: string): Omit<Verdict, 'seLock'> => ({ outcome: 'marked', service: { state, note }, note, answer: failedAnswer(note, state) });

  if (!svc.instanceAid) return marked('failed', `${what}; the service names no instance the central TSM could look for`);
  const instance = svc.instanceAid;

  if (entry.fn === 'prepersonalize' && entry.createdSd) {
    // The temporary keys were only ever in the lost answer: an SD with them is of no use to the SP.
    const r = await session.send(deleteObject(svc.sdAid, true), `DELETE of ${svc.sdAid} and its content`, [0x9000, 0x6a88]);
    const gone = r.sw === 0x6a88 ? 'was not on the card' : 'was deleted with what it held';
    return rolledBack(from, `${what}; the SP security domain ${svc.sdAid} it created with temporary keys the SP never received ${gone}: pre-personalize again`);
  }

  const where = await locateInstance(session, link, instance);
  const locked = where.at !== 'absent' && where.lifeCycle !== undefined && isLocked(where.lifeCycle);
  const underSpSd = where.at === 'other' && (where.sdAid === undefined || where.sdAid === svc.sdAid.toUpperCase());
  const elsewhere = where.at === 'other' && !underSpSd ? ` under ${where.sdAid}` : where.at === 'central' ? ' under the central security domain' : '';
  const reopen = () => CentralSession.open(link, central);
  const free = async () => ({ freeNonVolatile: (await cardResources(await reopen())).freeNonVolatile });

  if (refusedSw !== undefined && entry.step === 'set-status' && (entry.fn === 'suspend' || entry.fn === 'activate') && where.at !== 'absent') {
    // The card refused the one command: it did not run. A lock the card shows anyway is someone else's (the
    // issuer's): the central TSM could not lift it, so it does not call the service suspended.
    const shows = locked ? `; the card shows ${instance} LOCKED by another party, which the central TSM cannot lift` : '';
    return rolledBack(from, `${entry.fn} was refused by the card (SW ${refusedSw})${shows}; the service stays ${from}`);
  }

  switch (entry.fn) {
    case 'suspend':
      if (where.at === 'absent') return marked('failed', `${what}; the instance ${instance} is not on the card: update or delete the service`);
      return locked ? finished('suspended', `${what}; the card had locked ${instance}: suspended`, {}, from) : rolledBack(from, `${what}; the card had not locked ${instance}: nothing changed`);
    case 'resume':
      if (where.at === 'absent') return marked('failed', `${what}; the instance ${instance} is not on the card: update or delete the service`);
      return locked
        ? rolledBack('suspended', `${what}; ${instance} is still LOCKED on the card: still suspended`)
        : finished(entry.to ?? 'installed', `${what}; the card had unlocked ${instance}: resumed`);
    case 'activate':
      if (where.at === 'absent') return marked('failed', `${what}; the instance ${instance} is not on the card: update or delete the service`);
      if (locked) return marked('suspended', `${what}; ${instance} is LOCKED on the card: the service is suspended, resume it first`);
      if (entry.step === 'begin') return rolledBack(from, `${what}; nothing changed`);
      await session.send(setContactlessAvailability(instance, true), `activating ${instance} on the contactless interface (SET STATUS '01')`);
      return finished('activated', `${what}; SET STATUS (contactless activation) sent again at reconciliation: activated`);
    case 'delete':
      if (where.at === 'absent') return { ...finished('deleted', `${what}; the instance is no longer on the card: deleted`), answer: deleteAnswer(entry, 'deleted', `${what}; the instance is no longer on the card: deleted`) };
      return { ...rolledBack(from, `${what}; the card still holds ${instance}: nothing changed`) };
    case 'prepersonalize':
      // Nothing that changes the card was sent: whatever is there was there before (the request would have refused it).
      if (entry.step === 'begin') return rolledBack(from, `${what}; nothing changed`);
      if (where.at === 'absent') return rolledBack(from, `${what}; the instance is not on the card: nothing changed, pre-personalize again`);
      if (where.at === 'central') {
        await (await reopen()).send(extradite(svc.sdAid, instance), `INSTALL [for extradition] of ${instance} to ${svc.sdAid}`);
        return finished('installed', `${what}; finished at reconciliation: ${instance} extradited to ${svc.sdAid}`, { sdAid: svc.sdAid, ...(await free()) });
      }
      if (underSpSd) return finished('installed', `${what}; the card had completed it: installed`, { sdAid: svc.sdAid, ...(await free()) });
      return marked('failed', `${what}; the instance is on the card${elsewhere}: delete the service to repair it`);
    case 'update': {
      const prefix = `interrupted while updating at the ${entry.step === 'begin' ? 'delete' : entry.step} step`;
      if (where.at === 'absent') return marked('failed', `${prefix}: the instance was deleted and is not on the card; update again to install it`);
      if (where.at === 'central') {
        await (await reopen()).send(extradite(svc.sdAid, instance), `INSTALL [for extradition] of ${instance} to ${svc.sdAid}`);
        return finished('installed', `${prefix}; resumed at restart: ${instance} extradited to ${svc.sdAid}`, await free());
      }
      if (entry.step === 'begin' || entry.step === 'delete') return rolledBack(from, `${prefix}: the card had not deleted the instance; nothing changed`);
      if (entry.step === 'extradite' && underSpSd) return finished('installed', `${prefix}: the card had completed the update`, await free());
      return marked('failed', `${prefix}: the instance is on the card${elsewhere || ' under another security domain'}`);
    }
    default:
      return marked('failed', `${what}; not a service function`);
  }
}

function deleteAnswer(entry: JournalEntry, state: ServiceState, note: string): { answer: Answer } {
  return {
    answer: { status: 'Executed-Success', message: note, seId: entry.seId, results: [{ serviceId: entry.serviceId!, status: 'Executed-Success', state }] } as Answer,
  };
}

function decideSeLock(entry: JournalEntry, cardLocked: boolean, lock: SeLockRecord | undefined): Omit<Verdict, 'seLock'> {
  const what = interrupted(entry);
  const lockedAnswer = (note: string): { answer: Answer } => ({
    answer: { status: 'Executed-Success', message: note, seId: entry.seId, locked: true, cardLifeCycle: 'CARD_LOCKED', ...(lock ? { lockedBy: lock.lockedBy, lockedAt: lock.lockedAt } : {}) } as Answer,
  });
  const unlockedAnswer = (note: string): { answer: Answer } => ({ answer: { status: 'Executed-Success', message: note, seId: entry.seId, locked: false, cardLifeCycle: 'SECURED' } as Answer });
  if (entry.fn === 'lock-se') {
    if (cardLocked) {
      const note = `${what}; the card is CARD_LOCKED: locked`;
      return { outcome: 'finished', note, answer: lockedAnswer(note) };
    }
    const note = `${what}; the card is SECURED: not locked, nothing changed`;
    return { outcome: 'rolled-back', note, answer: failedAnswer(note) };
  }
  if (!cardLocked) {
    const note = `${what}; the card is SECURED: unlocked`;
    return { outcome: 'finished', note, answer: unlockedAnswer(note) };
  }
  const note = `${what}; the card is still CARD_LOCKED: still locked`;
  return { outcome: 'rolled-back', note, answer: failedAnswer(note) };
}
