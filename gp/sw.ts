/**
 * Status words: ISO/IEC 7816-4 §5.6 and the GlobalPlatform Card Specification 2.3.1 §11.1.3 general table
 * plus the per-command tables of chapter 11. `describeSw` gives the meaning and the ISO class the viewer
 * colours by; `CardError` is the gp layer's error for "the card answered with a status word we did not want".
 */
import { toHex } from './bytes.ts';

export const SW = {
  OK: 0x9000,
  CARD_LOCKED: 0x6283,
  LOGICAL_CHANNEL_CLOSED: 0x6200,
  AUTH_FAILED: 0x6300,
  MORE_DATA: 0x6310,
  NO_DIAGNOSIS: 0x6400,
  MEMORY_FAILURE: 0x6581,
  WRONG_LENGTH: 0x6700,
  CHANNEL_NOT_SUPPORTED: 0x6881,
  SECURE_MESSAGING_NOT_SUPPORTED: 0x6882,
  LAST_COMMAND_OF_CHAIN_EXPECTED: 0x6883,
  CHAINING_NOT_SUPPORTED: 0x6884,
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  AUTH_METHOD_BLOCKED: 0x6983,
  REFERENCED_DATA_INVALIDATED: 0x6984,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  COMMAND_NOT_ALLOWED: 0x6986,
  SM_DATA_MISSING: 0x6987,
  SM_DATA_INCORRECT: 0x6988,
  APPLET_SELECTION_FAILED: 0x6999,
  WRONG_DATA: 0x6a80,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  NOT_FOUND: 0x6a82,
  RECORD_NOT_FOUND: 0x6a83,
  NOT_ENOUGH_MEMORY: 0x6a84,
  LC_INCONSISTENT_WITH_TLV: 0x6a85,
  WRONG_P1P2: 0x6a86,
  LC_INCONSISTENT_WITH_P1P2: 0x6a87,
  REFERENCED_DATA_NOT_FOUND: 0x6a88,
  FILE_ALREADY_EXISTS: 0x6a89,
  WRONG_P1P2_ISO: 0x6b00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  UNKNOWN: 0x6f00,
  ALGORITHM_NOT_SUPPORTED: 0x9484,
  INVALID_KEY_CHECK_VALUE: 0x9485,
} as const;

/** ISO/IEC 7816-4 Table 5 classes: 9000/61xx normal, 62/63 warning, 64-66 execution error, 67-6F checking error. */
export type SwClass = 'success' | 'warning' | 'execution-error' | 'checking-error';

export interface SwDescription {
  sw: number;
  hex: string;
  meaning: string;
  class: SwClass;
}

const MEANINGS: Record<number, string> = {
  0x9000: 'Success',
  0x6200: 'Logical channel already closed (warning, state unchanged)',
  0x6281: 'Part of returned data may be corrupted',
  0x6282: 'End of file or record reached before reading Le bytes',
  0x6283: 'Card life cycle state is CARD_LOCKED (or selected file deactivated)',
  0x6300: 'Authentication failed (host cryptogram or certificate)',
  0x6310: 'More data available (repeat GET STATUS with P2 "next occurrence")',
  0x6400: 'No specific diagnosis (execution error, state unchanged)',
  0x6581: 'Memory failure',
  0x6700: 'Wrong length in Lc',
  0x6881: 'Logical channel not supported or not active',
  0x6882: 'Secure messaging not supported',
  0x6883: 'The last command of the chain was expected',
  0x6884: 'Command chaining not supported',
  0x6982: 'Security status not satisfied',
  0x6983: 'Authentication method blocked',
  0x6984: 'Referenced data invalidated (not usable)',
  0x6985: 'Conditions of use not satisfied',
  0x6986: 'Command not allowed (no current EF)',
  0x6987: 'Expected secure messaging data objects missing',
  0x6988: 'Incorrect secure messaging data objects',
  0x6999: 'Applet selection failed',
  0x6a80: 'Incorrect values in command data',
  0x6a81: 'Function not supported (e.g. card life cycle state is CARD_LOCKED)',
  0x6a82: 'Application or file not found',
  0x6a83: 'Record not found',
  0x6a84: 'Not enough memory space',
  0x6a85: 'Nc inconsistent with TLV structure',
  0x6a86: 'Incorrect P1 P2',
  0x6a87: 'Nc inconsistent with P1 P2',
  0x6a88: 'Referenced data not found',
  0x6a89: 'File already exists',
  0x6a8a: 'DF name already exists',
  0x6b00: 'Wrong parameters P1-P2',
  0x6d00: 'Instruction not supported or invalid',
  0x6e00: 'Class not supported',
  0x6f00: 'No precise diagnosis',
  0x9484: 'Algorithm not supported (deprecated in GP 2.3.1, use 6A80)',
  0x9485: 'Invalid key check value (deprecated in GP 2.3.1, use 6982)',
};

export function swClass(sw: number): SwClass {
  const sw1 = sw >> 8;
  if (sw === 0x9000 || sw1 === 0x61) return 'success';
  if (sw1 === 0x62 || sw1 === 0x63) return 'warning';
  if (sw1 >= 0x64 && sw1 <= 0x66) return 'execution-error';
  return 'checking-error';
}

/** Meaning and class of a status word; unknown values still get their ISO class and a generic meaning. */
export function describeSw(sw: number): SwDescription {
  if (!Number.isInteger(sw) || sw < 0 || sw > 0xffff) throw new RangeError(`status word out of range: ${sw}`);
  const hex = toHex(Uint8Array.of(sw >> 8, sw & 0xff));
  const sw1 = sw >> 8;
  const sw2 = sw & 0xff;
  let meaning = MEANINGS[sw];
  if (meaning === undefined) {
    if (sw1 === 0x61) meaning = `Response data incomplete, ${sw2} more bytes available (GET RESPONSE)`;
    else if (sw1 === 0x6c) meaning = `Wrong Le: ${sw2 === 0 ? 256 : sw2} bytes available (resend with this Le)`;
    else if (sw1 === 0x63 && (sw2 & 0xf0) === 0xc0) meaning = `Verification failed, ${sw2 & 0x0f} tries left`;
    else if (sw1 === 0x62 || sw1 === 0x63) meaning = 'Warning (state may have changed)';
    else if (sw1 === 0x64) meaning = 'Execution error, state unchanged';
    else if (sw1 === 0x65) meaning = 'Execution error, state changed';
    else if (sw1 === 0x66) meaning = 'Security-related execution error';
    else if (sw1 === 0x68) meaning = 'Functions in CLA not supported';
    else if (sw1 === 0x69) meaning = 'Command not allowed';
    else if (sw1 === 0x6a) meaning = 'Wrong parameters P1-P2';
    else meaning = 'Unknown status word';
  }
  return { sw, hex, meaning, class: swClass(sw) };
}

export function isSuccessSw(sw: number): boolean {
  return swClass(sw) === 'success';
}

/** The card answered `sw` to `command` where the caller needed success. */
export class CardError extends Error {
  readonly hex: string;
  constructor(
    readonly sw: number,
    readonly command: string,
    message?: string,
  ) {
    const d = describeSw(sw);
    super(message ?? `${command} failed: ${d.hex} ${d.meaning}`);
    this.name = 'CardError';
    this.hex = d.hex;
  }
}

/** Throws CardError unless `sw` is one of `accepted` (default 9000). */
export function expectSw(sw: number, command: string, accepted: readonly number[] = [SW.OK]): void {
  if (!accepted.includes(sw)) throw new CardError(sw, command);
}
