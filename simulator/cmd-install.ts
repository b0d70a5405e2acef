/**
 * INSTALL (GPCS 2.3.1 §11.5, processes §9.3-§9.4): [for install], [for make selectable], both combined,
 * [for extradition], [for personalization], [for registry update]; [for load] is in cmd-load.ts. The combined
 * [for load, install and make selectable] (P2 01/03) is not supported (6A86). Tokens are not verified, so a
 * command carrying one is refused (6A80), as GP requires when no token is expected.
 */
import { type CommandApdu, type ResponseApdu, TlvError, type Tlv, findTlv, parseTlv, readUint, toHex } from '../gp/index.ts';
import { owns, requireCardNotLocked, requireContentManager, requireSecureChannel } from './authz.ts';
import { newEntry } from './build.ts';
import { installForLoad } from './cmd-load.ts';
import { SwError, Sw } from './errors.ts';
import { LvReader } from './lv.ts';
import { Footprint, allocate, requireAvailable } from './memory.ts';
import { type Privilege, decodePrivileges, hasPrivilege, privilegeProblem } from '../gp/privileges.ts';
import { findEntry, findPackage, has, isUnder } from './registry.ts';
import type { Ctx } from './session.ts';
import { type RegistryEntry, AppLife, isLocked } from './state.ts';

const DONE: ResponseApdu = { data: Uint8Array.of(0x00), sw: Sw.OK };

/** Privileges only an SD that holds them may grant (keeps an AM SD from minting a more powerful SD). */
const GUARDED: Privilege[] = [
  'authorized-management',
  'global-delete',
  'global-lock',
  'global-registry',
  'card-lock',
  'card-terminate',
  'token-management',
  'receipt-generation',
  'final-application',
  'card-reset',
];

export function install(ctx: Ctx, cmd: CommandApdu): ResponseApdu {
  if (cmd.p2 !== 0x00) throw new SwError(Sw.WRONG_P1P2, 'combined load, install and make selectable is not supported');
  const data = cmd.data ?? new Uint8Array(0);
  switch (cmd.p1 & 0x7f) {
    case 0x02:
      return installForLoad(ctx, data);
    case 0x04:
      return forInstall(ctx, data, false);
    case 0x0c:
      return forInstall(ctx, data, true);
    case 0x08:
      return forMakeSelectable(ctx, data);
    case 0x10:
      return forExtradition(ctx, data);
    case 0x20:
      return forPersonalization(ctx, data);
    case 0x40:
      return forRegistryUpdate(ctx, data);
    default:
      throw new SwError(Sw.WRONG_P1P2, `INSTALL P1 ${cmd.p1.toString(16)} not supported`);
  }
}

function parseParams(bytes: Uint8Array, what: string): Tlv[] {
  try {
    return parseTlv(bytes);
  } catch (e) {
    if (e instanceof TlvError) throw new SwError(Sw.WRONG_DATA, `${what}: ${e.message}`);
    throw e;
  }
}

function noToken(token: Uint8Array): void {
  if (token.length > 0) throw new SwError(Sw.WRONG_DATA, 'token present but not expected (no Delegated Management)');
}

/** Memory parameter coded on 2 or 4 bytes (§11.5.2.3.7). */
function memoryParam(t: Tlv | undefined, what: string): number | undefined {
  if (!t) return undefined;
  if (t.value.length !== 2 && t.value.length !== 4) throw new SwError(Sw.WRONG_DATA, `${what} must be 2 or 4 bytes`);
  return readUint(t.value);
}

