/**
 * Queries over the GlobalPlatform Registry held in CardState: lookups, the SD association hierarchy (§7.2),
 * privilege tests. Pure functions over the state so they work on a draft as well as on the committed state.
 */
import { type Privilege, hasPrivilege } from '../gp/index.ts';
import { type CardState, type PackageEntry, type CardEntry, AppLife, isLocked } from './state.ts';

/** Privileges the ISD holds in OP_READY (§6.6.2). */
export const ISD_PRIVILEGES: Privilege[] = [
  'security-domain',
  'authorized-management',
  'global-registry',
  'global-lock',
  'global-delete',
  'token-management',
  'card-lock',
  'card-terminate',
  'trusted-path',
  'cvm-management',
  'card-reset',
  'final-application',
  'receipt-generation',
];

export function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function has(entry: CardEntry, priv: Privilege): boolean {
  return hasPrivilege(hexBytes(entry.privileges), priv);
}

export function isSd(entry: CardEntry): boolean {
  return entry.kind !== 'app';
}

export function findEntry(state: CardState, aid: string): CardEntry | undefined {
  const a = aid.toUpperCase();
  return state.entries.find((e) => e.aid === a);
}

export function findPackage(state: CardState, aid: string): PackageEntry | undefined {
  const a = aid.toUpperCase();
  return state.packages.find((p) => p.aid === a);
}

export function isdOf(state: CardState): CardEntry {
  const isd = state.entries.find((e) => e.kind === 'isd');
  if (!isd) throw new Error('card state has no ISD');
  return isd;
}

/** Life cycle as reported: the ISD inherits the card life cycle (§5.1). */
export function lifeCycleOf(state: CardState, entry: CardEntry): number {
  return entry.kind === 'isd' ? state.lifeCycle : entry.lifeCycle;
}

/**
 * True when `sdAid` is the associated SD of the object (package or entry), directly or through its SD's own
 * associations (§7.2: the hierarchy ends at the ISD, which is associated with itself).
 */
export function isUnder(state: CardState, obj: { aid: string; sd: string }, sdAid: string): boolean {
  const seen = new Set<string>();
  let cur = obj.sd;
  while (!seen.has(cur)) {
    if (cur === sdAid) return true;
    seen.add(cur);
    const sd = findEntry(state, cur);
    if (!sd || sd.kind === 'isd') return false;
    cur = sd.sd;
  }
  return false;
}

/** The SD itself and every object in its sub-hierarchy, in registry order. */
export function subHierarchy(state: CardState, sdAid: string): { entries: CardEntry[]; packages: PackageEntry[] } {
  return {
    entries: state.entries.filter((e) => e.aid === sdAid || (e.kind !== 'isd' && isUnder(state, e, sdAid))),
    packages: state.packages.filter((p) => isUnder(state, p, sdAid)),
  };
}

/** An entry can be selected when it is SELECTABLE or beyond and not LOCKED (§6.4.2.1.2). */
export function isSelectable(entry: CardEntry): boolean {
  if (entry.kind === 'isd') return true;
  const lc = entry.lifeCycle;
  return !isLocked(lc) && (lc & AppLife.SELECTABLE) === AppLife.SELECTABLE;
}

/** Instances created from a package. */
export function instancesOf(state: CardState, packageAid: string): CardEntry[] {
  return state.entries.filter((e) => e.packageAid === packageAid);
}
