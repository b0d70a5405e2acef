/**
 * Where a scenario's secure elements live. Every scenario gets fresh simulated cards (its own card state), reached
 * the way the run asked: over WebSocket (`sim`, the default) or through pcscd and vpcd as real PC/SC cards (`pcsc`).
 * The cards stay in this process either way, so Then steps check the card itself, not the TSM's memory.
 */
import type { CardChannel } from '../../drivers/index.ts';
import { openChannel } from '../../drivers/index.ts';
import type { CardView } from '../../gp/index.ts';
import type { Fleet } from '../../profiles/fleet.ts';
import { cardViewOf, createSimulatedSe, startSimulator, type SimulatedSe } from '../../simulator/index.ts';
import { harnessChannel, issuerOfSpec, type Issuer } from './lifecycle-card.ts';

export interface CardAccess {
  readonly target: string;
  /** The simulated card behind each seId (empty for a real card). */
  readonly cards: Map<string, SimulatedSe>;
  /** Set when the SE is a real card this process does not hold (its state cannot be inspected): what it is. */
  readonly realCard?: string;
  /** Opens a traced channel to an SE as the central TSM reaches it. */
  channel(seId: string): Promise<CardChannel>;
  /** What an SE's card holds, as GET STATUS and GET DATA through its ISD show it. */
  view(seId: string): Promise<CardView>;
  /** A channel for the harness itself (issuer actions, key proofs), traced from the harness lane. */
  harnessChannel(seId: string): Promise<CardChannel>;
  /** The issuer of an SE's card: its ISD and the keys that open it. */
  issuer(seId: string): Issuer;
  /** Puts a card that outlives the scenario back as the run found it (real cards); undefined for fresh ones. */
  restore?(): Promise<void>;
  /** Pulls an SE's card out of its reader, as a hand does mid-command; only where the run holds the reader's card. */
  pull?(seId: string): Promise<void>;
  close(): Promise<void>;
}

export async function openCardAccess(target: string, fleet: Fleet): Promise<CardAccess> {
  if (target === 'sim') return simulatorOverWebSocket(fleet);
  if (target.startsWith('pcsc') || target === 'cards') {
    const real = await import('./targets-real.ts');
    if (real.isRealCardTarget(target)) return real.realCardOverPcsc(fleet, target);
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

/**
 * How the harness reads and acts on simulated cards held in this process: the simulator's own view (the card-view
 * conformance suite proves it is what GET STATUS / GET DATA through the ISD read) and an in-process channel.
 */
export function simulatedCardParts(fleet: Fleet, cards: Map<string, SimulatedSe>): Pick<CardAccess, 'view' | 'harnessChannel' | 'issuer'> {
  const card = (seId: string) => {
    const se = cards.get(seId);
    if (!se) throw new Error(`no simulated card ${seId} (the fleet has ${[...cards.keys()].join(', ')})`);
    return se;
  };
  return {
    view: async (seId) => cardViewOf(card(seId).inspect()),
    harnessChannel: (seId) => harnessChannel(card(seId)),
    issuer: (seId) => {
      const spec = fleet.ses.find((s) => s.seId === seId);
      if (!spec) throw new Error(`the fleet has no SE ${seId}`);
      return issuerOfSpec(spec.card.isd);
    },
  };
}
