/**
 * TEMPORARY command builders for the simulator tests until gp/commands.ts lands (then the tests switch to it).
 * Layouts per GPCS 2.3.1 §11.
 */
import { type CommandApdu, concat, encodeLength, fromHex, tlv } from '../gp/index.ts';

const lv1 = (hex: string) => {
  const b = fromHex(hex);
  return concat(Uint8Array.of(b.length), b);
};
const lvBer = (b: Uint8Array) => concat(encodeLength(b.length), b);

export const cmd = {
  getData: (tag: number, cla = 0x80): CommandApdu => ({ cla, ins: 0xca, p1: tag >> 8, p2: tag & 0xff, le: 256 }),
  getStatus: (p1: number, p2 = 0x02, aid = '', tagList?: string): CommandApdu => ({
    cla: 0x80,
    ins: 0xf2,
    p1,
    p2,
    data: concat(tlv(0x4f, fromHex(aid)), tagList ? tlv(0x5c, fromHex(tagList)) : new Uint8Array(0)),
    le: 256,
  }),
  install: (
    p1: number,
    o: { elf: string; module: string; app: string; privileges?: string; params?: Uint8Array; token?: Uint8Array },
  ): CommandApdu => ({
    cla: 0x80,
    ins: 0xe6,
    p1,
    p2: 0,
    data: concat(
      lv1(o.elf),
      lv1(o.module),
      lv1(o.app),
      lv1(o.privileges ?? '00'),
      lvBer(o.params ?? fromHex('C900')),
      lvBer(o.token ?? new Uint8Array(0)),
    ),
    le: 256,
  }),
  makeSelectable: (app: string, privileges = '00'): CommandApdu => ({
    cla: 0x80,
    ins: 0xe6,
    p1: 0x08,
    p2: 0,
    data: concat(Uint8Array.of(0, 0), lv1(app), lv1(privileges), Uint8Array.of(0, 0)),
    le: 256,
  }),
  extradite: (toSd: string, obj: string): CommandApdu => ({
    cla: 0x80,
    ins: 0xe6,
    p1: 0x10,
    p2: 0,
    data: concat(lv1(toSd), Uint8Array.of(0), lv1(obj), Uint8Array.of(0, 0, 0)),
    le: 256,
  }),
  personalize: (app: string): CommandApdu => ({
    cla: 0x80,
    ins: 0xe6,
    p1: 0x20,
    p2: 0,
    data: concat(Uint8Array.of(0, 0), lv1(app), Uint8Array.of(0, 0, 0)),
    le: 256,
  }),
  storeData: (p1: number, block: number, data: string): CommandApdu => ({ cla: 0x80, ins: 0xe2, p1, p2: block, data: fromHex(data) }),
  delete: (aid: string, related = false): CommandApdu => ({
    cla: 0x80,
    ins: 0xe4,
    p1: 0,
    p2: related ? 0x80 : 0,
    data: tlv(0x4f, fromHex(aid)),
    le: 256,
  }),
  setStatus: (p1: number, p2: number, aid = ''): CommandApdu => ({ cla: 0x80, ins: 0xf0, p1, p2, data: aid ? fromHex(aid) : undefined }),
};

/** Install parameters: C9 (application specific) and EF with quotas / reserved memory. */
export function installParams(o: { c9?: string; nvQuota?: number; vQuota?: number; nvReserved?: number; vReserved?: number } = {}): Uint8Array {
  const mem = (n: number) => (n <= 0x7fff ? Uint8Array.of(n >> 8, n & 0xff) : Uint8Array.of(n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff));
  const sys: Uint8Array[] = [];
  if (o.vQuota !== undefined) sys.push(tlv(0xc7, mem(o.vQuota)));
  if (o.nvQuota !== undefined) sys.push(tlv(0xc8, mem(o.nvQuota)));
  if (o.vReserved !== undefined) sys.push(tlv(0xd7, mem(o.vReserved)));
  if (o.nvReserved !== undefined) sys.push(tlv(0xd8, mem(o.nvReserved)));
  return concat(tlv(0xc9, fromHex(o.c9 ?? '')), sys.length ? tlv(0xef, sys) : new Uint8Array(0));
}
