/**
 * `--target pcsc:READER --profile FILE`: a card this process does not hold (a physical card, or a simulated one
 * another process attached to vpcd). It stands for ONE SE of the fleet; every channel to it goes through the
 * safety guard (GuardedCard: ATR/CPLC vs profile, card cryptogram before EXTERNAL AUTHENTICATE, the failed
 * authentication budget, destructive commands). The harness reads its state as a lab does, through the ISD with the
 * profile's keys, and puts it back after every scenario the way the run found it.
 */
import type { CardChannel } from '../../drivers/index.ts';
import { openChannel } from '../../drivers/index.ts';
import { GuardedCard, InconclusiveError } from '../../drivers/safety.ts';
import { fromHex, openIssuerChannel, openIssuerSession, readCardView, type CardView } from '../../gp/index.ts';
import type { Fleet } from '../../profiles/fleet.ts';
import type { SeSpec } from '../../profiles/fleet-types.ts';
import { loadCardProfile, resolveCardKeys, type LoadedCardProfile } from '../../profiles/index.ts';
import { applyRestore, cardDifferences, planRestore } from './card-restore.ts';
import type { Issuer } from './lifecycle-card.ts';
import type { CardAccess } from './targets.ts';

/** A real-card run: a named reader (`pcsc:<something>`) and a card profile. Plain `pcsc` stays simulated. */
export function isRealCardTarget(target: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return /^pcsc:./.test(target) && !!env.TSMLAB_PROFILE;
}

let scenarioTags: string[] = [];

/** The running scenario's tags, for the destructive-command interlock (set by steps/real-card.hooks.ts). */
export function setScenarioTags(tags: Iterable<string>): void {
  scenarioTags = [...tags];
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

export async function realCardOverPcsc(fleet: Fleet, target: string, env: NodeJS.ProcessEnv = process.env): Promise<CardAccess> {
  const file = env.TSMLAB_PROFILE;
  if (!file) throw new Error(`target ${target} is a real card: it needs a card profile (--profile FILE)`);
  const profile = loadCardProfile(file);
  const keys = resolveCardKeys(profile, env);
  const se = profiledSe(fleet, profile);
  const destructive = {
    scenarioTags,
    sacrificial: profile.profile.ixit.sacrificial === true,
    allowDestructive: env.TSMLAB_ALLOW_DESTRUCTIVE === '1',
  };

  const issuer: Issuer = { aid: profile.profile.ixit.isdAid.toUpperCase(), keys };
  const open = async (from: 'mno' | 'harness'): Promise<CardChannel> => {
    const inner = await openChannel(target, { trace: { from, corr: { seId: se.seId } }, timeoutMs: 10_000 });
    try {
      return await GuardedCard.open(inner, { profile, keys, destructive, timeoutMs: 10_000 });
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
    withHarness((c) => readCardView((x) => c.transmit(x), { aid: fromHex(issuer.aid), open: (t) => openIssuerChannel(t, fromHex(issuer.aid), keys) }));

  // Check the sample before the scenario does anything: a wrong card (SafetyError) or a spent budget
  // (InconclusiveError) fails the scenario's first step with that message, not some later SP API answer.
  await (await open('mno')).close();
  const key = `${target} ${profile.profile.profile}`;
  const left = unrestored.get(key);
  if (left) throw new InconclusiveError(`the card in ${target} is not as the run found it, so no scenario can be judged on it: ${left}`);
  if (!baselines.has(key)) baselines.set(key, await view());

  const reachable = (seId: string) => {
    if (seId !== se.seId) throw new Error(`SE ${seId} is not reachable in this run: ${target} holds ${se.seId} only (profile "${profile.profile.profile}")`);
  };
  return {
    target,
    cards: new Map(),
    realCard: `${se.seId} is the card in ${target} (profile "${profile.profile.profile}")`,
    channel: async (seId) => {
      reachable(seId);
      return open('mno');
    },
    view: async (seId) => {
      reachable(seId);
      return view();
    },
    harnessChannel: async (seId) => {
      reachable(seId);
      return open('harness');
    },
    issuer: (seId) => {
      reachable(seId);
      return issuer;
    },
    restore: () => restoreCard(key, baselines.get(key)!, view, (actions) => withHarness(async (c) => applyRestore(await openIssuerSession((x) => c.transmit(x), fromHex(issuer.aid), keys), actions))),
    close: async () => undefined,
  };
}

/** How each real card (reader and profile) looked when the run first reached it. */
const baselines = new Map<string, CardView>();
/** What could not be put back on a card: its next scenarios are INCONCLUSIVE. */
const unrestored = new Map<string, string>();

async function restoreCard(
  key: string,
  baseline: CardView,
  view: () => Promise<CardView>,
  apply: (actions: ReturnType<typeof planRestore>) => Promise<string[]>,
): Promise<void> {
  try {
    const actions = planRestore(baseline, await view());
    const refused = actions.length ? await apply(actions) : [];
    const left = actions.length ? cardDifferences(baseline, await view()) : [];
    if (refused.length || left.length) unrestored.set(key, [...refused, ...left].join('; '));
  } catch (e) {
    unrestored.set(key, `putting the card back failed: ${(e as Error).message}`);
  }
}
