/**
 * Conversations: the central TSM's promise to carry one SP's scripts to one SE for a limited time. The card
 * channel opened at the start stays open (and the card is not reset) until the conversation ends or expires,
 * so the SP's secure channel survives between its scripts.
 */
import type { CardChannel } from '../drivers/index.ts';
import type { BearerLimits } from './mno-gateway.ts';
import type { Bearer } from '../profiles/index.ts';
import type { RequestedOperation, ScriptFormat } from './api-types.ts';
import type { ExecutionStatus } from './status.ts';
import { decide } from './decide.ts';

export type ConversationState = 'open' | 'ended' | 'expired';

export interface Conversation {
  readonly id: string;
  readonly serviceProvider: string;
  readonly seId: string;
  readonly mno: string;
  readonly bearer: Bearer;
  readonly serviceId: string;
  readonly targetAid: string;
  readonly requestedOperation: RequestedOperation;
  readonly scriptFormat: ScriptFormat;
  readonly limits: BearerLimits;
  readonly createdAt: number;
  readonly expiresAt: number;
  state: ConversationState;
  endedAt?: number;
  spStatus?: ExecutionStatus;
  scriptsExecuted: number;
  apdusExecuted: number;
  /** Open while the conversation is open; closed and dropped when it ends or expires. */
  channel?: CardChannel;
  /** Serializes the scripts of one conversation. */
  tail: Promise<unknown>;
}

/** Open conversations by id, at most one per SE. */
export class ConversationStore {
  private readonly byId = new Map<string, Conversation>();
  private readonly openBySe = new Map<string, string>();
  private counter = 0;

  nextId(): string {
    return `conv-${Date.now().toString(36)}-${(++this.counter).toString(36)}`;
  }

  add(c: Conversation): void {
    this.byId.set(c.id, c);
    this.openBySe.set(c.seId, c.id);
  }

  get(id: string): Conversation | undefined {
    return this.byId.get(id);
  }

  openOn(seId: string): Conversation | undefined {
    const id = this.openBySe.get(seId);
    return id ? this.byId.get(id) : undefined;
  }

  all(): Conversation[] {
    return [...this.byId.values()];
  }

  /** Marks a conversation ended or expired and releases its SE; returns the channel to close. */
  finish(c: Conversation, state: 'ended' | 'expired', at: number): CardChannel | undefined {
    c.state = state;
    c.endedAt = at;
    if (this.openBySe.get(c.seId) === c.id) this.openBySe.delete(c.seId);
    const ch = c.channel;
    c.channel = undefined;
    return ch;
  }

  /** A conversation whose time to live has passed: its SE is released and its channel closed. */
  expire(c: Conversation, at: number): void {
    const ch = this.finish(c, 'expired', at);
    decide('conversation', `${c.id} expired (time to live passed)`, { conversationId: c.id });
    void ch?.close().catch(() => undefined);
  }

  /** Expires every open conversation past its time to live (conversations expire lazily, when next looked at). */
  expireStale(now: number): void {
    for (const c of this.all()) if (c.state === 'open' && now > c.expiresAt) this.expire(c, now);
  }
}
