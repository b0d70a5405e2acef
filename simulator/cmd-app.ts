/**
 * The generic applet every non-SD instance runs: it answers its SELECT, returns the BER-TLV data objects it
 * received through STORE DATA with GET DATA (tag in P1-P2), and knows nothing else (6D00). It has no secure
 * messaging of its own (6882).
 */
import { type CommandApdu, type ResponseApdu, fromHex, tlv } from '../gp/index.ts';
import { SwError, Sw } from './errors.ts';
import type { Ctx } from './session.ts';
import { CardLife } from './state.ts';

export function appCommand(ctx: Ctx, cmd: CommandApdu): ResponseApdu {
  if (ctx.state.lifeCycle === CardLife.TERMINATED) throw new SwError(Sw.CONDITIONS_OF_USE, 'card TERMINATED');
  if (cmd.cla & 0x04) throw new SwError(Sw.SM_NOT_SUPPORTED, 'the applet has no secure messaging');
  if (cmd.ins === 0xca) {
    const tag = (cmd.p1 << 8) | cmd.p2;
    let key = tag.toString(16).toUpperCase();
    if (key.length % 2) key = '0' + key;
    const value = ctx.current.dataObjects[key];
    if (value === undefined) throw new SwError(Sw.DATA_NOT_FOUND, `no data object ${key}`);
    return { data: cmd.cla & 0x80 ? tlv(tag, fromHex(value)) : fromHex(value), sw: Sw.OK };
  }
  throw new SwError(Sw.INS_NOT_SUPPORTED, `applet does not know INS ${cmd.ins.toString(16)}`);
}
