/**
 * Locking and unlocking a whole SE (GPCS 2.3.1 §5.1.1.4, §9.6.3, §11.10): the central TSM sets the card life
 * cycle to CARD_LOCKED and back to SECURED with SET STATUS through its own secure channel to the central SD.
 * The central SD needs the Card Lock privilege for both, and the Final Application privilege to be selectable
 * at all while the card is locked (only the Final Application is, §5.1.1.4), or the TSM could never unlock.
 *
 * Who may ask:
 * - lock: an SP with a service present on that SE (in a state other than `available` or `deleted`): the SP
 *   whose customer reports the device stolen must be able to stop it at once, without waiting for anyone;
 *   an SP with nothing on the SE has no standing to disable other SPs' services on it (1.2).
 * - unlock: only the SP that asked for the lock (1.2 for any other): a lock set against fraud must not be
 *   lifted by a party that did not set it. A lock the central TSM found on the card without a record of who
 *   asked (reconcile.ts, `foundOnCard`) may be lifted by any SP that could have locked the SE.
 * While the SE is locked the central TSM allows no conversation and no service management on it (3.8, nothing
 * sent); GetSEData still answers and says `locked`.
 */
import type { CardChannel } from '../drivers/index.ts';
import type { OperatorNetwork } from './mno-gateway.ts';
import type { RequestContext, SeLockRequest, SeLockResponse, SeUnlockRequest } from './api-types.ts';
import { setCardLock } from './card-commands.ts';
import type { CentralSession } from './central-sd.ts';
import type { Registry, SeLockRecord } from './registry.ts';
import type { Journal, JournalEntry } from './journal.ts';
import type { Clock } from './clock.ts';
import { decide } from './decide.ts';
import type { TsmRecords } from './records.ts';
import type { Recovery } from './recovery.ts';
import type { SeAccess } from './se-access.ts';
import { TsmError } from './status.ts';

/** Service states in which a service is on the card, giving its SP standing to lock the SE. */
const ABSENT_STATES: readonly string[] = ['available', 'deleted'];

export class SeLocks {
  private readonly journal: Journal;

  constructor(
    private readonly registry: Registry,
    private readonly access: SeAccess,
    /** The journal, and the store the lock is saved to. */
    private readonly records: TsmRecords,
    private readonly recovery: Recovery,
    private readonly clock: Clock,
  ) {
    this.journal = records.journal;
  }

  async lockSe(ctx: RequestContext, req: SeLockRequest): Promise<SeLockResponse> {
    const seId = this.knownSe(req.seId);
    await this.recovery.beforeUse(seId);
    const sp = ctx.serviceProvider;
    const present = this.present(seId, sp);
    if (!present.length) {
      decide('authorization', `refused: ${sp} asked to lock ${seId}, where it has no service`);
      throw TsmError.failed('1.2', `${sp} may not lock SE ${seId}: it has no service on it`);
    }
    decide('authorization', `${sp} has ${present.map((s) => s.id).join(', ')} on ${seId}: it may lock the SE`);
    const held = this.registry.seLock(seId);
    if (held) throw TsmError.failed('3.8', `SE ${seId} is already locked (since ${held.lockedAt}); nothing was sent`);
    const network = this.access.route(seId);
    const entry = this.begin(ctx, { fn: 'lock-se', seId, ...(req.reason ? { reason: req.reason } : {}) });
    try {
      await this.session(seId, network, async (session) => {
        decide('se-lock', `locking ${seId} (card life cycle CARD_LOCKED) for ${sp}${req.reason ? `: ${req.reason}` : ''}`);
        this.journal.step(entry, 'set-status');
        await session.send(setCardLock(true), `SET STATUS CARD_LOCKED of SE ${seId}`);
      });
    } catch (e) {
      throw await this.recovery.afterFailure(entry, e);
    }
    const lock: SeLockRecord = { seId, lockedBy: sp, lockedAt: new Date(this.clock.now()).toISOString(), ...(req.reason ? { reason: req.reason } : {}) };
    this.journal.end(entry);
    this.registry.setSeLock(seId, lock);
    this.records.save();
    return { status: 'Executed-Success', seId, locked: true, cardLifeCycle: 'CARD_LOCKED', lockedBy: lock.lockedBy, lockedAt: lock.lockedAt };
  }

  async unlockSe(ctx: RequestContext, req: SeUnlockRequest): Promise<SeLockResponse> {
    const seId = this.knownSe(req.seId);
    await this.recovery.beforeUse(seId);
    const sp = ctx.serviceProvider;
    const held = this.registry.seLock(seId);
    if (!held) throw TsmError.failed('3.8', `SE ${seId} is not locked; nothing was sent`);
    if (held.foundOnCard) {
      // Nobody's lock on record: any SP with standing to lock the SE may lift it (never a dead end).
      if (!this.present(seId, sp).length) {
        decide('authorization', `refused: ${sp} asked to unlock ${seId}, where it has no service`);
        throw TsmError.failed('1.2', `${sp} may not unlock SE ${seId}: it has no service on it`);
      }
    } else if (held.lockedBy !== sp) {
      decide('authorization', `refused: ${sp} asked to unlock ${seId}, locked for ${held.lockedBy}`);
      throw TsmError.failed('1.2', `${sp} may not unlock SE ${seId}: ${held.lockedBy} asked for the lock, and only it may lift it`);
    }
    const network = this.access.route(seId);
    const entry = this.begin(ctx, { fn: 'unlock-se', seId, lock: held });
    try {
      await this.session(
        seId,
        network,
        async (session) => {
          decide('se-lock', `unlocking ${seId} (card life cycle back to SECURED) for ${sp}`);
          this.journal.step(entry, 'set-status');
          await session.send(setCardLock(false), `SET STATUS SECURED of SE ${seId}`);
        },
        { whileLocked: true },
      );
    } catch (e) {
      throw await this.recovery.afterFailure(entry, e);
    }
    this.journal.end(entry);
    this.registry.setSeLock(seId, undefined);
    this.records.save();
    return { status: 'Executed-Success', seId, locked: false, cardLifeCycle: 'SECURED' };
  }

  /** The central session on the SE, once what an earlier request left unreconciled there is settled. */
  private async session(
    seId: string,
    network: OperatorNetwork,
    fn: (session: CentralSession, link: CardChannel) => Promise<void>,
    opts: { whileLocked?: boolean } = {},
  ): Promise<void> {
    await this.recovery.beforeUse(seId);
    await this.access.withCentralSession(seId, network, fn, opts);
  }

  private present(seId: string, sp: string) {
    return this.registry.services(seId).filter((s) => s.serviceProvider === sp && !ABSENT_STATES.includes(s.state));
  }

  private begin(ctx: RequestContext, what: Pick<JournalEntry, 'fn' | 'seId' | 'reason' | 'lock'>): JournalEntry {
    return this.journal.begin({
      ...what,
      serviceProvider: ctx.serviceProvider,
      ...(ctx.functionCallIdentifier !== undefined ? { functionCallIdentifier: ctx.functionCallIdentifier } : {}),
    });
  }

  private knownSe(seId: string): string {
    if (!this.registry.hasSe(seId)) throw TsmError.failed('3.9', `unknown SE "${seId}"`);
    return seId;
  }
}
