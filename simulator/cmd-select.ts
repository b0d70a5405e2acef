/**
 * SELECT [by name] (GPCS 2.3.1 §11.9, explicit selection on the basic channel §6.4.2.1.2), handled by the OPEN.
 * Full or partial AID match, first or next occurrence. A match that is INSTALLED or LOCKED is skipped; when
 * nothing selectable matches the answer is 6A82 (no such AID) or 6999 (it exists but cannot be selected — the
 * Java Card "applet selection failed"). In CARD_LOCKED only the Final Application is selectable (6283 warning,
 * others 6A81). A successful SELECT ends the secure channel, the personalization session and every chain.
 */
import { type CommandApdu, type ResponseApdu, fromHex, tlv, toHex } from '../gp/index.ts';
import { managementData } from './card-data.ts';
import { SwError, Sw } from './errors.ts';
import { has, isSelectable, isdOf } from './registry.ts';
import type { Ctx, Session } from './session.ts';
import { type CardEntry, CardLife } from './state.ts';

export function endApplicationSession(session: Session): void {
  session.channel?.sc.reset();
  session.channel = undefined;
  session.perso = undefined;
  session.storeBlock = 0;
  session.chain = undefined;
  session.getStatus = undefined;
  session.load = undefined;
}

export function select(ctx: Ctx, cmd: CommandApdu): ResponseApdu {
  const { state, session } = ctx;
  if (cmd.p1 !== 0x04) throw new SwError(Sw.WRONG_P1P2, 'only SELECT [by name] (P1 04) is supported');
  const occurrence = cmd.p2 & 0x03;
  const fci = cmd.p2 & 0x0c;
  if ((cmd.p2 & 0xf0) !== 0 || (occurrence !== 0 && occurrence !== 2) || (fci !== 0 && fci !== 0x0c)) {
    throw new SwError(Sw.WRONG_P1P2, `SELECT P2 ${cmd.p2.toString(16)} not supported`);
  }
  if (state.lifeCycle === CardLife.TERMINATED) throw new SwError(Sw.FUNCTION_NOT_SUPPORTED, 'card TERMINATED');
  const wanted = toHex(cmd.data ?? new Uint8Array(0));
  let target: CardEntry | undefined;
  let unselectable = false;
  if (wanted.length === 0) {
    target = isdOf(state);
  } else {
    const start = occurrence === 0 ? 0 : state.entries.findIndex((e) => e.aid === session.selected) + 1;
    for (const e of state.entries.slice(start)) {
      if (!e.aid.startsWith(wanted)) continue;
      if (isSelectable(e)) {
        target = e;
        break;
      }
      unselectable = true;
      if (e.aid === session.selected) {
        // A locked application that is currently selected loses its session; the ISD is implicitly selected.
        endApplicationSession(session);
        session.selected = isdOf(state).aid;
      }
    }
  }
  if (!target) {
    if (unselectable) throw new SwError(Sw.SELECT_FAILED, `${wanted} is not selectable (INSTALLED or LOCKED)`);
    throw new SwError(Sw.FILE_NOT_FOUND, `no application matches ${wanted}`);
  }
  let status: number = Sw.OK;
  if (state.lifeCycle === CardLife.CARD_LOCKED) {
    if (!has(target, 'final-application')) throw new SwError(Sw.FUNCTION_NOT_SUPPORTED, 'card is CARD_LOCKED');
    status = Sw.CARD_LOCKED_WARNING;
  }
  endApplicationSession(session);
  session.selected = target.aid;
  if (fci === 0x0c || target.kind === 'app') return { data: new Uint8Array(0), sw: status };
  return { data: sdFci(target), sw: status };
}

/** FCI of an SD (Table 11-82): AID, SD management data, maximum command data length. */
export function sdFci(sd: CardEntry): Uint8Array {
  const ks = sd.keySets[0];
  const scp = ks ? parseInt(ks.scp, 16) : 3;
  const i = ks ? ks.i : 0x70;
  return tlv(0x6f, [tlv(0x84, fromHex(sd.aid)), tlv(0xa5, [managementData(scp, i), tlv(0x9f65, Uint8Array.of(0xff))])]);
}
