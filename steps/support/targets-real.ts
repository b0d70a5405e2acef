/**
 * `--target pcsc:READER --profile FILE`: a card this process does not hold (a physical card, or a simulated one
 * another process attached to vpcd). It stands for ONE SE of the fleet; every channel to it goes through the
 * safety guard (GuardedCard: ATR/CPLC vs profile, card cryptogram before EXTERNAL AUTHENTICATE, the failed
 * authentication budget, destructive commands). Its state cannot be inspected from here.
 */
import type { CardChannel } from '../../drivers/index.ts';
import { openChannel } from '../../drivers/index.ts';
import { GuardedCard } from '../../drivers/safety.ts';
import type { Fleet } from '../../profiles/fleet.ts';
import type { SeSpec } from '../../profiles/fleet-types.ts';
import { loadCardProfile, resolveCardKeys, type LoadedCardProfile } from '../../profiles/index.ts';
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

  const open = async (): Promise<CardChannel> => {
    const inner = await openChannel(target, { trace: { from: 'mno', corr: { seId: se.seId } }, timeoutMs: 10_000 });
    try {
      return await GuardedCard.open(inner, { profile, keys, destructive, timeoutMs: 10_000 });
    } catch (e) {
      await inner.close().catch(() => undefined);
      throw e;
    }
  };
  // Check the sample before the scenario does anything: a wrong card (SafetyError) or a spent budget
  // (InconclusiveError) fails the scenario's first step with that message, not some later SP API answer.
  await (await open()).close();

  return {
    target,
    cards: new Map(),
    realCard: `${se.seId} is the card in ${target} (profile "${profile.profile.profile}")`,
    channel: (seId) => {
      if (seId !== se.seId) {
        return Promise.reject(new Error(`SE ${seId} is not reachable in this run: ${target} holds ${se.seId} only (profile "${profile.profile.profile}")`));
      }
      return open();
    },
    close: async () => undefined,
  };
}
