/** ISO/IEC 7816-4 command and response APDUs: cases 1–4, short and extended length. */
import { concat } from './bytes.ts';
import { GpError } from './errors.ts';

export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  /** Command data (Lc field derived from its length). Absent or empty → no Lc. */
  data?: Uint8Array;
  /** Expected response length Ne: undefined → no Le; 256 (short) or 65536 (extended) mean "all". */
  le?: number;
}

export interface ResponseApdu {
  data: Uint8Array;
  sw: number;
}

export class ApduError extends GpError<'bad-apdu'> {
  constructor(message: string) {
    super('bad-apdu', message);
    this.name = 'ApduError';
  }
}

export type ApduCase = 1 | 2 | 3 | 4;

export function apduCase(c: CommandApdu): ApduCase {
  const hasData = !!c.data && c.data.length > 0;
  const hasLe = c.le !== undefined;
  if (!hasData && !hasLe) return 1;
  if (!hasData) return 2;
  if (!hasLe) return 3;
  return 4;
}

function needsExtended(c: CommandApdu): boolean {
  return (c.data?.length ?? 0) > 255 || (c.le ?? 0) > 256;
}

/** Encodes a command; picks extended length only when Lc > 255 or Ne > 256 (or when forced). */
export function encodeCommand(c: CommandApdu, forceExtended = false): Uint8Array {
  for (const [k, v] of [['CLA', c.cla], ['INS', c.ins], ['P1', c.p1], ['P2', c.p2]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new ApduError(`${k} out of range: ${v}`);
  }
  const header = Uint8Array.of(c.cla, c.ins, c.p1, c.p2);
  const data = c.data ?? new Uint8Array(0);
  const ext = forceExtended || needsExtended(c);
  if (data.length > 65535) throw new ApduError(`command data too long: ${data.length}`);
  if (c.le !== undefined && (c.le < 0 || c.le > 65536)) throw new ApduError(`Le out of range: ${c.le}`);
  const parts: Uint8Array[] = [header];
  if (!ext) {
    if (data.length > 0) parts.push(Uint8Array.of(data.length), data);
    if (c.le !== undefined) parts.push(Uint8Array.of(c.le === 256 ? 0 : c.le));
  } else {
    if (data.length > 0) parts.push(Uint8Array.of(0, data.length >> 8, data.length & 0xff), data);
    if (c.le !== undefined) {
      const le = c.le === 65536 ? 0 : c.le;
      parts.push(data.length > 0 ? Uint8Array.of(le >> 8, le & 0xff) : Uint8Array.of(0, le >> 8, le & 0xff));
    }
  }
  return concat(...parts);
}

/** Parses raw command bytes (all four cases, short or extended). Throws ApduError on inconsistent lengths. */
export type CommandHeader = Pick<CommandApdu, 'cla' | 'ins' | 'p1' | 'p2'>;

/** The four header bytes alone, for readers of traces that may hold a shortened or wrapped body. */
export function commandHeader(raw: Uint8Array): CommandHeader {
  if (raw.length < 4) throw new ApduError(`command shorter than a header: ${raw.length} bytes`);
  return { cla: raw[0], ins: raw[1], p1: raw[2], p2: raw[3] };
}

export function parseCommand(raw: Uint8Array): CommandApdu {
  if (raw.length < 4) throw new ApduError(`command shorter than a header: ${raw.length} bytes`);
  const [cla, ins, p1, p2] = raw;
  const body = raw.subarray(4);
  const base = { cla, ins, p1, p2 };
  if (body.length === 0) return base;
  if (body.length === 1) return { ...base, le: body[0] === 0 ? 256 : body[0] };
  if (body[0] !== 0) {
    const lc = body[0];
    if (body.length === 1 + lc) return { ...base, data: body.slice(1) };
    if (body.length === 2 + lc) {
      const le = body[1 + lc];
      return { ...base, data: body.slice(1, 1 + lc), le: le === 0 ? 256 : le };
    }
    throw new ApduError(`Lc=${lc} does not match ${body.length - 1} bytes of body`);
  }
  // Extended length: body[0] == 0
  if (body.length === 3) {
    const le = (body[1] << 8) | body[2];
    return { ...base, le: le === 0 ? 65536 : le };
  }
  if (body.length < 3) throw new ApduError('truncated extended length field');
  const lc = (body[1] << 8) | body[2];
  if (lc === 0) throw new ApduError('extended Lc of zero');
  if (body.length === 3 + lc) return { ...base, data: body.slice(3, 3 + lc) };
  if (body.length === 5 + lc) {
    const le = (body[3 + lc] << 8) | body[4 + lc];
    return { ...base, data: body.slice(3, 3 + lc), le: le === 0 ? 65536 : le };
  }
  throw new ApduError(`extended Lc=${lc} does not match ${body.length - 3} bytes of body`);
}

export function parseResponse(raw: Uint8Array): ResponseApdu {
  if (raw.length < 2) throw new ApduError(`response shorter than a status word: ${raw.length} bytes`);
  return { data: raw.slice(0, raw.length - 2), sw: (raw[raw.length - 2] << 8) | raw[raw.length - 1] };
}

export function encodeResponse(r: ResponseApdu): Uint8Array {
  return concat(r.data, Uint8Array.of(r.sw >> 8, r.sw & 0xff));
}

/** A response with a status word only. */
export function swOnly(sw: number): Uint8Array {
  return Uint8Array.of(sw >> 8, sw & 0xff);
}
