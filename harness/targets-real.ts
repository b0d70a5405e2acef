/**
 * Real cards: cards this process does not hold (physical ones, or simulated ones another process attached to vpcd).
 * `--target pcsc:READER --profile FILE` is one card in that reader; `--target cards --profile A --profile B ...` is one
 * card per profile, each in the reader its profile names (`ixit.reader`). Each card stands for one SE of the fleet
 * (`ixit.seId`, else matched by AIDs); every channel to it goes through the
 * safety guard (GuardedCard: ATR/CPLC vs profile, card cryptogram before EXTERNAL AUTHENTICATE, the failed
 * authentication budget, destructive commands). The harness reads its state as a lab does, through the ISD with the
 * profile's keys, and puts it back after every scenario the way the run found it.
 */
import path from 'node:path';
import type { CardChannel } from '../drivers/index.ts';
import { openChannel, secureTransmit } from '../drivers/index.ts';
import { GuardedCard, InconclusiveError } from '../drivers/index.ts';
import { fromHex, openIssuerChannel, openIssuerSession, readCardView, type CardView } from '../gp/index.ts';
import type { Fleet } from '../profiles/index.ts';
import type { SeSpec } from '../profiles/index.ts';
import { loadCardProfile, resolveCardKeys, type LoadedCardProfile } from '../profiles/index.ts';
import { applyRestore, cardDifferences, planRestore, type RestoreAction } from './card-restore.ts';
import type { Issuer } from './lifecycle-card.ts';
import type { CardAccess, ScenarioContext } from './card-access.ts';

/** A real-card run: `cards`, or a named reader (`pcsc:<something>`) with a card profile. Plain `pcsc` stays simulated. */
export function isRealCardTarget(target: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return target === 'cards' || (/^pcsc:./.test(target) && !!env.TSMLAB_PROFILE);
}

/** The card profile files of the run: TSMLAB_PROFILE holds one path, or several joined with the path delimiter. */
export function profileFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.TSMLAB_PROFILE ?? '').split(path.delimiter).filter(Boolean);
}

/**
 * The fleet SE the profile's card stands for: `ixit.seId` when the profile names one, else the first SE whose ISD
 * (and central SD, when the profile gives it) AIDs are the profile's, else the fleet's first SE.
 */
export function profiledSe(fleet: Fleet, loaded: LoadedCardProfile): SeSpec {
  const ixit = loaded.profile.ixit;
  if (ixit.seId) {
    const se = fleet.ses.find((s) => s.seId === ixit.seId);
    if (!se) throw new Error(`${loaded.source}: /ixit/seId "${ixit.seId}" is not an SE of the fleet (${fleet.ses.map((s) => s.seId).join(', ')})`);
    return se;
  }
  const same = (a: string | undefined, b: string | undefined) => !!a && !!b && a.toUpperCase() === b.toUpperCase();
  const match = fleet.ses.find(
    (s) => same(s.card?.isd?.aid, ixit.isdAid) && (!ixit.centralSdAid || same(s.centralSd?.aid, ixit.centralSdAid)),
  );
  const se = match ?? fleet.ses[0];
  if (!se) throw new Error('the fleet has no SE for the profiled card');
  return se;
}

/** One real card of the run: the SE it stands for, its profile and keys, and the reader it is in. */
export interface RealCard {
  se: SeSpec;
  profile: LoadedCardProfile;
  /** `pcsc:<reader>`. */
  target: string;
}

/** Which card stands for which SE, refusing a run where that is unclear. */
export function realCardsOf(fleet: Fleet, target: string, env: NodeJS.ProcessEnv = process.env): RealCard[] {
  const files = profileFiles(env);
  if (files.length === 0) throw new Error(`target ${target} is a real card: it needs a card profile (--profile FILE)`);
  if (target !== 'cards' && files.length > 1) throw new Error(`target ${target} is one reader: give one --profile, or use --target cards with one profile per card`);
  const cards = files.map((file) => {
    const profile = loadCardProfile(file);
    const reader = profile.profile.ixit.reader;
    if (target === 'cards' && !reader) throw new Error(`${profile.source}: /ixit/reader is needed with --target cards (which reader holds this card?)`);
    return { se: profiledSe(fleet, profile), profile, target: target === 'cards' ? `pcsc:${reader}` : target };
  });
  for (const [i, c] of cards.entries()) {
    const other = cards.findIndex((d, j) => j < i && d.se.seId === c.se.seId);
    if (other >= 0) throw new Error(`${cards[other].profile.source} and ${c.profile.source} both stand for ${c.se.seId}: give each card its own /ixit/seId`);
  }
  return cards;
}

