/**
 * INSTALL (GPCS 2.3.1 §11.5, processes §9.3-§9.4): [for install], [for make selectable], both combined,
 * [for extradition], [for personalization], [for registry update]; [for load] is in cmd-load.ts. The combined
 * [for load, install and make selectable] (P2 01/03) is not supported (6A86). Tokens are not verified, so a
 * command carrying one is refused (6A80), as GP requires when no token is expected.
 */
import { type CommandApdu, type InstallCommand, type ResponseApdu, TlvError, type Tlv, findTlv, parseInstall, parseInstallParameters, parseTlv, toHex, type Privilege, decodePrivileges, hasPrivilege, privilegeProblem } from '../gp/index.ts';
import { owns, requireCardNotLocked, requireContentManager, requireSecureChannel } from './authz.ts';
import { newEntry } from './build.ts';
import { installForLoad } from './cmd-load.ts';
import { SwError, Sw } from './errors.ts';
import { Footprint, allocate, requireAvailable } from './memory.ts';
import { findEntry, findPackage, has, isUnder } from './registry.ts';
import type { Ctx } from './session.ts';
import { type CardEntry, AppLife, isLocked } from './state.ts';

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
  const role = cmd.p1 & 0x7f;
  if (![0x02, 0x04, 0x0c, 0x08, 0x10, 0x20, 0x40].includes(role)) throw new SwError(Sw.WRONG_P1P2, `INSTALL P1 ${cmd.p1.toString(16)} not supported`);
  // Security first: a malformed command from an unauthenticated host learns nothing about its format.
  if (role === 0x20) {
    requireSecureChannel(ctx);
    requireCardNotLocked(ctx);
  } else requireContentManager(ctx);
  if (role === 0x02) return installForLoad(ctx, cmd.data ?? new Uint8Array(0));
  const parsed = parseInstall(cmd);
  switch (parsed.kind) {
    case 'install':
      return forInstall(ctx, parsed);
    case 'make-selectable':
      return forMakeSelectable(ctx, parsed);
    case 'extradition':
      noToken(parsed.token);
      systemParameters(parsed.parameters, 'extradition parameters');
      extradite(ctx, toHex(parsed.aid), toHex(parsed.sdAid));
      return DONE;
    case 'personalization':
      return forPersonalization(ctx, toHex(parsed.aid));
    case 'registry-update':
      return forRegistryUpdate(ctx, parsed);
    default:
      throw new SwError(Sw.WRONG_P1P2, `INSTALL P1 ${cmd.p1.toString(16)} not supported`);
  }
}

/** The 'EF' system parameters of a parameters field ('6A80' when it is not BER-TLV). */
function systemParameters(bytes: Uint8Array, what: string): Tlv[] {
  try {
    return findTlv(parseTlv(bytes), 0xef)?.children ?? [];
  } catch (e) {
    if (e instanceof TlvError) throw new SwError(Sw.WRONG_DATA, `${what}: ${e.message}`);
    throw e;
  }
}

function implicitSelection(bytes: Uint8Array, what: string): number[] {
  return systemParameters(bytes, what)
    .filter((t) => t.tag === 0xcf)
    .map((t) => t.value[0] ?? 0);
}

