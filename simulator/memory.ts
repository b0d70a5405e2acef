/**
 * Memory accounting (GPCS 2.3.1 §9.7). The card has fixed non-volatile and volatile budgets for card content.
 * A package occupies its size; an instance charges its allocated bytes (footprint + stored data) but at least
 * its Reserved Memory (D7/D8) to the card; a Memory Quota (C7/C8) only caps what the instance may allocate.
 * FF21 reports exactly what these functions compute.
 */
import type { CardState, MemoryClaim, CardEntry } from './state.ts';
import { SwError, Sw } from './errors.ts';

/** Footprints of a fresh instance (object header, SD context); the ISD is part of the platform and not counted. */
export const Footprint = {
  appNonVolatile: 256,
  appVolatile: 64,
  sdNonVolatile: 768,
  sdVolatile: 256,
  /** One key set (three keys + key information) in an SD. */
  keySet: 96,
} as const;

function charged(c: MemoryClaim): number {
  return Math.max(c.allocated, c.reserved);
}

export function usedNonVolatile(state: CardState): number {
  let used = 0;
  for (const p of state.packages) used += p.nv;
  for (const e of state.entries) if (e.kind !== 'isd') used += charged(e.nv);
  return used;
}

export function usedVolatile(state: CardState): number {
  let used = 0;
  for (const e of state.entries) if (e.kind !== 'isd') used += charged(e.volatile);
  return used;
}

export function freeNonVolatile(state: CardState): number {
  return state.memory.nonVolatile - usedNonVolatile(state);
}

export function freeVolatile(state: CardState): number {
  return state.memory.volatile - usedVolatile(state);
}

/** Installed applications and SDs other than the ISD (FF21 tag 81). */
export function installedApplications(state: CardState): number {
  return state.entries.filter((e) => e.kind !== 'isd').length;
}

/**
 * Allocates `bytes` more to an entry's claim (or releases with a negative number). Throws 6A84 when the
 * quota would be exceeded or the card has not that much left. The ISD allocates from the platform.
 */
export function allocate(state: CardState, entry: CardEntry, kind: 'nv' | 'volatile', bytes: number): void {
  if (entry.kind === 'isd') return;
  const claim = kind === 'nv' ? entry.nv : entry.volatile;
  const next = Math.max(0, claim.allocated + bytes);
  if (bytes > 0) {
    if (claim.quota !== undefined && next > claim.quota) {
      throw new SwError(Sw.NOT_ENOUGH_MEMORY, `${entry.aid}: ${kind} quota of ${claim.quota} bytes exceeded`);
    }
    const growth = Math.max(next, claim.reserved) - charged(claim);
    const free = kind === 'nv' ? freeNonVolatile(state) : freeVolatile(state);
    if (growth > free) throw new SwError(Sw.NOT_ENOUGH_MEMORY, `${kind} memory exhausted (${free} bytes free, ${growth} needed)`);
  }
  claim.allocated = next;
}

/** Checks that `nv`/`volatile` more bytes would fit on the card right now (Minimum Memory of INSTALL [for load]). */
export function requireAvailable(state: CardState, nv: number, vol: number): void {
  const freeNv = freeNonVolatile(state);
  const freeV = freeVolatile(state);
  if (nv > freeNv) throw new SwError(Sw.NOT_ENOUGH_MEMORY, `needs ${nv} bytes of non-volatile memory, ${freeNv} free`);
  if (vol > freeV) throw new SwError(Sw.NOT_ENOUGH_MEMORY, `needs ${vol} bytes of volatile memory, ${freeV} free`);
}
