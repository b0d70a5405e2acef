/**
 * Instruction bytes and the commands they name: GPCS 2.3.1 chapter 11 (and Amendment D), ISO/IEC 7816-4
 * §11, ETSI TS 102 221 for the UICC commands a trace can carry. The viewer, the reports, the safety guard and
 * gp's own messages name commands from this one table.
 */

export interface Instruction {
  /** The command's name under a GlobalPlatform (proprietary) class. */
  name: string;
  /** A GlobalPlatform Card Specification command (chapter 11), as opposed to ISO or ETSI only. */
  gp?: true;
  /**
   * Where an interindustry class (b8 = 0) names another command: 'E2' is APPEND RECORD there; null when no
   * interindustry command uses the byte (INITIALIZE UPDATE is GP-only).
   */
  interindustry?: string | null;
}

export const INSTRUCTIONS: Readonly<Record<number, Instruction>> = {
  0x04: { name: 'DEACTIVATE FILE' },
  0x10: { name: 'TERMINAL PROFILE' },
  0x12: { name: 'FETCH' },
  0x14: { name: 'TERMINAL RESPONSE' },
  0x20: { name: 'VERIFY' },
  0x22: { name: 'MANAGE SECURITY ENVIRONMENT' },
  0x24: { name: 'CHANGE REFERENCE DATA' },
  0x2a: { name: 'PERFORM SECURITY OPERATION' },
  0x2c: { name: 'RESET RETRY COUNTER' },
  0x44: { name: 'ACTIVATE FILE' },
  0x50: { name: 'INITIALIZE UPDATE', gp: true, interindustry: null },
  0x70: { name: 'MANAGE CHANNEL', gp: true },
  0x78: { name: 'END R-MAC SESSION', gp: true },
  0x7a: { name: 'BEGIN R-MAC SESSION', gp: true },
  0x82: { name: 'EXTERNAL AUTHENTICATE', gp: true },
  0x84: { name: 'GET CHALLENGE' },
  0x88: { name: 'INTERNAL AUTHENTICATE' },
  0xa4: { name: 'SELECT', gp: true },
  0xb0: { name: 'READ BINARY' },
  0xb2: { name: 'READ RECORD' },
  0xc0: { name: 'GET RESPONSE', gp: true },
  0xc2: { name: 'ENVELOPE' },
  0xca: { name: 'GET DATA', gp: true },
  0xcb: { name: 'GET DATA', gp: true },
  0xd6: { name: 'UPDATE BINARY' },
  0xd8: { name: 'PUT KEY', gp: true },
  0xdc: { name: 'UPDATE RECORD' },
  0xe2: { name: 'STORE DATA', gp: true, interindustry: 'APPEND RECORD' },
  0xe4: { name: 'DELETE', gp: true },
  0xe6: { name: 'INSTALL', gp: true },
  0xe8: { name: 'LOAD', gp: true },
  0xf0: { name: 'SET STATUS', gp: true },
  0xf2: { name: 'GET STATUS', gp: true, interindustry: 'STATUS' },
};

function insHex(ins: number): string {
  return `INS ${ins.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** GP proprietary class (b8 = 1) outside the 'FF' reserved value. */
export function isGpClass(cla: number): boolean {
  return (cla & 0x80) !== 0 && cla !== 0xff;
}

/**
 * Command name from CLA and INS, and P1 where GP and ETSI share both: under CLA '80' INS 'F2' is GET STATUS
 * when P1 picks a registry subset ('80', '40', '20', '10'), and the UICC's STATUS otherwise (P1 '00'-'02').
 */
export function commandName(cla: number, ins: number, p1 = 0): string {
  const entry = INSTRUCTIONS[ins];
  if (!entry) return insHex(ins);
  if (!isGpClass(cla) && entry.interindustry !== undefined) return entry.interindustry ?? insHex(ins);
  if (ins === 0xf2 && (p1 & 0xf0) === 0) return entry.interindustry ?? entry.name;
  return entry.name;
}

/** Name of a GlobalPlatform command's instruction byte (for traces and errors); other bytes read 'INS xx'. */
export function insName(ins: number): string {
  const entry = INSTRUCTIONS[ins];
  return entry?.gp ? entry.name : insHex(ins);
}
