/**
 * Helpers for tests that need the private pcscd of test/pcsc/with-pcscd.sh: whether we are inside it, the
 * reader name of each vpcd slot, and a simulated card inserted into a slot (harness/vpcd-cards.ts).
 */
import type { CardEndpoint } from '../../gp/index.ts';
import { insertIntoVpcd, vpcdSlots } from '../../harness/vpcd-cards.ts';

export const insidePrivatePcscd = process.env.TSMLAB_PCSCD_NS === '1';

export const SKIP_REASON =
  'PC/SC tests need the private pcscd: run `npm run test:pcsc` (test/pcsc/with-pcscd.sh npx vitest run drivers/pcsc ...)';

/** pcscd's name for vpcd slot `slot` (0-based). */
export function vpcdReaderName(slot: number): string {
  const s = vpcdSlots()[slot];
  if (!s) throw new Error(`no vpcd slot ${slot}`);
  return s.reader;
}

export interface InsertedCard {
  reader: string;
  /** Pulls the card out at once (mid-command if need be). */
  pull(): Promise<void>;
  /** Pulls the card and waits until pcscd reports the reader empty. */
  remove(): Promise<void>;
}

/** Puts `card` into vpcd slot `slot` and waits until pcscd reports it present (ATR read). */
export async function insertCard(card: CardEndpoint, slot = 0): Promise<InsertedCard> {
  const s = vpcdSlots()[slot];
  if (!s) throw new Error(`no vpcd slot ${slot}`);
  const cards = await insertIntoVpcd([card], { slots: [s] });
  return { reader: s.reader, pull: () => cards.pull(card.seId), remove: () => cards.close() };
}
