/**
 * GET DATA (GPCS 2.3.1 §11.3) on a security domain: CPLC '9F7F', IIN '42', CIN '45', card data '66', key
 * information template 'E0', extended card resources 'FF21' (TS 102 226; figures from the memory accounting),
 * list of applications '2F00', sequence counter 'C1', current security level 'D3', and data objects the SD
 * received through STORE DATA. A GP class answers the whole TLV, an ISO class only the value (except '2F00').
 */
import { type CommandApdu, type ResponseApdu, fromHex, tlv, toHex, uint, type KeyInformation, encodeKeyInformationTemplate, encodeApplicationList, encodeExtendedCardResources } from '../gp/index.ts';
import { seesWholeRegistry } from './authz.ts';
import { managementData } from './card-data.ts';
import { SwError, Sw } from './errors.ts';
import { freeNonVolatile, freeVolatile, installedApplications } from './memory.ts';
import { subHierarchy } from './registry.ts';
import type { Ctx } from './session.ts';
import type { CardEntry } from './state.ts';

/** 'E0': one 'C0' per key (Table 11-28, basic structure): key id, KVN, key type, key length. */
export function keyInformationTemplate(sd: CardEntry): Uint8Array {
  const items: KeyInformation[] = [];
  for (const ks of sd.keySets) {
    for (const id of Object.keys(ks.keys).sort((a, b) => Number(a) - Number(b))) {
      items.push({ kid: Number(id), kvn: ks.kvn, components: [{ type: ks.keyType, length: ks.keys[id].length / 2 }] });
    }
  }
  return encodeKeyInformationTemplate(items);
}

export function extendedCardResources(ctx: Ctx): Uint8Array {
  return encodeExtendedCardResources({
    installedApplications: installedApplications(ctx.state),
    freeNonVolatileMemory: Math.max(0, freeNonVolatile(ctx.state)),
    freeVolatileMemory: Math.max(0, freeVolatile(ctx.state)),
  });
}

/** '2F00': one '61' application template per application (§11.3.3.1.3), scoped like GET STATUS. */
export function listOfApplications(ctx: Ctx): Uint8Array {
  const all = seesWholeRegistry(ctx) ? ctx.state.entries : subHierarchy(ctx.state, ctx.current.aid).entries;
  return encodeApplicationList(all.map((e) => ({ aid: fromHex(e.aid) })));
}

export function getData(ctx: Ctx, cmd: CommandApdu): ResponseApdu {
  const gp = (cmd.cla & 0x80) !== 0;
  const tag = (cmd.p1 << 8) | cmd.p2;
  if (cmd.ins === 0xcb && (gp || tag !== 0x2f00)) throw new SwError(Sw.INS_NOT_SUPPORTED, 'GET DATA odd INS only for ISO 2F00');
  const { state, current: sd, session } = ctx;
  const isd = sd.kind === 'isd';
  let value: Uint8Array | undefined;
  switch (tag) {
    case 0x2f00: {
      const data = cmd.data ?? new Uint8Array(0);
      if (data.length > 0 && toHex(data) !== '5C00') throw new SwError(Sw.WRONG_DATA, "GET DATA '2F00' takes the tag list 5C 00");
      const list = listOfApplications(ctx);
      if (list.length === 0) throw new SwError(Sw.DATA_NOT_FOUND, 'no application');
      return { data: list, sw: Sw.OK };
    }
    case 0x9f7f:
      value = fromHex(state.cplc);
      break;
    case 0x0042:
      value = isd ? fromHex(state.iin) : sd.dataObjects['42'] !== undefined ? fromHex(sd.dataObjects['42']) : undefined;
      break;
    case 0x0045:
      value = isd ? fromHex(state.cin) : sd.dataObjects['45'] !== undefined ? fromHex(sd.dataObjects['45']) : undefined;
      break;
    case 0x0066: {
      if (sd.dataObjects['66'] !== undefined) value = fromHex(sd.dataObjects['66']);
      else {
        const ks = sd.keySets[0];
        value = managementData(ks ? parseInt(ks.scp, 16) : 3, ks ? ks.i : 0x70);
      }
      break;
    }
    case 0x00e0:
      if (sd.keySets.length === 0) throw new SwError(Sw.DATA_NOT_FOUND, `${sd.aid} has no keys`);
      return respond(keyInformationTemplate(sd), gp);
    case 0xff21:
      return respond(extendedCardResources(ctx), gp);
    case 0x00c1: {
      const ks = sd.keySets[0];
      if (!ks) throw new SwError(Sw.DATA_NOT_FOUND, 'no default key set');
      value = uint(ks.sequenceCounter, ks.scp === '02' ? 2 : 3);
      break;
    }
    case 0x00d3: {
      const ch = session.channel;
      value = Uint8Array.of(ch && ch.sd === sd.aid && ch.sc.isOpen ? ch.sc.level ?? 0 : 0);
      break;
    }
    default: {
      const stored = sd.dataObjects[toHex(tag > 0xff ? uint(tag, 2) : uint(tag, 1))];
      if (stored !== undefined) value = fromHex(stored);
    }
  }
  if (value === undefined) throw new SwError(Sw.DATA_NOT_FOUND, `no data object ${tag.toString(16)}`);
  return gp ? { data: tlv(tag, value), sw: Sw.OK } : { data: value, sw: Sw.OK };
}

function respond(obj: Uint8Array, gp: boolean): ResponseApdu {
  if (gp) return { data: obj, sw: Sw.OK };
  // ISO class: the value only — skip the tag and length of the constructed object.
  let i = (obj[0] & 0x1f) === 0x1f ? 2 : 1;
  i += obj[i] < 0x80 ? 1 : 1 + (obj[i] & 0x7f);
  return { data: obj.slice(i), sw: Sw.OK };
}
