/** A hand pulls a card out of its reader: what the harness then decides about the scenario (INCONCLUSIVE). */
import { When } from '@cucumber/cucumber';
import { HarnessError } from '../trace/index.ts';
import type { TsmWorld } from './world.ts';

When('the card of {word} is pulled out of its reader', async function (this: TsmWorld, seId: string) {
  if (!this.cards.pull) {
    throw new HarnessError(`target ${this.cards.target} cannot pull a card out of its reader (run with --target pcsc: simulated cards in vpcd readers)`);
  }
  await this.cards.pull(seId);
});
