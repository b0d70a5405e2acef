/**
 * Recovery: when a journaled request (journal.ts) did not reach its outcome, hands it to reconciliation
 * (reconcile.ts) and records what was decided — the service's state and note, the SE lock, the journal entry
 * gone — in one store write, then lets a repeat of the request's functionCallIdentifier answer the decision.
 * It runs at start-up for every entry left by the previous process, before the next request on an SE whose
 * card could not be read then, and at once when a card refuses a journaled request or answers something the
 * recorded state cannot explain.
 */
import type { Clock } from './clock.ts';
import { asTsmError } from './as-tsm-error.ts';
import { decide } from './decide.ts';
import type { JournalEntry } from './journal.ts';
import { FOUND_ON_CARD, readCardLocked, reconcile, type CardReader, type Verdict } from './reconcile.ts';
import type { TsmRecords } from './records.ts';
import type { Registry, SeLockRecord } from './registry.ts';
import type { SeAccess } from './se-access.ts';
import type { ServiceStates } from './service-states.ts';
import { TRANSIENT_STATES } from './service-state.ts';
import { TsmError } from './status.ts';

export class Recovery {
  /** Entries not owned by a running request: left by a previous process, or whose card could not be read. */
  private readonly stale = new Set<JournalEntry>();

  private readonly reader: CardReader;

  constructor(
    private readonly registry: Registry,
    access: SeAccess,
    /** The journal read and ended, the store written, interrupted identifiers settled. */
    private readonly records: TsmRecords,
    private readonly states: ServiceStates,
    private readonly clock: Clock,
  ) {
    this.reader = { registry, access, clock };
  }

  /** Reconciles every entry left by the previous process (in order); an unreadable card leaves its entry stale. */
  async startUp(entries: readonly JournalEntry[]): Promise<void> {
    for (const e of entries) {
      this.stale.add(e);
      await this.settle(e, 'restart');
    }
  }

  /** Before a request on `seId`: entries whose card could not be read earlier are reconciled first. */
  async beforeUse(seId: string): Promise<void> {
    for (const e of [...this.stale].filter((x) => x.seId === seId)) await this.settle(e, 'later');
  }

  /**
   * A journaled request failed. Nothing changing sent and no card answer involved: the entry simply ends.
   * Otherwise the card is read again and the object reconciled before anything else is decided about the SE;
   * the error returned says what the card showed.
   */
  async afterFailure(entry: JournalEntry, e: unknown): Promise<TsmError> {
    const err = asTsmError(e);
    if (entry.step === 'begin' && err.cardSw === undefined) {
      this.records.journal.end(entry);
      // Nothing that changes the card was sent: a running state shown already goes back to the state before.
      const svc = entry.serviceId ? this.registry.service(entry.seId, entry.serviceId) : undefined;
      if (svc && entry.from && svc.state !== entry.from && (TRANSIENT_STATES as readonly string[]).includes(svc.state)) {
        this.states.record(entry.seId, svc.id, entry.from, `${entry.fn} stopped before it changed the card (${err.message})`);
      }
      this.records.save();
      return err;
    }
    decide('reconciliation', `${entry.fn} on ${entry.seId}${entry.serviceId ? ` for ${entry.serviceId}` : ''} failed (${err.message}): reading the card again`);
    const v = await this.settle(entry, 'failure', err.cardSw);
    if (!v) return err;
    return new TsmError(err.status, err.reasonCode, `${err.message}; the card was read again: ${v.note}`, {
      ...(err.data ?? {}),
      ...(v.service ? { state: v.service.state } : {}),
    });
  }

  /** A card answered what the SE's recorded lock cannot explain (e.g. 6A81 at SELECT): reads its life cycle. */
  async recheckSe(seId: string): Promise<void> {
    let locked: boolean;
    try {
      locked = await readCardLocked(this.reader, seId);
    } catch (e) {
      decide('reconciliation', `${seId} could not be read again: ${asTsmError(e).message}`);
      return;
    }
    const held = this.registry.seLock(seId);
    if (locked && !held) this.recordLock(seId, foundLock(seId, this.clock.now()));
    else if (!locked && held) this.recordLock(seId, null);
  }

  private recordLock(seId: string, lock: SeLockRecord | null): void {
    this.registry.setSeLock(seId, lock ?? undefined);
    this.records.save();
    decide('reconciliation', `${seId}: the card is ${lock ? 'CARD_LOCKED' : 'SECURED'}; recorded ${lock ? 'locked' : 'unlocked'}`, { seId, locked: !!lock });
  }

  private async settle(entry: JournalEntry, why: 'restart' | 'later' | 'failure', refusedSw?: string): Promise<Verdict | undefined> {
    let v: Verdict;
    try {
      v = await reconcile(this.reader, entry, refusedSw);
    } catch (e) {
      const msg = asTsmError(e).message;
      this.stale.add(entry);
      if (asTsmError(e).reasonCode === '3.7') {
        // Another request holds the SE: it is not the card that is unreadable. The next request reconciles first.
        this.records.save();
        decide('reconciliation', `${entry.fn} on ${entry.seId}: the SE is busy; reconciled before the next request on it`);
        return undefined;
      }
      if (entry.serviceId) {
        const when = why === 'failure' ? 'after the failure' : 'at restart';
        const note =
          entry.fn === 'update'
            ? `interrupted while updating at the ${entry.step === 'begin' ? 'delete' : entry.step} step; the card could not be inspected ${when} (${msg}): it may hold part of it`
            : `${entry.fn} did not complete; the card could not be inspected ${when} (${msg}): it may hold part of it; the central TSM looks again before the next request on this SE`;
        this.states.record(entry.seId, entry.serviceId, 'failed', note);
      }
      this.records.save();
      decide('reconciliation', `${entry.fn} on ${entry.seId}: the card could not be read (${msg}); kept in the journal`);
      return undefined;
    }
    this.stale.delete(entry);
    this.records.journal.end(entry);
    if (v.service && entry.serviceId) {
      const svc = this.registry.service(entry.seId, entry.serviceId);
      if (v.service.resumeTo) svc.resumeTo = v.service.resumeTo;
      else if (v.service.state !== 'suspended') delete svc.resumeTo;
      this.states.record(entry.seId, entry.serviceId, v.service.state, v.note);
    }
    if (v.seLock !== undefined) this.registry.setSeLock(entry.seId, v.seLock ?? undefined);
    this.records.save();
    decide('reconciliation', `${entry.fn} on ${entry.seId}${entry.serviceId ? ` for ${entry.serviceId}` : ''}: ${v.outcome} (${v.note})`, {
      seId: entry.seId,
      ...(entry.serviceId ? { serviceId: entry.serviceId } : {}),
      outcome: v.outcome,
    });
    if (why !== 'failure' && entry.functionCallIdentifier && entry.serviceProvider) {
      this.records.settleCall(entry.serviceProvider, entry.functionCallIdentifier, v.answer);
    }
    return v;
  }
}

export function foundLock(seId: string, now: number): SeLockRecord {
  return { seId, lockedBy: FOUND_ON_CARD, lockedAt: new Date(now).toISOString(), foundOnCard: true };
}
