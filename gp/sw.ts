/**
 * Status words: ISO/IEC 7816-4 §5.6 and the GlobalPlatform Card Specification 2.3.1 §11.1.3 general table
 * plus the per-command tables of chapter 11. One table gives each known status word its meaning and class;
 * the viewer, the reports, the TSM's script runner and the simulator all read it. `CardError` is the gp
 * layer's error for "the card answered with a status word we did not want".
 */
import { toHex } from './bytes.ts';
import { GpError } from './errors.ts';

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

/**
 * ISO/IEC 7816-4 classes: 9000 and 61xx normal processing, 62xx/63xx warnings, 64xx-66xx execution errors,
 * 67xx-6Fxx checking errors. Other 9xxx values are proprietary (the application defines them), except the two
 * GP 2.1.1 PUT KEY errors the table names; anything else (60xx, SW1 outside 6x/9x) is not a status word.
 */
export type SwClass = 'normal' | 'warning' | 'execution-error' | 'checking-error' | 'proprietary' | 'unknown';

export interface SwDescription {
  sw: number;
  hex: string;
  meaning: string;
  class: SwClass;
}

/** Every status word the project names, [class, meaning]: ISO/IEC 7816-4 Tables 5-6 and GPCS 2.3.1 Table 11-10. */
export const STATUS_WORDS: Readonly<Record<number, readonly [SwClass, string]>> = {
  0x9000: ['normal', 'Success'],
  0x6200: ['warning', 'Warning: no information given, non-volatile memory unchanged (GP: logical channel already closed)'],
  0x6281: ['warning', 'Warning: part of returned data may be corrupted'],
  0x6282: ['warning', 'Warning: end of file or record reached before reading Ne bytes'],
  0x6283: ['warning', 'Warning: selected file deactivated (GP: card life cycle state is CARD_LOCKED)'],
  0x6284: ['warning', 'Warning: file control information not formatted'],
  0x6285: ['warning', 'Warning: selected file in termination state'],
  0x6286: ['warning', 'Warning: no input data available from a sensor'],
  0x6300: ['warning', 'Warning: no information given, non-volatile memory changed (GP: authentication of host cryptogram failed)'],
  0x6310: ['warning', 'Warning: more data available'],
  0x6381: ['warning', 'Warning: file filled up by the last write'],
  0x6400: ['execution-error', 'Execution error: no specific diagnosis, non-volatile memory unchanged'],
  0x6401: ['execution-error', 'Execution error: immediate response required by the card'],
  0x6500: ['execution-error', 'Execution error: no information given, non-volatile memory changed'],
  0x6581: ['execution-error', 'Execution error: memory failure'],
  0x6600: ['execution-error', 'Execution error: security-related issue'],
  0x6700: ['checking-error', 'Wrong length (Lc or Le)'],
  0x6800: ['checking-error', 'Functions in CLA not supported'],
  0x6881: ['checking-error', 'Logical channel not supported or not active'],
  0x6882: ['checking-error', 'Secure messaging not supported'],
  0x6883: ['checking-error', 'Last command of the chain expected'],
  0x6884: ['checking-error', 'Command chaining not supported'],
  0x6900: ['checking-error', 'Command not allowed: no information given'],
  0x6981: ['checking-error', 'Command incompatible with file structure'],
  0x6982: ['checking-error', 'Security status not satisfied'],
  0x6983: ['checking-error', 'Authentication method blocked'],
  0x6984: ['checking-error', 'Reference data not usable (GP: referenced data invalidated)'],
  0x6985: ['checking-error', 'Conditions of use not satisfied'],
  0x6986: ['checking-error', 'Command not allowed (no current EF)'],
  0x6987: ['checking-error', 'Expected secure messaging data objects missing'],
  0x6988: ['checking-error', 'Incorrect secure messaging data objects'],
  0x6999: ['checking-error', 'Applet selection failed'],
  0x6a00: ['checking-error', 'Wrong parameters P1-P2: no information given'],
  0x6a80: ['checking-error', 'Incorrect parameters in the command data field (GP: incorrect values in command data)'],
  0x6a81: ['checking-error', 'Function not supported'],
  0x6a82: ['checking-error', 'File or application not found'],
  0x6a83: ['checking-error', 'Record not found'],
  0x6a84: ['checking-error', 'Not enough memory space'],
  0x6a85: ['checking-error', 'Nc inconsistent with TLV structure'],
  0x6a86: ['checking-error', 'Incorrect P1 P2'],
  0x6a87: ['checking-error', 'Nc inconsistent with parameters P1-P2'],
  0x6a88: ['checking-error', 'Referenced data not found'],
  0x6a89: ['checking-error', 'File already exists'],
  0x6a8a: ['checking-error', 'DF name already exists'],
  0x6b00: ['checking-error', 'Wrong parameters P1-P2'],
  0x6d00: ['checking-error', 'Instruction code not supported or invalid'],
  0x6e00: ['checking-error', 'Class not supported'],
  0x6f00: ['checking-error', 'No precise diagnosis'],
  // GP 2.1.1 PUT KEY errors, deprecated by GP 2.3.1 Table 11-10 in favour of the checking errors named.
  0x9484: ['checking-error', 'Algorithm not supported (deprecated in GP 2.3.1, use 6A80)'],
  0x9485: ['checking-error', 'Invalid key check value (deprecated in GP 2.3.1, use 6982)'],
};

