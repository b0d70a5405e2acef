/**
 * The central TSM's journal of card-changing requests: every function that changes a card (pre-personalize,
 * activate, suspend, resume, update, delete, lock SE, unlock SE) writes its intent here — and so to the store —
 * before its first card command, the step it is about to send before each changing command, and removes the
 * entry in the same store write as its outcome (the new service state or SE lock). An entry still present at
 * start-up, or when a card answers what the entry cannot explain, is handed to reconciliation (reconcile.ts),
 * which reads the card and finishes, rolls back or marks the object.
 */
import type { SeLockRecord } from './registry.ts';
import type { ServiceState } from './service-state.ts';

export const JOURNALED_FUNCTIONS = ['prepersonalize', 'activate', 'suspend', 'resume', 'update', 'delete', 'lock-se', 'unlock-se'] as const;
export type JournaledFunction = (typeof JOURNALED_FUNCTIONS)[number];

/**
 * The card step about to be sent. `begin`: nothing that changes the card has been sent yet (reads only).
 * Update: delete, install, extradite. Pre-personalize: create-sd, install, extradite. The others: set-status
 * (suspend, resume, activate, lock SE, unlock SE) or delete.
 */
export type JournalStep = 'begin' | 'create-sd' | 'delete' | 'install' | 'extradite' | 'set-status';

export interface JournalEntry {
  /** Unique within the store. */
  id: string;
  fn: JournaledFunction;
  seId: string;
  /** The service (every function but lock SE and unlock SE). */
  serviceId?: string;
  step: JournalStep;
  /** The service's state before the request. */
  from?: ServiceState;
  /** Resume: the state it returns to. */
  to?: ServiceState;
  /** Pre-personalize: this request created the SP SD (with temporary keys the SP may never have received). */
  createdSd?: boolean;
  /** Unlock SE: the lock being lifted (restored if the card is still locked). */
  lock?: SeLockRecord;
  /** Lock SE: the reason the SP gave. */
  reason?: string;
  serviceProvider: string;
  /** The request's identifier: a repeat of it answers what reconciliation decided. */
  functionCallIdentifier?: string;
  /** ms since the epoch. */
  at: number;
}

/** What stores written before the journal existed kept for the update saga. */
export interface LegacySagaRecord {
  saga: 'update';
  seId: string;
  serviceId: string;
  step: 'delete' | 'install' | 'extradite';
  from: ServiceState;
  at: number;
}

export class Journal {
  private readonly entries = new Map<string, JournalEntry>();
  private seq = 0;

  /** `persist` writes the whole TSM state (which includes `all()`) to the store. */
  constructor(private readonly persist: () => void) {}

  /** Records an intent and persists it before anything reaches the card. */
  begin(entry: Omit<JournalEntry, 'id' | 'step' | 'at'>): JournalEntry {
    const at = Date.now();
    const e: JournalEntry = { id: `${at.toString(36)}-${process.pid}-${++this.seq}`, step: 'begin', ...entry, at };
    this.entries.set(e.id, e);
    this.persist();
    return e;
  }

  /** Records (and persists) the changing step about to be sent, with any fact it adds (e.g. `createdSd`). */
  step(entry: JournalEntry, step: JournalStep, facts: Partial<Pick<JournalEntry, 'createdSd'>> = {}): void {
    Object.assign(entry, facts, { step, at: Date.now() });
    this.persist();
  }

  /** Forgets an entry; the caller's next persist (its outcome) writes both together. */
  end(entry: JournalEntry): void {
    this.entries.delete(entry.id);
  }

  /** Entries still open, for the store, or for one SE. */
  all(seId?: string): JournalEntry[] {
    return [...this.entries.values()].filter((e) => seId === undefined || e.seId === seId);
  }

  /** Loads the stored journal (and update sagas of older stores, as update entries). */
  restore(entries: readonly JournalEntry[], legacy: readonly LegacySagaRecord[] = []): JournalEntry[] {
    for (const e of entries) this.entries.set(e.id, { ...e });
    for (const [i, s] of legacy.entries()) {
      const id = `saga-${i}`;
      this.entries.set(id, { id, fn: 'update', seId: s.seId, serviceId: s.serviceId, step: s.step, from: s.from, serviceProvider: '', at: s.at });
    }
    return this.all();
  }
}
