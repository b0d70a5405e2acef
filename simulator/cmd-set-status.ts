/**
 * SET STATUS (GPCS 2.3.1 §11.10, life cycles §5): the card ('80': lock/unlock with Card Lock, TERMINATED with
 * Card Terminate, OP_READY → INITIALIZED → SECURED by the ISD), an application or SD ('40'), or an SD with its
 * whole sub-hierarchy ('60'). An SD may set itself PERSONALIZED or LOCKED; locking others needs the target in
 * the acting SD's hierarchy or Global Lock; unlocking restores the state before the lock. Amendment C status
 * type '01' switches an application's contactless availability.
 */
import { type CommandApdu, type ResponseApdu, TlvError, parseTlv, tlv, toHex } from '../gp/index.ts';
import { mayLock, owns, requireSecureChannel } from './authz.ts';
import { SwError, Sw } from './errors.ts';
import { findEntry, has, subHierarchy } from './registry.ts';
import type { Ctx } from './session.ts';
import { type CardEntry, AppLife, CardLife, isLocked } from './state.ts';

const OK: ResponseApdu = { data: new Uint8Array(0), sw: Sw.OK };

export function setStatus(ctx: Ctx, cmd: CommandApdu): ResponseApdu {
  requireSecureChannel(ctx);
  if (ctx.state.lifeCycle === CardLife.TERMINATED) throw new SwError(Sw.CONDITIONS_OF_USE, 'card TERMINATED');
  switch (cmd.p1) {
    case 0x80:
      return setCardStatus(ctx, cmd.p2);
    case 0x40:
    case 0x60:
      return setApplicationStatus(ctx, cmd);
    case 0x01:
      return setContactlessAvailability(ctx, cmd);
    default:
      throw new SwError(Sw.WRONG_P1P2, `SET STATUS P1 ${cmd.p1.toString(16)} not supported`);
  }
}

function setCardStatus(ctx: Ctx, target: number): ResponseApdu {
  const { state, current: sd } = ctx;
  const from = state.lifeCycle;
  if (target === from) throw new SwError(Sw.CONDITIONS_OF_USE, 'card already in that state');
  if (target === CardLife.TERMINATED) {
    if (!has(sd, 'card-terminate')) throw new SwError(Sw.CONDITIONS_OF_USE, `${sd.aid} lacks Card Terminate`);
  } else if (target === CardLife.CARD_LOCKED) {
    if (from !== CardLife.SECURED) throw new SwError(Sw.CONDITIONS_OF_USE, 'only a SECURED card can be locked');
    if (!has(sd, 'card-lock')) throw new SwError(Sw.CONDITIONS_OF_USE, `${sd.aid} lacks Card Lock`);
  } else if (target === CardLife.SECURED && from === CardLife.CARD_LOCKED) {
    if (!has(sd, 'card-lock')) throw new SwError(Sw.CONDITIONS_OF_USE, `${sd.aid} lacks Card Lock`);
    if (state.auth.blocked) throw new SwError(Sw.CONDITIONS_OF_USE, 'card locked by too many failed authentications');
  } else if (
    (from === CardLife.OP_READY && (target === CardLife.INITIALIZED || target === CardLife.SECURED)) ||
    (from === CardLife.INITIALIZED && target === CardLife.SECURED)
  ) {
    if (sd.kind !== 'isd') throw new SwError(Sw.CONDITIONS_OF_USE, 'only the ISD personalizes the card life cycle');
  } else {
    throw new SwError(Sw.WRONG_DATA, `card life cycle ${from.toString(16)} → ${target.toString(16)} not allowed`);
  }
  state.lifeCycle = target;
  return OK;
}

