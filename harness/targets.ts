/**
 * Where a scenario's secure elements live. Every scenario gets fresh simulated cards (its own card state), reached
 * the way the run asked: over WebSocket (`sim`, the default) or through pcscd and vpcd as real PC/SC cards (`pcsc`).
 * The cards stay in this process either way, so Then steps check the card itself, not the TSM's memory.
 */
import { openChannel } from '../drivers/index.ts';
import type { Fleet } from '../profiles/index.ts';
import { createSimulatedSe, startSimulator, type SimulatedSe } from '../simulator/index.ts';
import { simulatedCardParts, type CardAccess, type ScenarioContext } from './card-access.ts';

export type { CardAccess } from './card-access.ts';

export async function openCardAccess(target: string, fleet: Fleet, scenario: ScenarioContext): Promise<CardAccess> {
  if (target === 'sim') return simulatorOverWebSocket(fleet);
  if (target.startsWith('pcsc') || target === 'cards') {
    const real = await import('./targets-real.ts');
    if (real.isRealCardTarget(target)) return real.realCardOverPcsc(fleet, target, scenario);
    const { simulatorOverPcsc } = await import('./targets-pcsc.ts');
    return simulatorOverPcsc(fleet, target);
  }
  throw new Error(`unknown target "${target}"`);
}

async function simulatorOverWebSocket(fleet: Fleet): Promise<CardAccess> {
  const cards = new Map<string, SimulatedSe>();
  const sim = await startSimulator({
    fleet,
    createSe: (spec) => {
      const se = createSimulatedSe(spec);
      cards.set(spec.seId, se);
      return se;
    },
  });
  return {
    target: 'sim',
    cards,
    channel: (seId) => openChannel(sim.urls[seId], { trace: { from: 'mno', corr: { seId } }, timeoutMs: 10_000 }),
    ...simulatedCardParts(fleet, cards),
    close: () => sim.close(),
  };
}
