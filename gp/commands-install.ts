/**
 * INSTALL (GPCS 2.3.1 §11.5) other than [for load] (see load.ts): [for install], [for make selectable], the
 * combined [for install and make selectable], [for extradition], [for personalization], [for registry update],
 * their LV-coded data fields (Tables 11-43..11-47) and the install parameters C9 / EF (Table 11-49).
 */
import type { CommandApdu } from './apdu.ts';
import { concat, readUint, uint } from './bytes.ts';
import { CommandFormatError, GP_CLA, Ins } from './commands.ts';
import { parseInstallForLoad } from './load.ts';
import { encodePrivileges, type Privilege } from './privileges.ts';
import { encodeLength, findTlv, parseTlv, tlv, TlvError } from './tlv.ts';

/** INSTALL P1 role bits (Table 11-41), in the order the roles are named ('[for install and make selectable]'). */
export const InstallRole = {
  REGISTRY_UPDATE: 0x40,
  PERSONALIZATION: 0x20,
  EXTRADITION: 0x10,
  LOAD: 0x02,
  INSTALL: 0x04,
  MAKE_SELECTABLE: 0x08,
  MORE: 0x80,
} as const;

/** The roles P1 asks for, by name: 'install', 'make selectable' (MORE is not a role). */
export function installRoleNames(p1: number): string[] {
  return Object.entries(InstallRole)
    .filter(([name, bit]) => name !== 'MORE' && (p1 & bit) !== 0)
    .map(([name]) => name.toLowerCase().replace(/_/g, ' '));
}

// ---- install parameters ---------------------------------------------------------------------------------

export interface InstallParameters {
  /** 'C9' value passed to the application (mandatory tag, may be empty). */
  applicationSpecific?: Uint8Array;
  volatileQuota?: number;
  nonVolatileQuota?: number;
  volatileReserved?: number;
  nonVolatileReserved?: number;
  /** 'CB': two-byte global service parameters. */
  globalService?: Uint8Array;
  /** 'CA': TS 102 226 (UICC toolkit) parameters. */
  ts102226?: Uint8Array;
  /** 'CF' implicit selection parameters. */
  implicitSelection?: number[];
  /** 'EA': TS 102 226 template, as raw value. */
  ts102226Template?: Uint8Array;
}

/** Memory amounts: 2 bytes up to 32767, 4 bytes above (§11.5.2.3.7). */
export function encodeMemoryValue(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`memory amount ${n}`);
  return n <= 32767 ? uint(n, 2) : uint(n, 4);
}

/** C9 <application specific> [EF { C8 C7 D8 D7 CB CA CF }] [EA ...]. */
export function encodeInstallParameters(p: InstallParameters = {}): Uint8Array {
  const system: Uint8Array[] = [];
  if (p.nonVolatileQuota !== undefined) system.push(tlv(0xc8, encodeMemoryValue(p.nonVolatileQuota)));
  if (p.volatileQuota !== undefined) system.push(tlv(0xc7, encodeMemoryValue(p.volatileQuota)));
  if (p.nonVolatileReserved !== undefined) system.push(tlv(0xd8, encodeMemoryValue(p.nonVolatileReserved)));
  if (p.volatileReserved !== undefined) system.push(tlv(0xd7, encodeMemoryValue(p.volatileReserved)));
  if (p.globalService) system.push(tlv(0xcb, p.globalService));
  if (p.ts102226) system.push(tlv(0xca, p.ts102226));
  for (const s of p.implicitSelection ?? []) system.push(tlv(0xcf, Uint8Array.of(s)));
  const parts = [tlv(0xc9, p.applicationSpecific ?? new Uint8Array(0))];
  if (system.length > 0) parts.push(tlv(0xef, system));
  if (p.ts102226Template) parts.push(tlv(0xea, p.ts102226Template));
  return concat(...parts);
}

