/**
 * TEMPORARY: a minimal CardEndpoint (SELECT, GET DATA) for the conformance suite until the real simulator
 * (SimulatedSe) lands; then this file is deleted and the suite runs against SimulatedSe.
 */
import { concat, fromHex, tlv } from '../gp/index.ts';
import type { CardEndpoint } from '../simulator/endpoint.ts';

export const STUB_ISD_AID = fromHex('A000000151000000');

export class StubCard implements CardEndpoint {
  powered = true;
  private selected = false;
  constructor(readonly seId: string) {}
  atr(): Uint8Array {
    return fromHex('3B80800101');
  }
  powerOn(): Uint8Array {
    this.powered = true;
    return this.atr();
  }
  powerOff(): void {
    this.powered = false;
    this.selected = false;
  }
  reset(): Uint8Array {
    this.selected = false;
    this.powered = true;
    return this.atr();
  }
  process(c: Uint8Array): Uint8Array {
    if (c.length < 4) return fromHex('6700');
    if ((c[0] & 0xe0) === 0x20) return fromHex('6E00');
    if (c[1] === 0xa4 && c[2] === 0x04) {
      const ext = c.length > 5 && c[4] === 0;
      const lc = ext ? (c[5] << 8) | c[6] : c[4];
      const aid = c.subarray(ext ? 7 : 5, (ext ? 7 : 5) + lc);
      if (Buffer.compare(aid, STUB_ISD_AID) !== 0) return fromHex('6A82');
      this.selected = true;
      return concat(tlv(0x6f, [tlv(0x84, aid), tlv(0xa5, tlv(0x9f6e, fromHex('0000')))]), fromHex('9000'));
    }
    if (c[1] === 0xca && c[2] === 0x9f && c[3] === 0x7f) return concat(tlv(0x9f7f, new Uint8Array(42)), fromHex('9000'));
    if (c[1] === 0xca && c[2] === 0x00 && c[3] === 0x66 && !this.selected) return fromHex('6985');
    return fromHex('6D00');
  }
}