function noToken(token: Uint8Array): void {
  if (token.length > 0) throw new SwError(Sw.WRONG_DATA, 'token present but not expected (no Delegated Management)');
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

type Parsed<K extends InstallCommand['kind']> = Extract<InstallCommand, { kind: K }>;

function forInstall(ctx: Ctx, p: Parsed<'install'>): ResponseApdu {
  noToken(p.token);
  const { state } = ctx;
  const elfAid = toHex(p.loadFileAid);
  const moduleAid = toHex(p.moduleAid);
  const appAid = toHex(p.aid);
  const makeSelectable = p.makeSelectable;
  if (!elfAid || !moduleAid) throw new SwError(Sw.WRONG_DATA, 'load file and module AIDs are required');
  const pkg = findPackage(state, elfAid);
  if (!pkg) throw new SwError(Sw.DATA_NOT_FOUND, `no executable load file ${elfAid}`);
  if (!pkg.modules.includes(moduleAid)) throw new SwError(Sw.DATA_NOT_FOUND, `no module ${moduleAid} in ${elfAid}`);
  if (findEntry(state, appAid) || findPackage(state, appAid)) throw new SwError(Sw.WRONG_DATA, `AID ${appAid} already registered`);
  const privileges = checkPrivileges(ctx, p.privileges);
  if (!makeSelectable && hasPrivilege(privileges, 'card-reset')) throw new SwError(Sw.WRONG_DATA, 'Card Reset needs make selectable');
  const params = parseInstallParameters(p.parameters);
  const vQuota = params.volatileQuota;
  const nvQuota = params.nonVolatileQuota;
  const vReserved = params.volatileReserved ?? 0;
  const nvReserved = params.nonVolatileReserved ?? 0;
  if ((nvQuota !== undefined && nvReserved > nvQuota) || (vQuota !== undefined && vReserved > vQuota)) {
    throw new SwError(Sw.WRONG_DATA, 'reserved memory above the quota');
  }
  const implicit = makeSelectable ? (params.implicitSelection ?? []) : [];
  const c9 = params.applicationSpecific ?? new Uint8Array(0);
  const sd = hasPrivilege(privileges, 'security-domain');
  requireAvailable(state, nvReserved, vReserved);
  const entry: CardEntry = newEntry({
    aid: appAid,
    kind: sd ? 'sd' : 'app',
    lifeCycle: makeSelectable ? AppLife.SELECTABLE : AppLife.INSTALLED,
    privileges: toHex(privileges),
    sd: ctx.current.aid,
    packageAid: pkg.aid,
    moduleAid,
    installParams: toHex(c9),
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

function forMakeSelectable(ctx: Ctx, p: Parsed<'make-selectable'>): ResponseApdu {
  noToken(p.token);
  const appAid = toHex(p.aid);
  const entry = findEntry(ctx.state, appAid);
  if (!entry || entry.kind === 'isd') throw new SwError(Sw.DATA_NOT_FOUND, `no application ${appAid}`);
  if (!owns(ctx, entry)) throw new SwError(Sw.CONDITIONS_OF_USE, `${appAid} is not under ${ctx.current.aid}`);
  if (entry.lifeCycle !== AppLife.INSTALLED) throw new SwError(Sw.CONDITIONS_OF_USE, `${appAid} is not INSTALLED`);
  entry.implicitSelection.push(...implicitSelection(p.parameters, 'make selectable parameters'));
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

function forPersonalization(ctx: Ctx, appAid: string): ResponseApdu {
  const entry = findEntry(ctx.state, appAid);
  if (!entry || entry.kind === 'isd') throw new SwError(Sw.DATA_NOT_FOUND, `no application ${appAid}`);
  if (entry.sd !== ctx.current.aid) throw new SwError(Sw.CONDITIONS_OF_USE, `${appAid} is not associated with ${ctx.current.aid}`);
  if (isLocked(entry.lifeCycle)) throw new SwError(Sw.CONDITIONS_OF_USE, `${appAid} is LOCKED`);
  ctx.session.perso = { target: entry.aid };
  ctx.session.storeBlock = 0;
  return DONE;
}

/** Registry update (§9.4.2): privileges of an application and/or its extradition; OPEN restrictions are refused. */
function forRegistryUpdate(ctx: Ctx, p: Parsed<'registry-update'>): ResponseApdu {
  noToken(p.token);
  const toAid = toHex(p.sdAid);
  const appAid = toHex(p.aid);
  const rawPriv = p.privileges;
  const sys = systemParameters(p.parameters, 'registry update parameters');
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
