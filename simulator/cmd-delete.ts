/**
 * DELETE (GPCS 2.3.1 §11.2, §9.5): an application, an SD, a load file, or a load file with its applications
 * (P2 '80'); keys of the acting SD ('D0'/'D2'). An SD or load file that still has content is only deleted with
 * the related-objects bit, and then with everything under it. Memory comes back through the accounting.
 */
import { type CommandApdu, type ResponseApdu, parseDelete, toHex } from '../gp/index.ts';
import { mayDelete, requireCardNotLocked, requireContentManager, requireSecureChannel } from './authz.ts';
import { SwError, Sw } from './errors.ts';
import { Footprint, allocate } from './memory.ts';
import { findEntry, findPackage, instancesOf, subHierarchy } from './registry.ts';
import type { Ctx } from './session.ts';
import type { CardState } from './state.ts';

const DONE: ResponseApdu = { data: Uint8Array.of(0x00), sw: Sw.OK };

export function deleteCommand(ctx: Ctx, cmd: CommandApdu): ResponseApdu {
  requireSecureChannel(ctx);
  const d = parseDelete(cmd);
  if (d.kind === 'key') return deleteKeys(ctx, d.keyId, d.kvn);
  if (d.token) throw new SwError(Sw.WRONG_DATA, 'delete token present but not expected');
  return deleteContent(ctx, toHex(d.aid), d.related);
}

function deleteContent(ctx: Ctx, aid: string, related: boolean): ResponseApdu {
  requireContentManager(ctx);
  const { state } = ctx;
  const entry = findEntry(state, aid);
  const pkg = entry ? undefined : findPackage(state, aid);
  if (!entry && !pkg) throw new SwError(Sw.DATA_NOT_FOUND, `no application or load file ${aid}`);
  if (entry?.kind === 'isd') throw new SwError(Sw.CONDITIONS_OF_USE, 'the ISD cannot be deleted');
  if (entry && entry.aid === ctx.current.aid) throw new SwError(Sw.CONDITIONS_OF_USE, 'an SD cannot delete itself');
  if (!mayDelete(ctx, (entry ?? pkg)!)) throw new SwError(Sw.CONDITIONS_OF_USE, `${aid} is not under ${ctx.current.aid} (no Global Delete)`);
  const doomedEntries = new Set<string>();
  const doomedPackages = new Set<string>();
  const addSd = (sdAid: string) => {
    const sub = subHierarchy(state, sdAid);
    sub.entries.forEach((e) => doomedEntries.add(e.aid));
    sub.packages.forEach((p) => doomedPackages.add(p.aid));
  };
  if (entry) {
    if (entry.kind === 'sd') {
      const sub = subHierarchy(state, entry.aid);
      if ((sub.entries.length > 1 || sub.packages.length > 0) && !related) {
        throw new SwError(Sw.CONDITIONS_OF_USE, `${aid} still has associated content (use related objects)`);
      }
      addSd(entry.aid);
    } else doomedEntries.add(entry.aid);
  } else if (pkg) {
    const instances = instancesOf(state, pkg.aid);
    if (instances.length > 0 && !related) throw new SwError(Sw.CONDITIONS_OF_USE, `${aid} has instances (use related objects)`);
    doomedPackages.add(pkg.aid);
    for (const i of instances) {
      if (i.kind === 'sd') addSd(i.aid);
      else doomedEntries.add(i.aid);
    }
  }
  // Packages whose instances survive elsewhere cannot go (a deleted SD's load files with live instances).
  for (const p of doomedPackages) {
    const alive = instancesOf(state, p).filter((i) => !doomedEntries.has(i.aid));
    if (alive.length > 0) throw new SwError(Sw.CONDITIONS_OF_USE, `load file ${p} still has instance ${alive[0].aid}`);
  }
  if (doomedEntries.has(ctx.current.aid)) throw new SwError(Sw.CONDITIONS_OF_USE, 'the acting SD would be deleted');
  remove(state, doomedEntries, doomedPackages);
  if (ctx.session.perso && doomedEntries.has(ctx.session.perso.target)) ctx.session.perso = undefined;
  return DONE;
}

function remove(state: CardState, entries: Set<string>, packages: Set<string>): void {
  state.entries = state.entries.filter((e) => !entries.has(e.aid));
  state.packages = state.packages.filter((p) => !packages.has(p.aid));
}

function deleteKeys(ctx: Ctx, kid: number | undefined, kvn: number | undefined): ResponseApdu {
  requireSecureChannel(ctx);
  requireCardNotLocked(ctx);
  const sd = ctx.current;
  let deleted = 0;
  for (const ks of sd.keySets) {
    if (kvn !== undefined && ks.kvn !== kvn) continue;
    for (const id of Object.keys(ks.keys)) {
      if (kid !== undefined && Number(id) !== kid) continue;
      delete ks.keys[id];
      deleted++;
    }
  }
  if (deleted === 0) throw new SwError(Sw.DATA_NOT_FOUND, 'no such key');
  const before = sd.keySets.length;
  sd.keySets = sd.keySets.filter((ks) => Object.keys(ks.keys).length > 0);
  allocate(ctx.state, sd, 'nv', -Footprint.keySet * (before - sd.keySets.length));
  return DONE;
}
