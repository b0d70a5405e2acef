/**
 * What this run can do, for @ICS: and @needs: tags: the card profile's ICS when one was given, and the capabilities
 * of the target. Every target reads a card's registry through its ISD; `sim` and plain `pcsc` hold the cards in-process
 * (simulator over WebSocket, or simulated cards in vpcd readers), so what is inside a card (stored data, contactless
 * state) can be looked at too: a real card (`pcsc:READER` with a profile) cannot offer that.
 */
import { destructiveRefusal } from '../../drivers/safety.ts';
import { icsFeatures, loadCardProfile, type LoadedCardProfile } from '../../profiles/index.ts';
import type { ApplicabilityContext } from '../../reports/index.ts';

export function runApplicability(env: NodeJS.ProcessEnv = process.env): ApplicabilityContext | undefined {
  const target = env.TSMLAB_TARGET ?? 'sim';
  // A named reader with a profile is a card another process (or nobody) holds: nothing inside it can be looked at.
  const real = /^pcsc:./.test(target) && !!env.TSMLAB_PROFILE;
  const capabilities = [...(real ? [] : ['card-internals']), target === 'sim' ? 'websocket' : 'pcsc'];
  if (!env.TSMLAB_PROFILE) {
    // No profile: the built-in simulator claims everything the suites ask of a card.
    return undefined;
  }
  const loaded = loadCardProfile(env.TSMLAB_PROFILE);
  return { icsFeatures: icsFeatures(loaded.profile), capabilities, target, profileName: loaded.profile.profile };
}

let profile: LoadedCardProfile | undefined | null = null;

function activeProfile(env: NodeJS.ProcessEnv): LoadedCardProfile | undefined {
  if (profile === null) profile = env.TSMLAB_PROFILE ? loadCardProfile(env.TSMLAB_PROFILE) : undefined;
  return profile;
}

/**
 * Why a @destructive scenario may not run, or undefined. With a card profile (a sample that must survive) it takes
 * all three: the tag, a sacrificial sample and --allow-destructive. Without one the cards are simulated and made
 * afresh for every scenario: there is nothing to protect.
 */
export function destructiveBlock(tags: string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  const p = activeProfile(env);
  if (!p) return undefined;
  return destructiveRefusal({ scenarioTags: tags, sacrificial: p.profile.ixit.sacrificial === true, allowDestructive: env.TSMLAB_ALLOW_DESTRUCTIVE === '1' });
}
