/**
 * A card that went away under a scenario (pulled from its reader, its channel closed, no answer in time) leaves the
 * product's behaviour undecided: the step that then fails says so as INCONCLUSIVE, not FAIL. The central TSM turns
 * such driver errors into SP API answers, so the step only sees "the request failed"; the channels it was given
 * remember what really happened.
 */
import type { CardChannel } from '../drivers/index.ts';
import { InconclusiveError, inconclusiveFromDriver } from '../drivers/index.ts';

export class CardTrouble {
  /** Why the outcome cannot be decided, from the first card failure of the scenario; undefined while all is well. */
  reason?: string;

  /** Records e when it leaves the outcome undecided; returns e unchanged for the caller to throw. */
  note(e: unknown): unknown {
    const mapped = inconclusiveFromDriver(e);
    if (mapped instanceof InconclusiveError) this.reason ??= mapped.reason;
    return e;
  }

  /** The same channel, its failures noted. */
  watch(channel: CardChannel): CardChannel {
    const note = (e: unknown) => Promise.reject(this.note(e));
    return {
      name: channel.name,
      transmit: (command, opts) => channel.transmit(command, opts).catch(note),
      atr: (opts) => channel.atr(opts).catch(note),
      reset: (cold, opts) => channel.reset(cold, opts).catch(note),
      close: () => channel.close(),
    };
  }

  /** Opens a channel with `open`, noting a failure to reach the card as well. */
  async open(open: () => Promise<CardChannel>): Promise<CardChannel> {
    try {
      return this.watch(await open());
    } catch (e) {
      throw this.note(e);
    }
  }
}