export async function realCardOverPcsc(fleet: Fleet, target: string, scenario: ScenarioContext, env: NodeJS.ProcessEnv = process.env): Promise<CardAccess> {
  const cards = new Map<string, CardParts>();
  for (const card of realCardsOf(fleet, target, env)) cards.set(card.se.seId, await reachCard(card, scenario, env));
  const held = () => [...cards.values()].map((c) => c.describe).join(', ');
  const card = (seId: string) => {
    const c = cards.get(seId);
    if (!c) throw new Error(`SE ${seId} is not reachable in this run: the cards of this run are ${held()}`);
    return c;
  };
  return {
    target,
    cards: new Map(),
    realCard: held(),
    channel: async (seId) => card(seId).open('mno'),
    view: async (seId) => card(seId).view(),
    harnessChannel: async (seId) => card(seId).open('harness'),
    issuer: (seId) => card(seId).issuer,
    restore: async () => {
      for (const c of cards.values()) await c.restore();
    },
    close: async () => undefined,
  };
}

interface CardParts {
  describe: string;
  issuer: Issuer;
  open(from: 'mno' | 'harness'): Promise<CardChannel>;
  view(): Promise<CardView>;
  restore(): Promise<void>;
}

/** Checks one card (sample, and that it is as the run found it) and gives the ways to reach it. */
async function reachCard({ se, profile, target }: RealCard, { scenarioTags, memory }: ScenarioContext, env: NodeJS.ProcessEnv): Promise<CardParts> {
  const { baselines, unrestored } = memory;
  const keys = resolveCardKeys(profile, env);
  const destructive = {
    scenarioTags: [...scenarioTags],
    sacrificial: profile.profile.ixit.sacrificial === true,
    allowDestructive: env.TSMLAB_ALLOW_DESTRUCTIVE === '1',
  };
  const issuer: Issuer = { aid: profile.profile.ixit.isdAid.toUpperCase(), keys };
  const key = `${target} ${profile.profile.profile}`;
  let touched = false;
  const open = async (from: 'mno' | 'harness'): Promise<CardChannel> => {
    if (!touched) {
      const left = unrestored.get(key);
      if (left) throw new InconclusiveError(`the card in ${target} is not as the run found it, so no scenario can be judged on it: ${left}`);
      touched = true;
    }
    const inner = await openChannel(target, { trace: { from, corr: { seId: se.seId } }, timeoutMs: 10_000 });
    try {
      return await GuardedCard.open(inner, { profile, keys, destructive, budgets: memory.authBudgets, timeoutMs: 10_000 });
    } catch (e) {
      await inner.close().catch(() => undefined);
      throw e;
    }
  };
  const withHarness = async <T>(work: (channel: CardChannel) => Promise<T>): Promise<T> => {
    const channel = await open('harness');
    try {
      return await work(channel);
    } finally {
      await channel.close();
    }
  };
  const view = () =>
    withHarness((c) => readCardView(secureTransmit(c), { aid: fromHex(issuer.aid), open: (t) => openIssuerChannel(t, fromHex(issuer.aid), keys) }));

  // The first scenario checks the sample (a wrong card, SafetyError, or a spent budget, InconclusiveError, fails its
  // first step) and records how the card looks. Later scenarios check it on every channel they open, and a card they
  // never reached needs no putting back.
  if (!baselines.has(key)) {
    await (await open('mno')).close();
    baselines.set(key, await view());
    touched = false;
  }
  const apply = (actions: RestoreAction[]) =>
    withHarness(async (c) => applyRestore(await openIssuerSession(secureTransmit(c), fromHex(issuer.aid), keys), actions, issuer.aid));
  return {
    describe: `${se.seId} in ${target} (profile "${profile.profile.profile}")`,
    issuer,
    open,
    view,
    restore: async () => {
      if (touched) await restoreCard(key, baselines.get(key)!, view, apply, unrestored);
    },
  };
}

async function restoreCard(
  key: string,
  baseline: CardView,
  view: () => Promise<CardView>,
  apply: (actions: RestoreAction[]) => Promise<string[]>,
  unrestored: Map<string, string>,
): Promise<void> {
  try {
    const now = await view();
    const actions = planRestore(baseline, now);
    const refused = actions.length ? await apply(actions) : [];
    const left = cardDifferences(baseline, actions.length ? await view() : now);
    if (refused.length || left.length) unrestored.set(key, [...refused, ...left].join('; '));
  } catch (e) {
    unrestored.set(key, `putting the card back failed: ${(e as Error).message}`);
  }
}
