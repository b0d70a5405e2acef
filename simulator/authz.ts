/**
 * Who may do what (GPCS 2.3.1 §6.6, §9.1.3, §9.4-§9.6), as this simulator enforces it.
 *
 * - The acting entity is the SD selected on the basic channel, and it acts only inside a secure channel opened
 *   with its OWN keys (a channel belongs to the SD that authenticated it and ends on SELECT/reset/power off).
 *   So whoever lacks an SD's current keys cannot use that SD at all (after an SP rotates its SP SD keys the
 *   central SD can no longer personalize or read it through it).
 * - Card content management (load, install, make selectable, extradite, delete, registry update) needs the
 *   ISD or Authorized Management, card life cycle neither CARD_LOCKED nor TERMINATED, and the acting SD in
 *   PERSONALIZED (the ISD in any state). AM acts on objects of its own sub-hierarchy (§7.2). Delegated
 *   Management needs tokens, which this card does not verify: DM-only SDs are refused (6982).
 * - Global Delete: delete any object but the ISD. Global Lock: lock/unlock any application or SD but the ISD.
 *   These work across the hierarchy without the target's keys (the central SD can lock or delete an SP SD
 *   whose keys it no longer knows).
 * - Global Registry (and the ISD): GET STATUS / list of applications over the whole registry; others see their
 *   sub-hierarchy. Card Lock / Card Terminate: SET STATUS of the card.
 * - Every SD manages its own keys (PUT KEY), its own data (STORE DATA), personalizes the applications directly
 *   associated with it, and may move itself to PERSONALIZED or LOCKED.
 * Refusals: no secure channel → 6982; privilege or hierarchy does not allow it → 6985.
 */
import { SwError, Sw } from './errors.ts';
import { has, isUnder } from './registry.ts';
import type { Ctx } from './session.ts';
import { type CardEntry, AppLife, CardLife } from './state.ts';

/** An authenticated secure channel with the selected SD (all GP levels include C-MAC). */
export function requireSecureChannel(ctx: Ctx): void {
  const ch = ctx.session.channel;
  if (!ch || ch.sd !== ctx.current.aid || !ch.sc.isOpen) {
    throw new SwError(Sw.SECURITY_STATUS, `no secure channel with ${ctx.current.aid}`);
  }
}

export function requireCardNotLocked(ctx: Ctx): void {
  const lc = ctx.state.lifeCycle;
  if (lc === CardLife.CARD_LOCKED || lc === CardLife.TERMINATED) {
    throw new SwError(Sw.CONDITIONS_OF_USE, 'card content management is disabled in CARD_LOCKED and TERMINATED (§9.1.2)');
  }
}

/** Secure channel, card usable, acting SD has AM (or is the ISD) and is PERSONALIZED. */
export function requireContentManager(ctx: Ctx): void {
  requireSecureChannel(ctx);
  requireCardNotLocked(ctx);
  const sd = ctx.current;
  if (sd.kind === 'isd') return;
  if (!has(sd, 'authorized-management')) {
    if (has(sd, 'delegated-management')) throw new SwError(Sw.SECURITY_STATUS, 'Delegated Management needs a token; tokens are not supported');
    throw new SwError(Sw.CONDITIONS_OF_USE, `${sd.aid} has neither Authorized nor Delegated Management`);
  }
  if (sd.lifeCycle !== AppLife.PERSONALIZED) throw new SwError(Sw.CONDITIONS_OF_USE, `${sd.aid} is not PERSONALIZED`);
}

/** The acting SD owns the object: it is the object's associated SD, directly or up the hierarchy. The ISD owns all. */
export function owns(ctx: Ctx, obj: { aid: string; sd: string }): boolean {
  return ctx.current.kind === 'isd' || isUnder(ctx.state, obj, ctx.current.aid);
}

export function mayDelete(ctx: Ctx, obj: { aid: string; sd: string }): boolean {
  return has(ctx.current, 'global-delete') || owns(ctx, obj);
}

export function mayLock(ctx: Ctx, target: CardEntry): boolean {
  return has(ctx.current, 'global-lock') || owns(ctx, target);
}

export function seesWholeRegistry(ctx: Ctx): boolean {
  return ctx.current.kind === 'isd' || has(ctx.current, 'global-registry');
}
