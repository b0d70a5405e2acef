/**
 * What this run can do, for @ICS: and @needs: tags: the card profiles' ICS when profiles were given, and the
 * capabilities of the target. Every target reads a card's registry through its ISD; `sim` and plain `pcsc` hold the
 * cards in-process (simulator over WebSocket, or simulated cards in vpcd readers), so what is inside a card (stored
 * data, contactless state) can be looked at too: real cards (`pcsc:READER` or `cards`, with profiles) cannot offer that.
 */
import path from 'node:path';
import { destructiveRefusal } from '../drivers/index.ts';
import { icsFeatures, loadCardProfile, type LoadedCardProfile } from '../profiles/index.ts';
import type { ApplicabilityContext } from '../reports/index.ts';

function profilesOf(env: NodeJS.ProcessEnv): LoadedCardProfile[] {
  return (env.TSMLAB_PROFILE ?? '').split(path.delimiter).filter(Boolean).map((f) => loadCardProfile(f));
}

export function runApplicability(env: NodeJS.ProcessEnv = process.env): ApplicabilityContext | undefined {
  const target = env.TSMLAB_TARGET ?? 'sim';
  const profiles = profilesOf(env);
  // Cards another process (or nobody) holds: nothing inside them can be looked at.
  const real = target === 'cards' || (/^pcsc:./.test(target) && profiles.length > 0);
  const capabilities = [...(real ? [] : ['card-internals']), target === 'sim' ? 'websocket' : 'pcsc'];
  // No profile: the built-in simulator claims everything the suites ask of a card.
  if (profiles.length === 0) return undefined;
  // A scenario may reach any card of the run: it applies when every card claims what it needs.
  const [first, ...rest] = profiles.map((p) => new Set(icsFeatures(p.profile)));
  const common = [...first].filter((f) => rest.every((r) => r.has(f)));
  return { icsFeatures: common, capabilities, target, profileName: profiles.map((p) => p.profile.profile).join(', ') };
}

let cached: { key: string; profiles: LoadedCardProfile[] } | undefined;

function activeProfiles(env: NodeJS.ProcessEnv): LoadedCardProfile[] {
  const key = env.TSMLAB_PROFILE ?? '';
  if (cached?.key !== key) cached = { key, profiles: profilesOf(env) };
  return cached.profiles;
}

/**
 * Why a @destructive scenario may not run, or undefined. With card profiles (samples that must survive) it takes
 * all three: the tag, samples that are all sacrificial and --allow-destructive. Without one the cards are simulated
 * and made afresh for every scenario: there is nothing to protect.
 */
export function destructiveBlock(tags: string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  const profiles = activeProfiles(env);
  if (profiles.length === 0) return undefined;
  const sacrificial = profiles.every((p) => p.profile.ixit.sacrificial === true);
  return destructiveRefusal({ scenarioTags: tags, sacrificial, allowDestructive: env.TSMLAB_ALLOW_DESTRUCTIVE === '1' });
}
