/**
 * Helpers for tests that need the private pcscd of test/pcsc/with-pcscd.sh: whether we are inside it, the
 * vpcd slot ports and reader names, and a card inserted into a slot (the vpcd bridge) with a wait until pcscd
 * sees it come and go.
 */
import type { CardEndpoint } from '../../simulator/endpoint.ts';
import { attachVpcd, type VpcdAttachment } from '../../simulator/vpcd.ts';
import { PcscContext } from '../../drivers/pcsc-context.ts';

export const insidePrivatePcscd = process.env.TSMLAB_PCSCD_NS === '1';

export const SKIP_REASON =
  'PC/SC tests need the private pcscd: run `npm run test:pcsc` (test/pcsc/with-pcscd.sh npx vitest run drivers/pcsc.test.ts ...)';

/** vpcd slot ports, in reader order (35963 = "Virtual PCD 00 00", 35964 = "Virtual PCD 00 01", ...). */
export function vpcdPorts(): number[] {
  const list = (process.env.TSMLAB_VPCD_PORTS ?? '35963,35964').split(',').map(Number);
  return list.filter((p) => Number.isInteger(p) && p > 0);
}

/** pcscd's name for the vpcd slot at `slot` (0-based over all readers of with-pcscd.sh). */
export function vpcdReaderName(slot: number): string {
  const reader = Math.floor(slot / 2);
  const friendly = reader === 0 ? 'Virtual PCD' : `Virtual PCD ${reader + 1}`;
  return `${friendly} 00 0${slot % 2}`;
}

export interface InsertedCard {
  bridge: VpcdAttachment;
  reader: string;
  /** Pulls the card and waits until pcscd reports the reader empty. */
  remove(): Promise<void>;
}

/** Puts `card` into vpcd slot `slot` and waits until pcscd reports it present (ATR read). */
export async function insertCard(card: CardEndpoint, slot = 0): Promise<InsertedCard> {
  const port = vpcdPorts()[slot];
  if (port === undefined) throw new Error(`no vpcd slot ${slot} (ports: ${vpcdPorts().join(', ')})`);
  const reader = vpcdReaderName(slot);
  const ctx = await PcscContext.acquire();
  try {
    const bridge = attachVpcd(card, { port });
    await ctx.until(() => ctx.reader(reader)?.present === true && ctx.reader(reader)?.atr !== undefined, 10_000, `card in ${reader}`);
    return {
      bridge,
      reader,
      async remove() {
        const ctx2 = await PcscContext.acquire();
        try {
          await bridge.close();
          await ctx2.until(() => ctx2.reader(reader)?.present === false, 10_000, `${reader} empty`);
        } finally {
          ctx2.release();
        }
      },
    };
  } finally {
    ctx.release();
  }
}
