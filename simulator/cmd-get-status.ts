/**
 * GET STATUS (GPCS 2.3.1 §11.4): ISD ('80'), applications and SDs ('40'), load files ('20'), load files and
 * their modules ('10'); P2 '02' answers GlobalPlatform Registry Data ('E3' templates, Tables 11-36/37, with an
 * optional '5C' tag list), P2 '00' the older fixed format. Responses fit one short APDU with room for secure
 * messaging; the rest is kept for GET STATUS [next occurrence] and announced with 6310.
 */
import { type CommandApdu, type ResponseApdu, concat, fromHex, getStatusSubsetName, parseGetStatus, tlv, toHex } from '../gp/index.ts';
import { requireSecureChannel, seesWholeRegistry } from './authz.ts';
import { SwError, Sw } from './errors.ts';
import { isdOf, lifeCycleOf, subHierarchy } from './registry.ts';
import type { Ctx } from './session.ts';
import type { CardState, PackageEntry, RegistryEntry } from './state.ts';

/** Data bytes per GET STATUS page: 256 less an R-MAC (8) and R-ENCRYPTION padding (up to 16). */
export const GET_STATUS_PAGE = 232;

function entryTemplate(state: CardState, e: RegistryEntry, tags: number[] | undefined): Uint8Array {
  const parts: Array<[number, Uint8Array]> = [
    [0x4f, fromHex(e.aid)],
    [0x9f70, Uint8Array.of(lifeCycleOf(state, e))],
    [0xc5, fromHex(e.privileges)],
    ...e.implicitSelection.map((p): [number, Uint8Array] => [0xcf, Uint8Array.of(p)]),
  ];
  if (e.packageAid) parts.push([0xc4, fromHex(e.packageAid)]);
  parts.push([0xcc, fromHex(e.sd)]);
  return tlv(0xe3, pick(parts, tags));
}

function packageTemplate(p: PackageEntry, modules: boolean, tags: number[] | undefined): Uint8Array {
  const parts: Array<[number, Uint8Array]> = [
    [0x4f, fromHex(p.aid)],
    [0x9f70, Uint8Array.of(p.lifeCycle)],
  ];
  if (p.version) parts.push([0xce, fromHex(p.version)]);
  if (modules) for (const m of p.modules) parts.push([0x84, fromHex(m)]);
  parts.push([0xcc, fromHex(p.sd)]);
  return tlv(0xe3, pick(parts, tags));
}

function pick(parts: Array<[number, Uint8Array]>, tags: number[] | undefined): Uint8Array[] {
  return parts.filter(([t]) => !tags || tags.includes(t)).map(([t, v]) => tlv(t, v));
}

/** P2 '00' (deprecated) layout: AID length, AID, life cycle, first privilege byte [, modules]. */
function legacyEntry(state: CardState, e: RegistryEntry): Uint8Array {
  const aid = fromHex(e.aid);
  return concat(Uint8Array.of(aid.length), aid, Uint8Array.of(lifeCycleOf(state, e), fromHex(e.privileges)[0]));
}

function legacyPackage(p: PackageEntry, modules: boolean): Uint8Array {
  const aid = fromHex(p.aid);
  const head = concat(Uint8Array.of(aid.length), aid, Uint8Array.of(p.lifeCycle, 0x00));
  if (!modules) return head;
  const mods = p.modules.map((m) => {
    const a = fromHex(m);
    return concat(Uint8Array.of(a.length), a);
  });
  return concat(head, Uint8Array.of(p.modules.length), ...mods);
}

export function getStatus(ctx: Ctx, cmd: CommandApdu): ResponseApdu {
  requireSecureChannel(ctx);
  const { state, session } = ctx;
  const p1 = cmd.p1;
  if (!getStatusSubsetName(p1) || (cmd.p2 & 0xfc) !== 0) throw new SwError(Sw.WRONG_P1P2, `GET STATUS P1/P2 ${p1.toString(16)}/${cmd.p2.toString(16)}`);
  const next = (cmd.p2 & 0x01) !== 0;
  const format = cmd.p2 & 0x02;
  const whole = seesWholeRegistry(ctx);
  if (p1 === 0x80 && !whole) throw new SwError(Sw.WRONG_P1P2, 'GET STATUS of the ISD needs the ISD or Global Registry');
  if (next) {
    if (p1 === 0x80) throw new SwError(Sw.WRONG_P1P2, 'no next occurrence for the ISD');
    const paging = session.getStatus;
    if (!paging || paging.p1 !== p1 || paging.format !== format) {
      throw new SwError(Sw.CONDITIONS_OF_USE, 'GET STATUS [next] without a matching GET STATUS [first]');
    }
    return page(ctx, paging.pending, p1, format);
  }
  session.getStatus = undefined;
  const parsed = parseGetStatus(cmd);
  const prefix = toHex(parsed.aid);
  const tags = parsed.tagList;
  const scope = whole ? { entries: state.entries, packages: state.packages } : subHierarchy(state, ctx.current.aid);
  const records: Uint8Array[] = [];
  if (p1 === 0x80) {
    const isd = isdOf(state);
    records.push(format ? entryTemplate(state, isd, tags) : legacyEntry(state, isd));
  } else if (p1 === 0x40) {
    for (const e of scope.entries) {
      if (e.kind === 'isd' || !e.aid.startsWith(prefix)) continue;
      records.push(format ? entryTemplate(state, e, tags) : legacyEntry(state, e));
    }
  } else {
    const modules = p1 === 0x10;
    for (const p of scope.packages) {
      if (!p.aid.startsWith(prefix)) continue;
      records.push(format ? packageTemplate(p, modules, tags) : legacyPackage(p, modules));
    }
  }
  if (records.length === 0) throw new SwError(Sw.DATA_NOT_FOUND, 'no registry entry matches');
  return page(ctx, records, p1, format);
}

function page(ctx: Ctx, records: Uint8Array[], p1: number, format: number): ResponseApdu {
  const out: Uint8Array[] = [];
  let size = 0;
  let n = 0;
  while (n < records.length && (n === 0 || size + records[n].length <= GET_STATUS_PAGE)) {
    size += records[n].length;
    out.push(records[n++]);
  }
  const rest = records.slice(n);
  ctx.session.getStatus = rest.length > 0 ? { p1, format, pending: rest } : undefined;
  return { data: concat(...out), sw: rest.length > 0 ? Sw.MORE_DATA : Sw.OK };
}
