/**
 * INITIALIZE UPDATE / EXTERNAL AUTHENTICATE (GPCS 2.3.1 Appendix D/E, Amendment D §7): opens a secure channel
 * with the selected SD's key set. Failed EXTERNAL AUTHENTICATEs are counted card-wide; at `auth.limit`
 * consecutive failures the card locks itself (CARD_LOCKED) and answers 6983 to every later authentication.
 */
import type { CommandApdu, ResponseApdu } from '../gp/index.ts';
import { type ChannelCardOptions, createChannel, isComplete } from './channels.ts';
import { SwError, Sw } from './errors.ts';
import type { Ctx } from './session.ts';
import { CardLife, isLocked } from './state.ts';

export function initializeUpdate(ctx: Ctx, cmd: CommandApdu, card: ChannelCardOptions = {}): ResponseApdu {
  const { state, session, current: sd } = ctx;
  if (cmd.cla !== 0x80) throw new SwError(Sw.CLA_NOT_SUPPORTED, 'INITIALIZE UPDATE is sent with CLA 80');
  if (state.auth.blocked) throw new SwError(Sw.AUTH_METHOD_BLOCKED, 'authentication blocked after too many failures');
  if (state.lifeCycle === CardLife.TERMINATED) throw new SwError(Sw.CONDITIONS_OF_USE, 'card TERMINATED');
  if (isLocked(sd.lifeCycle)) throw new SwError(Sw.CONDITIONS_OF_USE, `${sd.aid} is LOCKED`);
  session.channel?.sc.reset();
  session.channel = undefined;
  const ks = cmd.p1 === 0 ? sd.keySets.find(isComplete) : sd.keySets.find((k) => k.kvn === cmd.p1);
  if (!ks || !isComplete(ks)) throw new SwError(Sw.DATA_NOT_FOUND, `no key set ${cmd.p1.toString(16)} in ${sd.aid}`);
  const channel = createChannel(session, state, sd.aid, ks, card);
  const r = channel.sc.handleInitializeUpdate(cmd);
  if (r.sw === Sw.OK) session.channel = channel;
  return r;
}

export function externalAuthenticate(ctx: Ctx, cmd: CommandApdu): ResponseApdu {
  const { state, session, current: sd } = ctx;
  if (state.auth.blocked) throw new SwError(Sw.AUTH_METHOD_BLOCKED, 'authentication blocked after too many failures');
  const ch = session.channel;
  if (!ch || ch.sd !== sd.aid || ch.sc.isOpen) throw new SwError(Sw.CONDITIONS_OF_USE, 'EXTERNAL AUTHENTICATE without INITIALIZE UPDATE');
  const r = ch.sc.handleExternalAuthenticate(cmd);
  if (r.sw === Sw.OK) {
    state.auth.failures = 0;
    return r;
  }
  session.channel = undefined;
  if (r.sw === Sw.AUTH_FAILED || r.sw === Sw.SECURITY_STATUS) {
    state.auth.failures++;
    if (state.auth.failures >= state.auth.limit) {
      state.auth.blocked = true;
      if (state.lifeCycle !== CardLife.TERMINATED) state.lifeCycle = CardLife.CARD_LOCKED;
    }
  }
  return r;
}
