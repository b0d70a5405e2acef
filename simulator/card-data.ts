/**
 * Card Recognition Data / Security Domain Management Data (GPCS 2.3.1 §H.2-H.3): the '73' template returned in
 * GET DATA '66' and in the SELECT response of an SD. OIDs under {1 2 840 114283} (GlobalPlatform).
 */
import { concat, tlv } from '../gp/index.ts';

const GP_OID = Uint8Array.of(0x2a, 0x86, 0x48, 0x86, 0xfc, 0x6b); // 1.2.840.114283

/** Base-128 encoding of one OID arc. */
function arc(n: number): Uint8Array {
  const out = [n & 0x7f];
  for (n >>>= 7; n > 0; n >>>= 7) out.unshift(0x80 | (n & 0x7f));
  return Uint8Array.from(out);
}

function gpOid(...arcs: number[]): Uint8Array {
  return tlv(0x06, concat(GP_OID, ...arcs.map(arc)));
}

/** GP version 2.3.1, GP card identification scheme, and the SCP (with its i) of the SD's default key set. */
export function managementData(scp: number, i: number): Uint8Array {
  return tlv(0x73, [
    gpOid(1),
    tlv(0x60, gpOid(2, 2, 3, 1)),
    tlv(0x63, gpOid(3)),
    tlv(0x64, gpOid(4, scp, i)),
  ]);
}