/** Meanings a command's own table in GPCS chapter 11 gives a status word, by INS then status word. */
export const COMMAND_STATUS_WORDS: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  0x50: { 0x6a88: 'Referenced data not found (no such key set)' },
  0x82: { 0x6300: 'Authentication of host cryptogram failed' },
  0xa4: { 0x6283: 'Card life cycle state is CARD_LOCKED' },
  0xe4: { 0x6a82: 'Application not found', 0x6a88: 'Referenced data not found (no such key)' },
  0xf2: { 0x6310: 'More data available (send GET STATUS [next occurrence])' },
};

/** The class ISO/IEC 7816-4 gives a status word by its range, for values the table does not list. */
export function swRangeClass(sw: number): SwClass {
  const sw1 = sw >> 8;
  if (sw === 0x9000 || sw1 === 0x61) return 'normal';
  if (sw1 === 0x62 || sw1 === 0x63) return 'warning';
  if (sw1 >= 0x64 && sw1 <= 0x66) return 'execution-error';
  if (sw1 >= 0x67 && sw1 <= 0x6f) return 'checking-error';
  if (sw1 >= 0x90 && sw1 <= 0x9f) return 'proprietary';
  return 'unknown';
}

export function swClass(sw: number): SwClass {
  return STATUS_WORDS[sw]?.[0] ?? swRangeClass(sw);
}

/** What ISO/IEC 7816-4 says of a status word the table does not list, by its SW1 (and SW2 where it counts). */
function rangeMeaning(sw: number, cls: SwClass): string {
  const sw1 = sw >> 8;
  const sw2 = sw & 0xff;
  if (sw1 === 0x61) return `${sw2 === 0 ? 256 : sw2} more bytes available (GET RESPONSE)`;
  if (sw1 === 0x6c) return `Wrong Le: exactly ${sw2 === 0 ? 256 : sw2} bytes available`;
  if (sw1 === 0x63 && (sw2 & 0xf0) === 0xc0) return `Warning: counter is ${sw2 & 0x0f} (e.g. tries left)`;
  if ((sw1 === 0x62 || sw1 === 0x64) && sw2 >= 0x02 && sw2 <= 0x80) return `${sw1 === 0x62 ? 'Warning' : 'Execution error'}: triggering by the card`;
  if (sw1 === 0x64) return 'Execution error, state unchanged';
  if (sw1 === 0x65) return 'Execution error, state changed';
  if (sw1 === 0x66) return 'Security-related execution error';
  if (sw1 === 0x68) return 'Functions in CLA not supported';
  if (sw1 === 0x69) return 'Command not allowed';
  if (sw1 === 0x6a) return 'Wrong parameters P1-P2';
  if (cls === 'warning') return 'Warning';
  if (cls === 'checking-error') return 'Checking error';
  if (cls === 'proprietary') return 'Proprietary status word (application-specific)';
  return 'Unknown status word';
}

/**
 * Meaning and class of a status word; `ins` lets the command's own meaning win (GPCS chapter 11 tables).
 * Values the table does not list still get their ISO class and a reading of their range.
 */
export function describeSw(sw: number, ins?: number): SwDescription {
  if (!Number.isInteger(sw) || sw < 0 || sw > 0xffff) throw new RangeError(`status word out of range: ${sw}`);
  const hex = toHex(Uint8Array.of(sw >> 8, sw & 0xff));
  const cls = swClass(sw);
  const meaning = (ins === undefined ? undefined : COMMAND_STATUS_WORDS[ins]?.[sw]) ?? STATUS_WORDS[sw]?.[1] ?? rangeMeaning(sw, cls);
  return { sw, hex, meaning, class: cls };
}

export function isSuccessSw(sw: number): boolean {
  return swClass(sw) === 'normal';
}

/** The card answered `sw` to `command` where the caller needed success. */
export class CardError extends GpError<'card-status'> {
  readonly hex: string;
  constructor(
    override readonly sw: number,
    readonly command: string,
    message?: string,
  ) {
    const d = describeSw(sw);
    super('card-status', message ?? `${command} failed: ${d.hex} ${d.meaning}`, sw);
    this.name = 'CardError';
    this.hex = d.hex;
  }
}

/** Throws CardError unless `sw` is one of `accepted` (default 9000). */
export function expectSw(sw: number, command: string, accepted: readonly number[] = [SW.OK]): void {
  if (!accepted.includes(sw)) throw new CardError(sw, command);
}
