/**
 * ATR of a simulated SE (ISO/IEC 7816-3 §8). It announces T=1 (readers and vpcd/pcscd need it): T0 = 8K (TD1
 * present, K historical bytes), TD1 = 80 (T=0 indicated, TD2 present), TD2 = 01 (T=1), then the historical
 * bytes and TCK, the XOR of every byte from T0 to the last historical byte (mandatory when T≠0 is offered).
 */
import { fromHex, toHex } from '../gp/index.ts';
import { SimulatorError } from './errors.ts';

/** Historical bytes used when a card profile gives no ATR ("tsmlab SE"). */
export const DEFAULT_HISTORICAL = fromHex('80 73 C8 21 13 66 05 03 63 51 00 02');

export function buildAtr(historical: Uint8Array = DEFAULT_HISTORICAL): Uint8Array {
  if (historical.length > 15) throw new SimulatorError(`ATR: at most 15 historical bytes, got ${historical.length}`);
  const body = Uint8Array.of(0x80 | historical.length, 0x80, 0x01, ...historical);
  let tck = 0;
  for (const b of body) tck ^= b;
  return Uint8Array.of(0x3b, ...body, tck);
}

export interface AtrInfo {
  protocols: number[];
  historical: Uint8Array;
}

/** Parses an ATR's interface bytes; throws SimulatorError when it is malformed, lacks T=1 or has a wrong TCK. */
export function checkAtr(atr: Uint8Array): AtrInfo {
  const bad = (why: string): never => {
    throw new SimulatorError(`ATR ${toHex(atr)}: ${why}`);
  };
  if (atr.length < 2) bad('too short');
  if (atr[0] !== 0x3b && atr[0] !== 0x3f) bad('TS must be 3B or 3F');
  const k = atr[1] & 0x0f;
  let y = atr[1] >> 4;
  let i = 2;
  const protocols: number[] = [];
  while (true) {
    for (const bit of [0x1, 0x2, 0x4]) if (y & bit) i++;
    if (!(y & 0x8)) break;
    if (i >= atr.length) bad('truncated interface bytes');
    const td = atr[i++];
    protocols.push(td & 0x0f);
    y = td >> 4;
  }
  if (protocols.length === 0) protocols.push(0);
  const histEnd = i + k;
  const needTck = protocols.some((p) => p !== 0);
  if (atr.length !== histEnd + (needTck ? 1 : 0)) bad(`length ${atr.length}, expected ${histEnd + (needTck ? 1 : 0)}`);
  if (needTck) {
    let x = 0;
    for (let j = 1; j < atr.length; j++) x ^= atr[j];
    if (x !== 0) bad('TCK does not check');
  }
  if (!protocols.includes(1)) bad('does not announce T=1');
  return { protocols, historical: atr.slice(i, histEnd) };
}
