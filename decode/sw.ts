/** Status words (ISO/IEC 7816-4 §5.1.3 and GP Card Spec 2.3.1 chapter 11), with the class the viewer colours. */

export type SwClass = 'normal' | 'warning' | 'execution-error' | 'checking-error' | 'unknown';

export interface SwInfo {
  sw: string;
  meaning: string;
  class: SwClass;
}

const EXACT: Record<string, string> = {
  '9000': 'Success',
  '6200': 'Warning: no information given, non-volatile memory unchanged',
  '6281': 'Warning: part of returned data may be corrupted',
  '6282': 'Warning: end of file or record reached before reading Ne bytes',
  '6283': 'Warning: selected file deactivated (GP: card life cycle state is CARD_LOCKED)',
  '6284': 'Warning: file control information not formatted',
  '6285': 'Warning: selected file in termination state',
  '6286': 'Warning: no input data available from a sensor',
  '6300': 'Warning: no information given, non-volatile memory changed (GP: authentication of host cryptogram failed)',
  '6310': 'Warning: more data available',
  '6381': 'Warning: file filled up by the last write',
  '6400': 'Execution error: no specific diagnosis, non-volatile memory unchanged',
  '6401': 'Execution error: immediate response required by the card',
  '6500': 'Execution error: no information given, non-volatile memory changed',
  '6581': 'Execution error: memory failure',
  '6600': 'Execution error: security-related issue',
  '6700': 'Wrong length (Lc or Le)',
  '6800': 'Functions in CLA not supported',
  '6881': 'Logical channel not supported or not active',
  '6882': 'Secure messaging not supported',
  '6883': 'Last command of the chain expected',
  '6884': 'Command chaining not supported',
  '6900': 'Command not allowed: no information given',
  '6981': 'Command incompatible with file structure',
  '6982': 'Security status not satisfied',
  '6983': 'Authentication method blocked',
  '6984': 'Reference data not usable (GP: referenced data invalidated)',
  '6985': 'Conditions of use not satisfied',
  '6986': 'Command not allowed (no current EF)',
  '6987': 'Expected secure messaging data objects missing',
  '6988': 'Incorrect secure messaging data objects',
  '6999': 'Applet selection failed',
  '6A00': 'Wrong parameters P1-P2: no information given',
  '6A80': 'Incorrect parameters in the command data field (GP: incorrect values in command data)',
  '6A81': 'Function not supported',
  '6A82': 'File or application not found',
  '6A83': 'Record not found',
  '6A84': 'Not enough memory space',
  '6A85': 'Nc inconsistent with TLV structure',
  '6A86': 'Incorrect parameters P1-P2',
  '6A87': 'Nc inconsistent with parameters P1-P2',
  '6A88': 'Referenced data or reference data not found',
  '6A89': 'File already exists',
  '6A8A': 'DF name already exists',
  '6B00': 'Wrong parameters P1-P2',
  '6D00': 'Instruction code not supported or invalid',
  '6E00': 'Class not supported',
  '6F00': 'No precise diagnosis',
};

export function swClass(sw: number): SwClass {
  const sw1 = sw >> 8;
  if (sw === 0x9000 || sw1 === 0x61 || (sw1 >= 0x90 && sw1 <= 0x9f)) return 'normal';
  if (sw1 === 0x62 || sw1 === 0x63) return 'warning';
  if (sw1 >= 0x64 && sw1 <= 0x66) return 'execution-error';
  if (sw1 >= 0x67 && sw1 <= 0x6f) return 'checking-error';
  return 'unknown';
}

/** Meaning of a status word; `ins` lets command-specific meanings win (GP chapter 11 error tables). */
export function describeSw(swIn: string | number, ins?: number): SwInfo {
  const sw = typeof swIn === 'number' ? swIn : parseInt(swIn, 16);
  if (!Number.isInteger(sw) || sw < 0 || sw > 0xffff) return { sw: String(swIn), meaning: 'not a status word', class: 'unknown' };
  const hex = sw.toString(16).toUpperCase().padStart(4, '0');
  const sw1 = sw >> 8;
  const sw2 = sw & 0xff;
  const cls = swClass(sw);
  let meaning = EXACT[hex];
  if (ins === 0x82 && sw === 0x6300) meaning = 'Authentication of host cryptogram failed';
  else if (ins === 0xa4 && sw === 0x6283) meaning = 'Card life cycle state is CARD_LOCKED';
  else if (ins === 0xf2 && sw === 0x6310) meaning = 'More data available (send GET STATUS [next occurrence])';
  else if (ins === 0xe4 && sw === 0x6a88) meaning = 'Referenced data not found (no such key)';
  else if (ins === 0xe4 && sw === 0x6a82) meaning = 'Application not found';
  else if (ins === 0x50 && sw === 0x6a88) meaning = 'Referenced data not found (no such key set)';
  if (!meaning) {
    if (sw1 === 0x61) meaning = `${sw2 === 0 ? 256 : sw2} more bytes available (GET RESPONSE)`;
    else if (sw1 === 0x6c) meaning = `Wrong Le: exactly ${sw2 === 0 ? 256 : sw2} bytes available`;
    else if (sw1 === 0x63 && (sw2 & 0xf0) === 0xc0) meaning = `Warning: counter is ${sw2 & 0x0f} (e.g. tries left)`;
    else if (sw1 === 0x62 && sw2 >= 0x02 && sw2 <= 0x80) meaning = 'Warning: triggering by the card';
    else if (sw1 === 0x64 && sw2 >= 0x02 && sw2 <= 0x80) meaning = 'Execution error: triggering by the card';
    else if (cls === 'warning') meaning = 'Warning';
    else if (cls === 'execution-error') meaning = 'Execution error';
    else if (cls === 'checking-error') meaning = 'Checking error';
    else if (cls === 'normal') meaning = 'Normal processing (proprietary)';
    else meaning = 'Unknown status word';
  }
  return { sw: hex, meaning, class: cls };
}
