/**
 * What this run can do, for @ICS: and @needs: tags: the card profile's ICS when one was given, and the capabilities
 * of the target. Every target of this harness holds the cards in-process (simulator over WebSocket, or simulated cards
 * in vpcd readers), so the card's own state can be inspected; a real card cannot offer that.
 */
import { icsFeatures, loadCardProfile } from '../../profiles/index.ts';
import type { ApplicabilityContext } from '../../reports/index.ts';

export function runApplicability(env: NodeJS.ProcessEnv = process.env): ApplicabilityContext | undefined {
  const target = env.TSMLAB_TARGET ?? 'sim';
  const capabilities = ['card-inspection', target === 'sim' ? 'websocket' : 'pcsc'];
  if (!env.TSMLAB_PROFILE) {
    // No profile: the built-in simulator claims everything the suites ask of a card.
    return undefined;
  }
  const loaded = loadCardProfile(env.TSMLAB_PROFILE);
  return { icsFeatures: icsFeatures(loaded.profile), capabilities, target, profileName: loaded.profile.profile };
}
