/**
 * `--target pcsc`: the scenario's simulated SEs become cards in vpcd's virtual readers, and the central TSM reaches
 * them through pcscd with the PC/SC driver — the whole real-card path, with the card state still checkable here.
 */
import { openChannel } from '../drivers/index.ts';
import { emit } from '../trace/index.ts';
import { insertIntoVpcd } from './vpcd-cards.ts';
import type { Fleet } from '../profiles/index.ts';
import { createSimulatedSe, type SimulatedSe } from '../simulator/index.ts';
import { simulatedCardParts, type CardAccess } from './card-access.ts';

export async function simulatorOverPcsc(fleet: Fleet, target: string): Promise<CardAccess> {
  const cards = new Map<string, SimulatedSe>(fleet.ses.map((spec) => [spec.seId, createSimulatedSe(spec)]));
  const inserted = await insertIntoVpcd([...cards.values()]).catch(async (e: Error) => {
    // pcscd polls its readers; on a loaded machine an insertion can go unnoticed. Pull and insert once more, loudly.
    emit({ kind: 'note', from: 'harness', to: 'se', text: `vpcd insertion retried: ${e.message}` });
    return insertIntoVpcd([...cards.values()]);
  });
  return {
    target,
    cards,
    channel: (seId) => {
      const t = inserted.targets[seId];
      if (!t) return Promise.reject(new Error(`SE ${seId} is in no vpcd reader`));
      return openChannel(t, { trace: { from: 'mno', corr: { seId } }, timeoutMs: 10_000 });
    },
    ...simulatedCardParts(fleet, cards),
    // Through pcscd like any lab tool, not in-process behind its back: pcscd powers a card off about a second after
    // insertion or after its last client lets go, which would cut an in-process issuer session in half (6F00).
    harnessChannel: (seId) => {
      const t = inserted.targets[seId];
      if (!t) return Promise.reject(new Error(`SE ${seId} is in no vpcd reader`));
      return openChannel(t, { trace: { from: 'harness', corr: { seId } }, timeoutMs: 10_000 });
    },
    pull: (seId) => inserted.pull(seId),
    close: () => inserted.close(),
  };
}