/** Expands 1-byte privileges with the §6.6.2 defaults and checks the combinations Table 6-1 forbids. */
export function checkPrivileges(ctx: Ctx, raw: Uint8Array): Uint8Array {
  const p = new Uint8Array(3);
  p.set(raw.subarray(0, 3));
  const problem = privilegeProblem(raw);
  if (problem) throw new SwError(Sw.WRONG_DATA, problem);
  const is = (n: Privilege) => hasPrivilege(p, n);
  if (raw.length === 1 && is('security-domain')) p[1] |= 0x80; // Trusted Path defaults on for SDs
  if (is('authorized-management') && !is('security-domain')) throw new SwError(Sw.WRONG_DATA, 'Authorized Management needs the Security Domain privilege');
  if (is('delegated-management') && (is('authorized-management') || is('token-management') || is('receipt-generation'))) {
    throw new SwError(Sw.WRONG_DATA, 'Delegated Management excludes Authorized Management, Token Verification and Receipt Generation');
  }
  for (const n of decodePrivileges(p)) {
    if (GUARDED.includes(n) && !has(ctx.current, n)) throw new SwError(Sw.CONDITIONS_OF_USE, `${ctx.current.aid} cannot grant ${n}`);
  }
  return p;
}

function forInstall(ctx: Ctx, data: Uint8Array, makeSelectable: boolean): ResponseApdu {
  requireContentManager(ctx);
  const r = new LvReader(data);
  const elfAid = toHex(r.aid('executable load file AID', true));
  const moduleAid = toHex(r.aid('executable module AID', true));
  const appAid = toHex(r.aid('application AID'));
  const rawPriv = r.short('privileges', (n) => n === 1 || n === 3);
  const params = r.long('install parameters');
  const token = r.long('install token');
  r.end('INSTALL [for install]');
  noToken(token);
  const { state } = ctx;
  if (!elfAid || !moduleAid) throw new SwError(Sw.WRONG_DATA, 'load file and module AIDs are required');
  const pkg = findPackage(state, elfAid);
  if (!pkg) throw new SwError(Sw.DATA_NOT_FOUND, `no executable load file ${elfAid}`);
  if (!pkg.modules.includes(moduleAid)) throw new SwError(Sw.DATA_NOT_FOUND, `no module ${moduleAid} in ${elfAid}`);
  if (findEntry(state, appAid) || findPackage(state, appAid)) throw new SwError(Sw.WRONG_DATA, `AID ${appAid} already registered`);
  const privileges = checkPrivileges(ctx, rawPriv);
  if (!makeSelectable && hasPrivilege(privileges, 'card-reset')) throw new SwError(Sw.WRONG_DATA, 'Card Reset needs make selectable');
  const tlvs = parseParams(params, 'install parameters');
  const c9 = findTlv(tlvs, 0xc9);
  if (!c9) throw new SwError(Sw.WRONG_DATA, "install parameters lack 'C9'");
  const ef = findTlv(tlvs, 0xef);
  const sys = ef?.children ?? [];
  const vQuota = memoryParam(findTlv(sys, 0xc7), 'volatile quota C7');
  const nvQuota = memoryParam(findTlv(sys, 0xc8), 'non-volatile quota C8');
  const vReserved = memoryParam(findTlv(sys, 0xd7), 'volatile reserved D7') ?? 0;
  const nvReserved = memoryParam(findTlv(sys, 0xd8), 'non-volatile reserved D8') ?? 0;
  if ((nvQuota !== undefined && nvReserved > nvQuota) || (vQuota !== undefined && vReserved > vQuota)) {
    throw new SwError(Sw.WRONG_DATA, 'reserved memory above the quota');
  }
  const implicit = makeSelectable ? sys.filter((t) => t.tag === 0xcf).map((t) => t.value[0] ?? 0) : [];
  const sd = hasPrivilege(privileges, 'security-domain');
  requireAvailable(state, nvReserved, vReserved);
  const entry: RegistryEntry = newEntry({
    aid: appAid,
    kind: sd ? 'sd' : 'app',
    lifeCycle: makeSelectable ? AppLife.SELECTABLE : AppLife.INSTALLED,
    privileges: toHex(privileges),
    sd: ctx.current.aid,
    packageAid: pkg.aid,
    moduleAid,
    installParams: toHex(c9.value),
    implicitSelection: implicit,
    nv: { allocated: 0, reserved: nvReserved, quota: nvQuota },
    volatile: { allocated: 0, reserved: vReserved, quota: vQuota },
  });
  state.entries.push(entry);
  allocate(state, entry, 'nv', sd ? Footprint.sdNonVolatile : Footprint.appNonVolatile);
  allocate(state, entry, 'volatile', sd ? Footprint.sdVolatile : Footprint.appVolatile);
  if (sd) {
    // A new SD starts with a copy of the key set its installer authenticated with, so the installer can open
    // it and PUT KEY the keys it is meant to have (its own, or temporary keys for a service provider).
    const kvn = ctx.session.channel?.sc.kvn;
    const ks = ctx.current.keySets.find((k) => k.kvn === kvn) ?? ctx.current.keySets[0];
    if (ks) {
      entry.keySets.push({ ...structuredClone(ks), sequenceCounter: 0 });
      allocate(state, entry, 'nv', Footprint.keySet);
    }
  }
  return DONE;
}

