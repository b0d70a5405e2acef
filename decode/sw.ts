/** Status words as the viewer receives them (hex text or a number): meaning and class come from gp's table. */
import { describeSw as describeStatusWord, type SwClass } from '../gp/index.ts';

export type { SwClass };

export interface SwInfo {
  sw: string;
  meaning: string;
  class: SwClass;
}

/** `ins` lets the command's own meaning win (GP chapter 11 error tables). */
export function describeSw(swIn: string | number, ins?: number): SwInfo {
  const sw = typeof swIn === 'number' ? swIn : /^[0-9a-fA-F]{1,4}$/.test(swIn.trim()) ? parseInt(swIn, 16) : NaN;
  if (!Number.isInteger(sw) || sw < 0 || sw > 0xffff) return { sw: String(swIn), meaning: 'not a status word', class: 'unknown' };
  const d = describeStatusWord(sw, ins);
  return { sw: d.hex, meaning: d.meaning, class: d.class };
}