export function parseInstallParameters(data: Uint8Array): InstallParameters {
  let list;
  try {
    list = parseTlv(data);
  } catch (e) {
    if (e instanceof TlvError) throw new CommandFormatError(0x6a80, `install parameters: ${e.message}`);
    throw e;
  }
  const c9 = findTlv(list, 0xc9);
  if (!c9) throw new CommandFormatError(0x6a80, "install parameters without the mandatory 'C9'");
  const out: InstallParameters = { applicationSpecific: c9.value };
  const ef = findTlv(list, 0xef)?.children ?? [];
  const mem = (tag: number): number | undefined => {
    const t = findTlv(ef, tag);
    if (!t) return undefined;
    if (t.value.length !== 2 && t.value.length !== 4) throw new CommandFormatError(0x6a80, `memory parameter ${tag.toString(16).toUpperCase()} of ${t.value.length} bytes`);
    return readUint(t.value);
  };
  const set = <K extends keyof InstallParameters>(k: K, v: InstallParameters[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('nonVolatileQuota', mem(0xc8));
  set('volatileQuota', mem(0xc7));
  set('nonVolatileReserved', mem(0xd8));
  set('volatileReserved', mem(0xd7));
  set('globalService', findTlv(ef, 0xcb)?.value);
  set('ts102226', findTlv(ef, 0xca)?.value);
  const cf = ef.filter((t) => t.tag === 0xcf).map((t) => t.value[0]);
  if (cf.length > 0) out.implicitSelection = cf;
  set('ts102226Template', findTlv(list, 0xea)?.value);
  return out;
}

// ---- builders -------------------------------------------------------------------------------------------

function lv1(v: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(v.length), v);
}

/** BER length then value (the length 128 is coded '80' for backward compatibility, as cards expect). */
function lvBer(v: Uint8Array): Uint8Array {
  return concat(v.length === 0x80 ? Uint8Array.of(0x80) : encodeLength(v.length), v);
}

function aidField(aid: Uint8Array | undefined, what: string, optional: boolean): Uint8Array {
  const a = aid ?? new Uint8Array(0);
  if (!(optional && a.length === 0) && (a.length < 5 || a.length > 16)) throw new RangeError(`${what} must be 5..16 bytes, got ${a.length}`);
  return lv1(a);
}

function privilegeField(p: Uint8Array | readonly (Privilege | string)[] | undefined, allowEmpty: boolean): Uint8Array {
  if (p === undefined) return allowEmpty ? Uint8Array.of(0) : lv1(new Uint8Array(3));
  const bytes = p instanceof Uint8Array ? p : encodePrivileges(p);
  if (bytes.length !== 1 && bytes.length !== 3 && !(allowEmpty && bytes.length === 0)) throw new RangeError(`privileges of ${bytes.length} bytes`);
  return lv1(bytes);
}

function install(p1: number, p2: number, data: Uint8Array): CommandApdu {
  return { cla: GP_CLA, ins: Ins.INSTALL, p1, p2, data, le: 256 };
}

export interface InstallForInstallParams {
  loadFileAid: Uint8Array;
  /** Executable module (applet class) AID. */
  moduleAid: Uint8Array;
  /** Instance AID (default: the module AID). */
  aid?: Uint8Array;
  privileges?: Uint8Array | readonly (Privilege | string)[];
  /** Raw install parameters field, or the structure to encode (default 'C9 00'). */
  parameters?: Uint8Array | InstallParameters;
  token?: Uint8Array;
  /** P1 '0C': install and make selectable (default true). */
  makeSelectable?: boolean;
  /** P2 '03': end of a combined load, install and make selectable. */
  combinedEnd?: boolean;
}

/** INSTALL [for install] (P1 04) or [for install and make selectable] (P1 0C), Table 11-43. */
export function installForInstall(p: InstallForInstallParams): CommandApdu {
  const params = p.parameters instanceof Uint8Array ? p.parameters : encodeInstallParameters(p.parameters);
  const data = concat(
    aidField(p.loadFileAid, 'load file AID', p.combinedEnd ?? false),
    aidField(p.moduleAid, 'module AID', true),
    aidField(p.aid ?? p.moduleAid, 'application AID', false),
    privilegeField(p.privileges, false),
    lvBer(params),
    lvBer(p.token ?? new Uint8Array(0)),
  );
  const p1 = InstallRole.INSTALL | ((p.makeSelectable ?? true) ? InstallRole.MAKE_SELECTABLE : 0);
  return install(p1, p.combinedEnd ? 0x03 : 0x00, data);
}

/** INSTALL [for make selectable] (P1 08), Table 11-44. */
export function installForMakeSelectable(p: { aid: Uint8Array; privileges?: Uint8Array | readonly (Privilege | string)[]; parameters?: Uint8Array; token?: Uint8Array }): CommandApdu {
  const data = concat(
    Uint8Array.of(0, 0),
    aidField(p.aid, 'application AID', false),
    privilegeField(p.privileges, false),
    lvBer(p.parameters ?? new Uint8Array(0)),
    lvBer(p.token ?? new Uint8Array(0)),
  );
  return install(InstallRole.MAKE_SELECTABLE, 0x00, data);
}

/** INSTALL [for extradition] (P1 10), Table 11-45: move an application or load file to `sdAid`. */
export function installForExtradition(p: { sdAid: Uint8Array; aid: Uint8Array; parameters?: Uint8Array; token?: Uint8Array }): CommandApdu {
  const data = concat(
    aidField(p.sdAid, 'security domain AID', false),
    Uint8Array.of(0),
    aidField(p.aid, 'application or load file AID', false),
    Uint8Array.of(0),
    lvBer(p.parameters ?? new Uint8Array(0)),
    lvBer(p.token ?? new Uint8Array(0)),
  );
  return install(InstallRole.EXTRADITION, 0x00, data);
}

/** INSTALL [for personalization] (P1 20), Table 11-47: the following STORE DATA go to `aid`. */
export function installForPersonalization(aid: Uint8Array): CommandApdu {
  return install(InstallRole.PERSONALIZATION, 0x00, concat(Uint8Array.of(0, 0), aidField(aid, 'application AID', false), Uint8Array.of(0, 0, 0)));
}

/** INSTALL [for registry update] (P1 40), Table 11-46. */
export function installForRegistryUpdate(p: { sdAid?: Uint8Array; aid?: Uint8Array; privileges?: Uint8Array | readonly (Privilege | string)[]; parameters?: Uint8Array; token?: Uint8Array }): CommandApdu {
  const data = concat(
    aidField(p.sdAid, 'security domain AID', true),
    Uint8Array.of(0),
    aidField(p.aid, 'application AID', true),
    privilegeField(p.privileges, true),
    lvBer(p.parameters ?? new Uint8Array(0)),
    lvBer(p.token ?? new Uint8Array(0)),
  );
  return install(InstallRole.REGISTRY_UPDATE, 0x00, data);
}

// ---- parser ---------------------------------------------------------------------------------------------

export type InstallCommand =
  | { kind: 'load'; loadFileAid: Uint8Array; sdAid: Uint8Array; hash: Uint8Array; parameters: Uint8Array; token: Uint8Array }
  | {
      kind: 'install';
      makeSelectable: boolean;
      loadFileAid: Uint8Array;
      moduleAid: Uint8Array;
      aid: Uint8Array;
      privileges: Uint8Array;
      parameters: Uint8Array;
      token: Uint8Array;
    }
  | { kind: 'make-selectable'; aid: Uint8Array; privileges: Uint8Array; parameters: Uint8Array; token: Uint8Array }
  | { kind: 'extradition'; sdAid: Uint8Array; aid: Uint8Array; parameters: Uint8Array; token: Uint8Array }
  | { kind: 'personalization'; aid: Uint8Array }
  | { kind: 'registry-update'; sdAid: Uint8Array; aid: Uint8Array; privileges: Uint8Array; parameters: Uint8Array; token: Uint8Array };

class Reader {
  i = 0;
  constructor(private readonly data: Uint8Array) {}
  private fail(what: string): never {
    throw new CommandFormatError(0x6a80, `INSTALL data: ${what} at offset ${this.i}`);
  }
  lv1(what: string, allowed?: (n: number) => boolean): Uint8Array {
    if (this.i >= this.data.length) this.fail(`missing length of ${what}`);
    const n = this.data[this.i];
    if (allowed && !allowed(n)) this.fail(`${what} of ${n} bytes`);
    this.i++;
    return this.take(n, what);
  }
  lvBer(what: string): Uint8Array {
    if (this.i >= this.data.length) this.fail(`missing length of ${what}`);
    let n = this.data[this.i++];
    if (n > 0x80) {
      const k = n & 0x7f;
      if (k > 2 || this.i + k > this.data.length) this.fail(`bad length of ${what}`);
      n = 0;
      for (let j = 0; j < k; j++) n = n * 256 + this.data[this.i++];
    }
    return this.take(n, what);
  }
  take(n: number, what: string): Uint8Array {
    if (this.i + n > this.data.length) this.fail(`${what} runs past the end`);
    this.i += n;
    return this.data.slice(this.i - n, this.i);
  }
  zero(what: string): void {
    const v = this.lv1(what);
    if (v.length !== 0) this.fail(`${what} must be empty`);
  }
  end(): void {
    if (this.i !== this.data.length) this.fail(`${this.data.length - this.i} trailing bytes`);
  }
}

const aid = (n: number) => n >= 5 && n <= 16;
const aidOrEmpty = (n: number) => n === 0 || aid(n);
const privLen = (n: number) => n === 1 || n === 3;

/** Card side: splits an INSTALL command by its role (P1 b8 "more commands" must be reassembled first). */
export function parseInstall(cmd: CommandApdu): InstallCommand {
  const data = cmd.data ?? new Uint8Array(0);
  let role = cmd.p1 & 0x7f;
  const r = new Reader(data);
  if (role === (InstallRole.LOAD | InstallRole.INSTALL | InstallRole.MAKE_SELECTABLE)) {
    // Combined load, install and make selectable: P2 '01' carries the [for load] layout, P2 '03' the [for install] one.
    if (cmd.p2 === 0x01) return parseInstall({ ...cmd, p1: InstallRole.LOAD, p2: 0x00 });
    if (cmd.p2 !== 0x03) throw new CommandFormatError(0x6a86, `combined INSTALL with P2 ${cmd.p2.toString(16)}: '01' or '03'`);
    role = InstallRole.INSTALL | InstallRole.MAKE_SELECTABLE;
  }
  switch (role) {
    case InstallRole.LOAD: {
      const res = parseInstallForLoad(data);
      if (!res.ok) throw new CommandFormatError(0x6a80, `INSTALL [for load]: ${res.reason}`);
      const p = res.params;
      return { kind: 'load', loadFileAid: p.loadFileAid, sdAid: p.securityDomainAid, hash: p.hash, parameters: p.loadParameters, token: p.loadToken };
    }
    case InstallRole.INSTALL:
    case InstallRole.INSTALL | InstallRole.MAKE_SELECTABLE: {
      const out = {
        kind: 'install' as const,
        makeSelectable: (role & InstallRole.MAKE_SELECTABLE) !== 0,
        loadFileAid: r.lv1('load file AID', aidOrEmpty),
        moduleAid: r.lv1('module AID', aidOrEmpty),
        aid: r.lv1('application AID', aid),
        privileges: r.lv1('privileges', privLen),
        parameters: r.lvBer('install parameters'),
        token: r.lvBer('install token'),
      };
      r.end();
      return out;
    }
    case InstallRole.MAKE_SELECTABLE: {
      r.zero('first data');
      r.zero('second data');
      const out = {
        kind: 'make-selectable' as const,
        aid: r.lv1('application AID', aid),
        privileges: r.lv1('privileges', (n) => n === 0 || privLen(n)),
        parameters: r.lvBer('make selectable parameters'),
        token: r.lvBer('make selectable token'),
      };
      r.end();
      return out;
    }
    case InstallRole.EXTRADITION: {
      const sdAid = r.lv1('security domain AID', aid);
      r.zero('data');
      const target = r.lv1('application or load file AID', aid);
      r.zero('data');
      const out = { kind: 'extradition' as const, sdAid, aid: target, parameters: r.lvBer('extradition parameters'), token: r.lvBer('extradition token') };
      r.end();
      return out;
    }
    case InstallRole.PERSONALIZATION: {
      r.zero('first data');
      r.zero('second data');
      const target = r.lv1('application AID', aid);
      // Some hosts send fewer trailing zero-length fields; each present one must be empty.
      while (r.i < data.length) r.zero('trailing data');
      return { kind: 'personalization', aid: target };
    }
    case InstallRole.REGISTRY_UPDATE: {
      const sdAid = r.lv1('security domain AID', aidOrEmpty);
      r.zero('data');
      const out = {
        kind: 'registry-update' as const,
        sdAid,
        aid: r.lv1('application AID', aidOrEmpty),
        privileges: r.lv1('privileges', (n) => n === 0 || privLen(n)),
        parameters: r.lvBer('registry update parameters'),
        token: r.lvBer('registry update token'),
      };
      r.end();
      return out;
    }
    default:
      throw new CommandFormatError(0x6a86, `INSTALL P1 ${cmd.p1.toString(16).toUpperCase()}: no such role combination`);
  }
}
