/**
 * The simulator's own CardView (gp/card-view.ts) of a card: what readCardView must find when it reads the same
 * card through the ISD. Key versions are reported only where this card would answer GET DATA 'E0' to a
 * SELECT in the clear, as a real reader sees them; free memory is what 'FF21' reports.
 */
import { ApplicationLifeCycle, type CardView, type CardViewEntry, CardLifeCycle, isLocked } from '../gp/index.ts';
import type { CardInspection, EntryInfo } from './inspect.ts';

/**
 * Would SELECT + GET DATA '00E0' be answered? Not for an SD that is LOCKED or not yet SELECTABLE (SELECT
 * skips it), not in CARD_LOCKED unless it holds Final Application (§5.1.1.4), not for an SD without keys (6A88).
 */
function answersKeyInformation(sd: EntryInfo, card: CardInspection): boolean {
  const selectable = !isLocked(sd.lifeCycleByte) && (sd.lifeCycleByte & ApplicationLifeCycle.SELECTABLE) === ApplicationLifeCycle.SELECTABLE;
  const cardAllows = card.lifeCycleByte !== CardLifeCycle.CARD_LOCKED || sd.privileges.includes('final-application');
  return selectable && cardAllows && card.lifeCycleByte !== CardLifeCycle.TERMINATED && sd.keySets.length > 0;
}

function entryOf(e: EntryInfo, card: CardInspection): CardViewEntry {
  const out: CardViewEntry = {
    aid: e.aid,
    kind: e.kind === 'app' ? 'app' : 'sd',
    lifeCycle: e.lifeCycle,
    lifeCycleByte: e.lifeCycleByte,
    associatedSd: e.associatedSd,
    privilegesHex: e.privilegesHex,
  };
  if (e.packageAid) out.packageAid = e.packageAid;
  if (e.kind !== 'app' && answersKeyInformation(e, card)) out.keyVersions = [...new Set(e.keySets.map((k) => k.kvn))].sort((a, b) => a - b);
  return out;
}

export function cardViewOf(inspection: CardInspection): CardView {
  return {
    isd: inspection.isd,
    lifeCycle: inspection.lifeCycle,
    lifeCycleByte: inspection.lifeCycleByte,
    securityDomains: inspection.securityDomains.filter((e) => e.kind === 'sd').map((e) => entryOf(e, inspection)),
    applications: inspection.applications.map((e) => entryOf(e, inspection)),
    packages: inspection.packages.map((p) => ({
      aid: p.aid,
      ...(p.version ? { version: p.version } : {}),
      associatedSd: p.associatedSd,
      modules: [...p.modules],
    })),
    // 'FF21' never reports less than nothing.
    freeNonVolatile: Math.max(0, inspection.memory.nonVolatile.free),
  };
}
