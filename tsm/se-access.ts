/**
 * How the central TSM reaches an SE: the operator network that routes to it (through the MnoGateway), a card
 * channel, its own secure session to the central SD, and one piece of work per SE at a time — an SP
 * conversation (held in the ConversationStore while open) or a central-TSM function (held for its session):
 * others get 3.7. A locked SE is refused (3.8, nothing sent) unless the work may run on a locked card.
 */
import type { CardChannel } from '../drivers/index.ts';
import { SW } from '../gp/index.ts';
import { CentralSession, overNetwork } from './central-sd.ts';
import type { ChannelFactory } from './channels.ts';
import type { Clock } from './clock.ts';
import type { ConversationStore } from './conversation.ts';
import { decide } from './decide.ts';
import type { MnoGateway, OperatorNetwork } from './mno-gateway.ts';
import type { Registry } from './registry.ts';
import { TsmError } from './status.ts';

export interface SeAccessOptions {
  registry: Registry;
  gateway: MnoGateway;
  channels: ChannelFactory;
  /** Open SP conversations: an SE with one is busy for everyone else. */
  conversations: ConversationStore;
  clock: Clock;
  /** Deadline per exchange with a card, ms. */
  exchangeTimeoutMs?: number;
}

export class SeAccess {
  /** SEs the central TSM is working on itself (activation, locking, reconciliation). */
  private readonly busy = new Set<string>();

  constructor(private readonly opts: SeAccessOptions) {}

  get exchangeTimeoutMs(): number | undefined {
    return this.opts.exchangeTimeoutMs;
  }

  /** Picks the network that reaches the SE; a network that is down answers 5.1 and nothing is sent. */
  route(seId: string): OperatorNetwork {
    const mno = this.opts.registry.mnoOf(seId);
    const network = this.opts.gateway.network(mno);
    if (!network) throw TsmError.failed('5.1', `no network is configured for ${mno}`);
    if (!network.up) {
      decide('routing', `${seId} is reached through ${mno}, which is down`);
      throw TsmError.failed('5.1', `SE ${seId} is inaccessible: ${mno} is down`);
    }
    decide('routing', `${seId} through ${mno} over ${network.bearer}`, { mno, bearer: network.bearer });
    return network;
  }

  /** The network an open conversation was routed through, if it is still up (5.1, nothing sent, if not). */
  stillUp(seId: string, mno: string): OperatorNetwork {
    const network = this.opts.gateway.network(mno);
    if (!network?.up) {
      decide('routing', `${seId} is reached through ${mno}, which is down`);
      throw TsmError.failed('5.1', `SE ${seId} is inaccessible: ${mno} is down; nothing was sent`);
    }
    return network;
  }

  /** A card channel to the SE (5.1 when the SE cannot be reached). */
  async open(seId: string): Promise<CardChannel> {
    try {
      return await this.opts.channels(seId);
    } catch (e) {
      throw TsmError.failed('5.1', `SE ${seId} is inaccessible: ${(e as Error).message}`);
    }
  }

  /** Whether any work holds the SE (open conversations past their time to live are expired first). */
  isBusy(seId: string): boolean {
    this.opts.conversations.expireStale(this.opts.clock.now());
    return this.busy.has(seId) || this.opts.conversations.openOn(seId) !== undefined;
  }

  /** A locked SE allows no conversation and no service management until it is unlocked (3.8, nothing sent). */
  refuseIfLocked(seId: string): void {
    const lock = this.opts.registry.seLock(seId);
    if (!lock) return;
    decide('se-lock', `refused: ${seId} is locked`);
    throw TsmError.failed('3.8', `SE ${seId} is locked (card life cycle CARD_LOCKED since ${lock.lockedAt}); nothing was sent until it is unlocked`);
  }

  /**
   * Runs `fn` in the central TSM's own session to the central SD of an SE, holding the SE (3.7 for others).
   * A locked SE is refused (3.8) unless `whileLocked` (unlocking it, reading its card).
   */
  async withCentralSession(
    seId: string,
    network: OperatorNetwork,
    fn: (session: CentralSession, link: CardChannel) => Promise<void>,
    opts: { whileLocked?: boolean } = {},
  ): Promise<void> {
    if (!opts.whileLocked) this.refuseIfLocked(seId);
    if (this.isBusy(seId)) {
      throw TsmError.failed('3.7', `SE ${seId} is busy with a conversation or another operation; try again when it has ended`);
    }
    this.busy.add(seId);
    let channel: CardChannel | undefined;
    try {
      channel = await this.open(seId);
      const link = overNetwork(network, channel, this.opts.exchangeTimeoutMs);
      const central = this.opts.registry.centralSdKeys(seId);
      decide('central-session', `central TSM opens its own secure channel to ${central.aid} on ${seId}`);
      const session = await CentralSession.open(link, central);
      if (session.selectSw === SW.CARD_LOCKED && !opts.whileLocked) {
        // The card is locked though the central TSM has no lock recorded: the caller reconciles (recovery.ts).
        decide('se-lock', `${seId} answered 6283: CARD_LOCKED on the card, not in the central TSM's records`);
        throw TsmError.cardRefused('3.8', `SE ${seId} is CARD_LOCKED on the card though the central TSM had not recorded a lock; nothing was sent`, SW.CARD_LOCKED);
      }
      await fn(session, link);
    } finally {
      this.busy.delete(seId);
      await channel?.close().catch(() => undefined);
    }
  }
}