function setApplicationStatus(ctx: Ctx, cmd: CommandApdu): ResponseApdu {
  const { state, current: sd } = ctx;
  if (state.lifeCycle === CardLife.CARD_LOCKED) throw new SwError(Sw.CONDITIONS_OF_USE, 'card is CARD_LOCKED');
  const aid = toHex(cmd.data ?? new Uint8Array(0));
  if (aid.length < 10 || aid.length > 32) throw new SwError(Sw.WRONG_DATA, 'SET STATUS needs the AID of the target');
  const target = findEntry(state, aid);
  if (!target) throw new SwError(Sw.DATA_NOT_FOUND, `no application ${aid}`);
  if (target.kind === 'isd') throw new SwError(Sw.CONDITIONS_OF_USE, 'the ISD follows the card life cycle (P1 80)');
  const lock = (cmd.p2 & 0x80) !== 0;
  if (cmd.p1 === 0x60) {
    if (target.kind !== 'sd') throw new SwError(Sw.WRONG_DATA, `${aid} is not a security domain`);
    if (!mayLock(ctx, target) || target.aid === sd.aid) throw new SwError(Sw.CONDITIONS_OF_USE, `${sd.aid} may not lock ${aid}`);
    // Already locked / unlocked members are left as they are (§11.10.2.1 note).
    for (const e of subHierarchy(state, target.aid).entries) {
      if (e.kind === 'isd') continue;
      if (lock && !isLocked(e.lifeCycle)) e.lifeCycle |= AppLife.LOCKED_BIT;
      if (!lock && isLocked(e.lifeCycle)) e.lifeCycle &= ~AppLife.LOCKED_BIT;
    }
    return OK;
  }
  if (target.aid === sd.aid) return setOwnState(target, cmd.p2);
  if (!mayLock(ctx, target)) throw new SwError(Sw.CONDITIONS_OF_USE, `${sd.aid} may not lock or unlock ${aid} (not in its hierarchy, no Global Lock)`);
  if (lock === isLocked(target.lifeCycle)) throw new SwError(Sw.CONDITIONS_OF_USE, `${aid} is already ${lock ? 'LOCKED' : 'unlocked'}`);
  if (lock) target.lifeCycle |= AppLife.LOCKED_BIT;
  else target.lifeCycle &= ~AppLife.LOCKED_BIT;
  return OK;
}

/**
 * Amendment C §3.11.4, status type '01': ACTIVATED ('01') / DEACTIVATED ('00') over the contactless interface,
 * for each '4F' AID in the data. The acting SD needs Contactless Activation, or the application in its
 * hierarchy (or is the ISD). Unknown AIDs are skipped and listed in '61' { 'A1' { '4F' ... } } with 6320.
 */
function setContactlessAvailability(ctx: Ctx, cmd: CommandApdu): ResponseApdu {
  if (cmd.p2 !== 0x00 && cmd.p2 !== 0x01) throw new SwError(Sw.WRONG_P1P2, `contactless availability state ${cmd.p2.toString(16)} cannot be requested`);
  let items: ReturnType<typeof parseTlv>;
  try {
    items = parseTlv(cmd.data ?? new Uint8Array(0), { recursive: false });
  } catch (e) {
    if (e instanceof TlvError) throw new SwError(Sw.WRONG_DATA, e.message);
    throw e;
  }
  if (items.length === 0 || items.some((t) => t.tag !== 0x4f || t.value.length < 5 || t.value.length > 16)) {
    throw new SwError(Sw.WRONG_DATA, "the data field lists application AIDs in '4F'");
  }
  const notOperated: Uint8Array[] = [];
  for (const item of items) {
    const app = findEntry(ctx.state, toHex(item.value));
    if (!app || app.kind !== 'app') {
      notOperated.push(item.value);
      continue;
    }
    if (!has(ctx.current, 'contactless-activation') && !owns(ctx, app)) {
      throw new SwError(Sw.CONDITIONS_OF_USE, `${ctx.current.aid} may not change the contactless state of ${app.aid}`);
    }
    app.contactless = cmd.p2 === 0x01 ? 'activated' : 'deactivated';
  }
  if (notOperated.length === 0) return OK;
  return { data: tlv(0x61, tlv(0xa1, notOperated.map((a) => tlv(0x4f, a)))), sw: 0x6320 };
}

/** An SD changing its own state: SELECTABLE → PERSONALIZED, or → LOCKED (§11.10.2.2). */
function setOwnState(sd: CardEntry, p2: number): ResponseApdu {
  if (p2 & 0x80) {
    sd.lifeCycle |= AppLife.LOCKED_BIT;
    return OK;
  }
  if (p2 !== AppLife.PERSONALIZED) throw new SwError(Sw.WRONG_DATA, `an SD may only set itself PERSONALIZED or LOCKED`);
  if (sd.lifeCycle !== AppLife.SELECTABLE) throw new SwError(Sw.CONDITIONS_OF_USE, `${sd.aid} is not SELECTABLE`);
  sd.lifeCycle = AppLife.PERSONALIZED;
  return OK;
}