function forMakeSelectable(ctx: Ctx, data: Uint8Array): ResponseApdu {
  requireContentManager(ctx);
  const r = new LvReader(data);
  r.short('load file AID', (n) => n === 0);
  r.short('module AID', (n) => n === 0);
  const appAid = toHex(r.aid('application AID'));
  r.short('privileges', (n) => n === 1 || n === 3);
  const params = r.long('make selectable parameters');
  const token = r.long('make selectable token');
  r.end('INSTALL [for make selectable]');
  noToken(token);
  const entry = findEntry(ctx.state, appAid);
  if (!entry || entry.kind === 'isd') throw new SwError(Sw.DATA_NOT_FOUND, `no application ${appAid}`);
  if (!owns(ctx, entry)) throw new SwError(Sw.CONDITIONS_OF_USE, `${appAid} is not under ${ctx.current.aid}`);
  if (entry.lifeCycle !== AppLife.INSTALLED) throw new SwError(Sw.CONDITIONS_OF_USE, `${appAid} is not INSTALLED`);
  const sys = findTlv(parseParams(params, 'make selectable parameters'), 0xef)?.children ?? [];
  entry.implicitSelection.push(...sys.filter((t) => t.tag === 0xcf).map((t) => t.value[0] ?? 0));
  entry.lifeCycle = AppLife.SELECTABLE;
  return DONE;
}

/** Moves `objAid` (application, SD or load file) to SD `toAid` after the §9.4.1 checks. */
export function extradite(ctx: Ctx, objAid: string, toAid: string): void {
  const { state } = ctx;
  const to = findEntry(state, toAid);
  if (!to) throw new SwError(Sw.DATA_NOT_FOUND, `no security domain ${toAid}`);
  if (to.kind === 'app') throw new SwError(Sw.WRONG_DATA, `${toAid} is not a security domain`);
  if (to.kind === 'sd' && to.lifeCycle !== AppLife.PERSONALIZED) {
    throw new SwError(Sw.CONDITIONS_OF_USE, `${toAid} is not PERSONALIZED (or is LOCKED)`);
  }
  const entry = findEntry(state, objAid);
  const pkg = entry ? undefined : findPackage(state, objAid);
  const obj = entry ?? pkg;
  if (!obj) throw new SwError(Sw.DATA_NOT_FOUND, `no application or load file ${objAid}`);
  if (entry?.kind === 'isd') throw new SwError(Sw.CONDITIONS_OF_USE, 'the ISD cannot be extradited');
  if (!owns(ctx, obj)) throw new SwError(Sw.CONDITIONS_OF_USE, `${objAid} is not under ${ctx.current.aid}`);
  const from = findEntry(state, obj.sd);
  if (from && from.kind === 'sd' && isLocked(from.lifeCycle)) throw new SwError(Sw.CONDITIONS_OF_USE, `${from.aid} is LOCKED`);
  if (entry && entry.kind === 'sd' && (toAid === entry.aid || isUnder(state, to, entry.aid))) {
    throw new SwError(Sw.CONDITIONS_OF_USE, `${toAid} is inside ${entry.aid}: the hierarchy would loop`);
  }
  if (pkg && (has(to, 'dap-verification') || has(to, 'mandated-dap-verification'))) throw new SwError(Sw.CONDITIONS_OF_USE, 'load files cannot go to an SD with DAP Verification');
  obj.sd = to.aid;
}

