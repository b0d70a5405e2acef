/**
 * Shorthands of the simulator tests over gp's command builders (hex strings in, CommandApdu out). A test that
 * needs a malformed command overrides fields of a well-formed one, so every APDU starts from a gp builder.
 */
import {
  type CommandApdu,
  type SetStatusScope,
  deleteCardContent,
  encodeInstallParameters,
  fromHex,
  getData,
  getStatus,
  installForExtradition,
  installForInstall,
  installForMakeSelectable,
  installForPersonalization,
  setStatus,
  splitTagList,
  storeData,
} from '../gp/index.ts';

const SCOPES: Record<number, SetStatusScope> = { 0x80: 'isd', 0x40: 'application', 0x60: 'sd-and-applications' };

export const cmd = {
  getData: (tag: number, cla = 0x80): CommandApdu => getData(tag, { cla }),
  /** P2 is applied as given (02 TLV, 00 legacy, b1 next; RFU bits for negative tests). */
  getStatus: (p1: number, p2 = 0x02, aid = '', tagList?: string): CommandApdu => ({
    ...getStatus({ subset: p1 === 0x41 ? 0x40 : p1, aid: fromHex(aid), tagList: tagList ? splitTagList(fromHex(tagList)) : undefined }),
    p1,
    p2,
  }),
  /** P1 04 install, 0C install and make selectable (other P1 values override the builder's for negative tests). */
  install: (p1: number, o: { elf: string; module: string; app: string; privileges?: string; params?: Uint8Array; token?: Uint8Array }): CommandApdu => ({
    ...installForInstall({
      loadFileAid: fromHex(o.elf),
      moduleAid: fromHex(o.module),
      aid: fromHex(o.app),
      privileges: fromHex(o.privileges ?? '00'),
      parameters: o.params ?? encodeInstallParameters(),
      token: o.token,
      makeSelectable: p1 === 0x0c,
    }),
    p1,
  }),
  makeSelectable: (app: string, privileges = '00'): CommandApdu => installForMakeSelectable({ aid: fromHex(app), privileges: fromHex(privileges) }),
  extradite: (toSd: string, obj: string): CommandApdu => installForExtradition({ sdAid: fromHex(toSd), aid: fromHex(obj) }),
  personalize: (app: string): CommandApdu => installForPersonalization(fromHex(app)),
  /** P1 is applied as given (b8 last, b5-b4 structure). */
  storeData: (p1: number, block: number, data: string): CommandApdu => ({ ...storeData(fromHex(data), { block, last: (p1 & 0x80) !== 0 }), p1 }),
  delete: (aid: string, related = false): CommandApdu => deleteCardContent(fromHex(aid), { related }),
  setStatus: (p1: number, p2: number, aid = ''): CommandApdu => {
    if (!aid) return { ...setStatus('isd', p2), p1 };
    return { ...setStatus(SCOPES[p1] ?? 'application', p2, fromHex(aid)), p1 };
  },
};

/** Install parameters: C9 (application specific) and EF with quotas / reserved memory (gp encoder). */
export function installParams(o: { c9?: string; nvQuota?: number; vQuota?: number; nvReserved?: number; vReserved?: number } = {}): Uint8Array {
  return encodeInstallParameters({
    applicationSpecific: fromHex(o.c9 ?? ''),
    nonVolatileQuota: o.nvQuota,
    volatileQuota: o.vQuota,
    nonVolatileReserved: o.nvReserved,
    volatileReserved: o.vReserved,
  });
}
