/**
 * Command dispatch of a selected security domain (GPCS 2.3.1 §6.3, §11), after secure messaging was removed.
 * GP command chaining (P1 b8 of INSTALL, DELETE, PUT KEY; §11.1.5.1) is reassembled here: each segment is
 * answered 9000 and the command runs on the last one. Each segment carries its own secure messaging.
 */
import { type CommandApdu, type ResponseApdu, concat } from '../gp/index.ts';
import { deleteCommand } from './cmd-delete.ts';
import { getData } from './cmd-get-data.ts';
import { getStatus } from './cmd-get-status.ts';
import { install } from './cmd-install.ts';
import { load } from './cmd-load.ts';
import { putKey } from './cmd-put-key.ts';
import { setStatus } from './cmd-set-status.ts';
import { storeData } from './cmd-store-data.ts';
import { SwError, Sw } from './errors.ts';
import type { Ctx } from './session.ts';
import { CardLife, isLocked } from './state.ts';

/** Largest command reassembled from a chain. */
export const MAX_CHAINED_DATA = 0x7fff;

const CHAINED = new Set([0xe6, 0xe4, 0xd8]);

export function sdCommand(ctx: Ctx, cmd: CommandApdu): ResponseApdu {
  const { session } = ctx;
  const gp = (cmd.cla & 0x80) !== 0;
  if (isLocked(ctx.current.lifeCycle)) throw new SwError(Sw.CONDITIONS_OF_USE, `${ctx.current.aid} is LOCKED`);
  if (ctx.state.lifeCycle === CardLife.TERMINATED && cmd.ins !== 0xca && cmd.ins !== 0xcb) {
    throw new SwError(Sw.CONDITIONS_OF_USE, 'card TERMINATED: only GET DATA');
  }
  if (session.chain && session.chain.ins !== cmd.ins) {
    session.chain = undefined;
    throw new SwError(Sw.CONDITIONS_OF_USE, 'command chain interrupted');
  }
  if (cmd.ins !== 0xf2) session.getStatus = undefined;
  if (cmd.ins !== 0xe8 && cmd.ins !== 0xe6) session.load = undefined;
  if (cmd.ins === 0xca || cmd.ins === 0xcb) return getData(ctx, cmd);
  if (!gp) throw new SwError(cmd.ins === 0xa4 ? Sw.FILE_NOT_FOUND : Sw.CLA_NOT_SUPPORTED, 'GlobalPlatform commands use CLA 80/84');
  let full = cmd;
  if (CHAINED.has(cmd.ins)) {
    const whole = chain(ctx, cmd);
    if (!whole) return { data: new Uint8Array(0), sw: Sw.OK };
    full = whole;
  }
  switch (cmd.ins) {
    case 0xf2:
      return getStatus(ctx, full);
    case 0xe6:
      return install(ctx, full);
    case 0xe8:
      return load(ctx, full);
    case 0xe4:
      return deleteCommand(ctx, full);
    case 0xf0:
      return setStatus(ctx, full);
    case 0xd8:
      return putKey(ctx, full);
    case 0xe2:
      return storeData(ctx, full);
    default:
      throw new SwError(Sw.INS_NOT_SUPPORTED, `INS ${cmd.ins.toString(16)} not supported by a security domain`);
  }
}

/** Collects a chained segment; returns the reassembled command on the last one. */
function chain(ctx: Ctx, cmd: CommandApdu): CommandApdu | undefined {
  const { session } = ctx;
  const more = (cmd.p1 & 0x80) !== 0;
  const data = cmd.data ?? new Uint8Array(0);
  const c = session.chain;
  if (c && ((c.p1 & 0x7f) !== (cmd.p1 & 0x7f) || c.p2 !== cmd.p2)) {
    session.chain = undefined;
    throw new SwError(Sw.CONDITIONS_OF_USE, 'chained command header changed');
  }
  const parts = c ? [...c.parts, data] : [data];
  const size = parts.reduce((n, p) => n + p.length, 0);
  if (size > MAX_CHAINED_DATA) {
    session.chain = undefined;
    throw new SwError(Sw.WRONG_P1P2, 'command chain too long');
  }
  if (more) {
    session.chain = { ins: cmd.ins, p1: cmd.p1, p2: cmd.p2, parts };
    return undefined;
  }
  session.chain = undefined;
  return { ...cmd, p1: cmd.p1 & 0x7f, data: concat(...parts) };
}