function forExtradition(ctx: Ctx, data: Uint8Array): ResponseApdu {
  requireContentManager(ctx);
  const r = new LvReader(data);
  const toAid = toHex(r.aid('security domain AID'));
  r.short('data', (n) => n === 0);
  const objAid = toHex(r.aid('application or load file AID'));
  r.short('data', (n) => n === 0);
  parseParams(r.long('extradition parameters'), 'extradition parameters');
  const token = r.long('extradition token');
  r.end('INSTALL [for extradition]');
  noToken(token);
  extradite(ctx, objAid, toAid);
  return DONE;
}

function forPersonalization(ctx: Ctx, data: Uint8Array): ResponseApdu {
  requireSecureChannel(ctx);
  requireCardNotLocked(ctx);
  const r = new LvReader(data);
  r.short('data', (n) => n === 0);
  r.short('data', (n) => n === 0);
  const appAid = toHex(r.aid('application AID'));
  // Three empty LV fields follow; some hosts send fewer — accept trailing zero lengths only.
  const rest = data.subarray(2 + 1 + appAid.length / 2);
  if (rest.some((b) => b !== 0)) throw new SwError(Sw.WRONG_DATA, 'INSTALL [for personalization]: unexpected fields after the AID');
  const entry = findEntry(ctx.state, appAid);
  if (!entry || entry.kind === 'isd') throw new SwError(Sw.DATA_NOT_FOUND, `no application ${appAid}`);
  if (entry.sd !== ctx.current.aid) throw new SwError(Sw.CONDITIONS_OF_USE, `${appAid} is not associated with ${ctx.current.aid}`);
  if (isLocked(entry.lifeCycle)) throw new SwError(Sw.CONDITIONS_OF_USE, `${appAid} is LOCKED`);
  ctx.session.perso = { target: entry.aid };
  ctx.session.storeBlock = 0;
  return DONE;
}

/** Registry update (§9.4.2): privileges of an application and/or its extradition; OPEN restrictions are refused. */
function forRegistryUpdate(ctx: Ctx, data: Uint8Array): ResponseApdu {
  requireContentManager(ctx);
  const r = new LvReader(data);
  const toAid = toHex(r.aid('security domain AID', true));
  r.short('data', (n) => n === 0);
  const appAid = toHex(r.aid('application AID', true));
  const rawPriv = r.short('privileges', (n) => n === 0 || n === 1 || n === 3);
  const params = parseParams(r.long('registry update parameters'), 'registry update parameters');
  const token = r.long('registry update token');
  r.end('INSTALL [for registry update]');
  noToken(token);
  const sys = findTlv(params, 0xef)?.children ?? [];
  if (!appAid || findTlv(sys, 0xd9)) throw new SwError(Sw.WRONG_DATA, 'restricting OPEN or SD functions is not supported');
  const entry = findEntry(ctx.state, appAid);
  if (!entry || entry.kind === 'isd') throw new SwError(Sw.DATA_NOT_FOUND, `no application ${appAid}`);
  if (!owns(ctx, entry)) throw new SwError(Sw.CONDITIONS_OF_USE, `${appAid} is not under ${ctx.current.aid}`);
  if (rawPriv.length > 0) {
    const p = checkPrivileges(ctx, rawPriv);
    if (hasPrivilege(p, 'security-domain') !== (entry.kind === 'sd')) {
      throw new SwError(Sw.WRONG_DATA, 'the Security Domain privilege cannot change');
    }
    entry.privileges = toHex(p);
  }
  entry.implicitSelection.push(...sys.filter((t) => t.tag === 0xcf).map((t) => t.value[0] ?? 0));
  if (toAid) extradite(ctx, appAid, toAid);
  return DONE;
}
