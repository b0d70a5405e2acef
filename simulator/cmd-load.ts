/**
 * INSTALL [for load] and LOAD (GPCS 2.3.1 §9.3.5, §11.5.2.3.1, §11.6). The LOAD blocks are collected by gp's
 * LoadReceiver (numbering, 'C4' structure, hash check, package AID = load file AID); the resulting package is
 * registered under the SD named in INSTALL [for load] (the acting SD when empty), occupying the size of its
 * Load File Data Block. The Minimum Memory requirements ('C6'+'C8', 'C7') must be available at INSTALL time.
 */
import { createHash } from 'node:crypto';
import { type CommandApdu, type ResponseApdu, TlvError, findTlv, parseTlv, readUint, toHex, LoadReceiver, parseInstallForLoad } from '../gp/index.ts';
import { owns, requireContentManager } from './authz.ts';
import { SwError, Sw } from './errors.ts';
import { freeNonVolatile, requireAvailable } from './memory.ts';
import { findEntry, findPackage, has } from './registry.ts';
import type { Ctx } from './session.ts';
import { AppLife, LOADED } from './state.ts';

const DONE: ResponseApdu = { data: Uint8Array.of(0x00), sw: Sw.OK };

export function installForLoad(ctx: Ctx, data: Uint8Array): ResponseApdu {
  requireContentManager(ctx);
  ctx.session.load = undefined;
  const parsed = parseInstallForLoad(data);
  if (!parsed.ok) throw new SwError(Sw.WRONG_DATA, `INSTALL [for load]: ${parsed.reason}`);
  const p = parsed.params;
  if (p.loadToken.length > 0) throw new SwError(Sw.WRONG_DATA, 'load token present but not expected');
  const { state } = ctx;
  const aid = toHex(p.loadFileAid);
  if (findPackage(state, aid) || findEntry(state, aid)) throw new SwError(Sw.WRONG_DATA, `AID ${aid} already registered`);
  const sdAid = p.securityDomainAid.length > 0 ? toHex(p.securityDomainAid) : ctx.current.aid;
  const sd = findEntry(state, sdAid);
  if (!sd || sd.kind === 'app') throw new SwError(Sw.DATA_NOT_FOUND, `no security domain ${sdAid}`);
  if (sd.aid !== ctx.current.aid && !owns(ctx, sd)) throw new SwError(Sw.CONDITIONS_OF_USE, `${sdAid} is not under ${ctx.current.aid}`);
  if (sd.kind === 'sd' && sd.lifeCycle !== AppLife.PERSONALIZED) throw new SwError(Sw.CONDITIONS_OF_USE, `${sdAid} is not PERSONALIZED`);
  if (has(sd, 'ciphered-load-file-data-block')) throw new SwError(Sw.CONDITIONS_OF_USE, `${sdAid} requires ciphered load files`);
  let minNv = 0;
  let minV = 0;
  try {
    const sys = findTlv(parseTlv(p.loadParameters), 0xef)?.children ?? [];
    const num = (tag: number) => {
      const t = findTlv(sys, tag);
      if (!t) return 0;
      if (t.value.length !== 2 && t.value.length !== 4) throw new SwError(Sw.WRONG_DATA, `load parameter ${tag.toString(16)} must be 2 or 4 bytes`);
      return readUint(t.value);
    };
    minNv = num(0xc6) + num(0xc8);
    minV = num(0xc7);
  } catch (e) {
    if (e instanceof TlvError) throw new SwError(Sw.WRONG_DATA, `load parameters: ${e.message}`);
    throw e;
  }
  requireAvailable(state, minNv, minV);
  ctx.session.load = { receiver: new LoadReceiver(p, { maxLoadFileSize: freeNonVolatile(state) }), sd: sd.aid, minNv, minV };
  return DONE;
}

export function load(ctx: Ctx, cmd: CommandApdu): ResponseApdu {
  requireContentManager(ctx);
  const session = ctx.session;
  const pending = session.load;
  if (!pending) throw new SwError(Sw.CONDITIONS_OF_USE, 'LOAD without INSTALL [for load]');
  const step = pending.receiver.accept(cmd);
  if (step.status === 'error') {
    session.load = undefined;
    throw new SwError(step.sw, step.reason);
  }
  if (step.status === 'more') return DONE;
  session.load = undefined;
  const { state } = ctx;
  const aid = toHex(step.package.packageAid);
  if (findPackage(state, aid)) throw new SwError(Sw.WRONG_DATA, `package ${aid} already loaded`);
  requireAvailable(state, Math.max(step.lfdb.length, pending.minNv), pending.minV);
  const v = step.package.packageVersion;
  state.packages.push({
    aid,
    version: toHex(Uint8Array.of(v.major, v.minor)),
    modules: step.package.applets.map((a) => toHex(a.aid)),
    sd: pending.sd,
    lifeCycle: LOADED,
    nv: step.lfdb.length,
    hash: createHash('sha256').update(step.lfdb).digest('hex').toUpperCase(),
  });
  return DONE;
}
