/**
 * GET STATUS (GPCS 2.3.1 §11.4): ISD ('80'), applications and SDs ('40'), load files ('20'), load files and
 * their modules ('10'); P2 '02' answers GlobalPlatform Registry Data ('E3' templates, Tables 11-36/37, with an
 * optional '5C' tag list), P2 '00' the older fixed format. Responses fit one short APDU with room for secure
 * messaging; the rest is kept for GET STATUS [next occurrence] and announced with 6310.
 */
import { type CommandApdu, type ResponseApdu, concat, fromHex, getStatusSubsetName, parseGetStatus, toHex, type RegistryEntry as GpRegistryEntry, encodeLegacyEntry, encodeRegistryEntry } from '../gp/index.ts';
import { requireSecureChannel, seesWholeRegistry } from './authz.ts';
import { SwError, Sw } from './errors.ts';
import { isdOf, lifeCycleOf, subHierarchy } from './registry.ts';
import type { Ctx } from './session.ts';
import type { CardState, PackageEntry, CardEntry } from './state.ts';

/** Data bytes per GET STATUS page: 256 less an R-MAC (8) and R-ENCRYPTION padding (up to 16). */
export const GET_STATUS_PAGE = 232;

function entryOf(state: CardState, e: CardEntry): GpRegistryEntry {
  const out: GpRegistryEntry = {
    aid: fromHex(e.aid),
    lifeCycle: lifeCycleOf(state, e),
    privileges: fromHex(e.privileges),
    sdAid: fromHex(e.sd),
  };
  if (e.implicitSelection.length > 0) out.implicitSelection = [...e.implicitSelection];
  if (e.packageAid) out.loadFileAid = fromHex(e.packageAid);
  return out;
}

function packageOf(p: PackageEntry, modules: boolean): GpRegistryEntry {
  const out: GpRegistryEntry = { aid: fromHex(p.aid), lifeCycle: p.lifeCycle, sdAid: fromHex(p.sd) };
  if (p.version) out.version = fromHex(p.version);
  if (modules) out.modules = p.modules.map((m) => fromHex(m));
  return out;
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
  let entries: GpRegistryEntry[];
  if (p1 === 0x80) entries = [entryOf(state, isdOf(state))];
  else if (p1 === 0x40) entries = scope.entries.filter((e) => e.kind !== 'isd' && e.aid.startsWith(prefix)).map((e) => entryOf(state, e));
  else entries = scope.packages.filter((p) => p.aid.startsWith(prefix)).map((p) => packageOf(p, p1 === 0x10));
  const records = entries.map((e) => (format ? encodeRegistryEntry(e, tags) : encodeLegacyEntry(e, parsed.subset)));
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
