/**
 * What the central TSM keeps across a restart, saved together in one store write: service states and SE locks
 * (the registry), the functionCallIdentifier ledger (idempotency.ts) and the journal of card-changing requests
 * (journal.ts). The peers that change any of them call save() in the same step as the change.
 */
import type { Answer } from './api-types.ts';
import type { Clock } from './clock.ts';
import { decide } from './decide.ts';
import { CallLedger, type CallRecord } from './idempotency.ts';
import { Journal } from './journal.ts';
import { redactForSp } from './redact.ts';
import type { Registry } from './registry.ts';
import type { TsmError } from './status.ts';
import { STORE_FORMAT, type StoredState, type TsmStore } from './store.ts';

export class TsmRecords {
  /** One answer per (SP, functionCallIdentifier). */
  readonly ledger: CallLedger;
  /** Card-changing requests under way. */
  readonly journal: Journal;

  constructor(
    private readonly store: TsmStore,
    private readonly registry: Registry,
    clock: Clock,
  ) {
    this.ledger = new CallLedger({
      onChange: () => this.saveQuietly(),
      // Temporary keys in an answer are not written to disk: a repeat after a restart shows their check values.
      sanitize: (answer) => redactForSp(answer),
      now: () => clock.now(),
    });
    this.journal = new Journal(() => this.save());
  }

  load(): StoredState | undefined {
    return this.store.load();
  }

  save(): void {
    const seLocks = this.registry.allSeLocks();
    const operations = this.ledger.records();
    const journal = this.journal.all();
    this.store.save({
      format: STORE_FORMAT,
      services: this.registry.allServices(),
      ...(seLocks.length ? { seLocks } : {}),
      ...(operations.length ? { operations } : {}),
      ...(journal.length ? { journal } : {}),
    });
  }

  /** save() for the ledger, whose changes land after an answer: a failing store is traced, not thrown. */
  saveQuietly(): void {
    try {
      this.save();
    } catch (e) {
      decide('store', `the functionCallIdentifier ledger could not be saved: ${(e as Error).message}`);
    }
  }

  /** An interrupted request's identifier answers what reconciliation decided (the ledger's stored outcome). */
  settleCall(sp: string, fci: string, outcome: { answer: Answer } | { error: TsmError }): void {
    const rec = this.ledger.records().find((r) => r.serviceProvider === sp && r.functionCallIdentifier === fci);
    if (!rec || rec.state !== 'interrupted') return;
    const settled: CallRecord =
      'answer' in outcome
        ? { ...rec, state: 'done', answer: redactForSp(outcome.answer) }
        : { ...rec, state: 'done', error: { status: outcome.error.status, reasonCode: outcome.error.reasonCode, message: outcome.error.message, ...(outcome.error.data ? { data: outcome.error.data } : {}) } };
    this.ledger.restore([settled]);
    this.saveQuietly();
  }

  close(): void {
    this.store.close();
  }
}
