/** What a scenario's target gives the harness: channels to each SE, its card's view and issuer, restore and pull. */
import { AuthBudgets, type CardChannel } from '../drivers/index.ts';
import type { CardView } from '../gp/index.ts';
import type { Fleet } from '../profiles/index.ts';
import { cardViewOf, type SimulatedSe } from '../simulator/index.ts';
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

/**
 * What a run (one process: the CLI, or one Cucumber worker) remembers of its real cards across scenarios: how each
 * card (reader and profile) looked when the run first reached it, and what could not be put back on it (its next
 * scenarios are INCONCLUSIVE). Owned by the run, handed to every scenario's card access.
 */
export interface RealCardMemory {
  readonly baselines: Map<string, CardView>;
  readonly unrestored: Map<string, string>;
  /** Failed authentications per card, across every scenario of the run. */
  readonly authBudgets: AuthBudgets;
}

export function newRealCardMemory(): RealCardMemory {
  return { baselines: new Map(), unrestored: new Map(), authBudgets: new AuthBudgets() };
}

/** What a scenario tells its card access: its tags (the destructive-command interlock) and the run's memory. */
export interface ScenarioContext {
  scenarioTags: readonly string[];
  memory: RealCardMemory;
}

