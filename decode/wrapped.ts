/**
 * What of an exchange's wire bytes a secure channel protects, read from the trace event alone: its level says
 * which bytes are a C-MAC, ciphered command data, an R-MAC or ciphered response data. Such bytes are labelled,
 * never parsed; only bytes the level leaves in clear are decoded. The level names are gp's (SECURITY_LEVEL_BITS).
 */
import { claimsSecureMessaging, DEFAULT_MAC_LENGTH, Ins, parseSecurityLevel, SecurityLevel, securityLevelText } from '../gp/index.ts';
import type { SecureChannelInfo } from '../trace/index.ts';

export interface Protection {
  /** "SCP03", or "secure messaging" when the level is not known. */
  scp: string;
  /** Level bits; undefined when the trace does not say (an old trace, or bytes relayed for someone else). */
  level?: number;
  macLength: number;
}

/** How the wire bytes of one part of an exchange split. `body` is in clear when `ciphered` is false. */
export interface WireSplit {
  /** Command or response data without the MAC. */
  body: Uint8Array;
  /** True when `body` is encrypted (or, level unknown, may be): it must not be parsed. */
  ciphered: boolean;
  mac?: Uint8Array;
  /** "C-MAC" or "R-MAC". */
  macName?: string;
}

/**
 * The protection of an exchange from its command event: its `secureChannel`, or — no note, but a CLA claiming
 * secure messaging — protection of unknown level (the bytes are then never parsed).
 */
export function protectionOf(secureChannel: SecureChannelInfo | undefined, commandHex?: string): Protection | undefined {
  if (secureChannel) {
    return { scp: secureChannel.scp, level: parseSecurityLevel(secureChannel.level), macLength: secureChannel.macLength ?? DEFAULT_MAC_LENGTH };
  }
  const cla = commandHex && commandHex.length >= 4 ? parseInt(commandHex.slice(0, 2), 16) : NaN;
  const ins = commandHex && commandHex.length >= 4 ? parseInt(commandHex.slice(2, 4), 16) : NaN;
  // EXTERNAL AUTHENTICATE opens the channel: its data (host cryptogram, C-MAC) is laid out in clear.
  if (Number.isNaN(cla) || cla === 0xff || ins === Ins.EXTERNAL_AUTHENTICATE || !claimsSecureMessaging(cla)) return undefined;
  return { scp: 'secure messaging', macLength: DEFAULT_MAC_LENGTH };
}

/** The level in words: "SCP03 C-MAC C-DECRYPTION", or "secure messaging, level not recorded". */
export function protectionText(p: Protection): string {
  return p.level === undefined ? `${p.scp}, level not recorded` : `${p.scp} ${securityLevelText(p.level)}`;
}

/** Command data on the wire: C-MAC at the end under C-MAC; the rest ciphered under C-DECRYPTION. */
export function splitCommandData(data: Uint8Array, p: Protection, cla: number): WireSplit {
  if (p.level === undefined) return { body: data, ciphered: data.length > 0 };
  // A level without C-MAC wraps nothing (the CLA says so too).
  if (!(p.level & SecurityLevel.CMAC) || !claimsSecureMessaging(cla)) return { body: data, ciphered: false };
  const cut = Math.max(0, data.length - p.macLength);
  const body = data.subarray(0, cut);
  return { body, ciphered: (p.level & SecurityLevel.CDEC) !== 0 && body.length > 0, mac: data.subarray(cut), macName: 'C-MAC' };
}

/** Response data on the wire: R-MAC at the end under R-MAC; the rest ciphered under R-ENCRYPTION. */
export function splitResponseData(data: Uint8Array, p: Protection): WireSplit {
  if (data.length === 0) return { body: data, ciphered: false };
  if (p.level === undefined) return { body: data, ciphered: true };
  if (!(p.level & SecurityLevel.RMAC)) return { body: data, ciphered: false };
  const cut = Math.max(0, data.length - p.macLength);
  const body = data.subarray(0, cut);
  return { body, ciphered: (p.level & SecurityLevel.RENC) !== 0 && body.length > 0, mac: data.subarray(cut), macName: 'R-MAC' };
}

/** "ciphered data (24 bytes)", "C-MAC (8 bytes)": the labels of protected bytes. */
export function cipheredLabel(n: number): string {
  return `ciphered data (${n} bytes)`;
}

export function macLabel(name: string, n: number): string {
  return `${name} (${n} bytes)`;
}

/** One line for a report: how the wire bytes of a command or response split, e.g. "ciphered data (24 bytes) + C-MAC (8 bytes)". */
export function wireLayout(s: WireSplit): string {
  const parts: string[] = [];
  if (s.body.length) parts.push(s.ciphered ? cipheredLabel(s.body.length) : `data in clear (${s.body.length} bytes)`);
  if (s.mac) parts.push(macLabel(s.macName ?? 'MAC', s.mac.length));
  return parts.join(' + ') || 'no data';
}

interface CommandLike {
  hex: string;
  plainHex?: string;
  secureChannel?: SecureChannelInfo;
}

interface ResponseLike {
  hex: string;
  plainHex?: string;
  secureChannel?: SecureChannelInfo;
}

const bytes = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const isHex = (h: string) => /^([0-9A-Fa-f]{2})+$/.test(h);

/**
 * The response of an exchange as far as it can be read: the plain form, or the wire bytes when the channel
 * protects nothing in them (no R-MAC, no R-ENCRYPTION, or an error answered bare). Undefined otherwise, so a
 * report never takes ciphered bytes for card data.
 */
export function readableResponseHex(command: CommandLike | undefined, response: ResponseLike): string | undefined {
  if (response.plainHex) return response.plainHex;
  const p = protectionOf(command?.secureChannel ?? response.secureChannel, command?.hex);
  if (!p) return response.hex;
  if (!isHex(response.hex) || response.hex.length < 4) return undefined;
  const split = splitResponseData(bytes(response.hex.slice(0, -4)), p);
  return split.ciphered || split.mac ? undefined : response.hex;
}

/** The command as far as it can be read: the plain form, or the wire bytes when nothing in their data is protected. */
export function readableCommandHex(command: CommandLike): string | undefined {
  if (command.plainHex) return command.plainHex;
  const p = protectionOf(command.secureChannel, command.hex);
  if (!p) return command.hex;
  if (!isHex(command.hex) || command.hex.length < 8) return undefined;
  const raw = bytes(command.hex);
  const split = splitCommandData(commandData(raw), p, raw[0]);
  return split.ciphered || split.mac ? undefined : command.hex;
}

/** "ciphered data (24 bytes) + C-MAC (8 bytes)" for a command's wire data. */
export function commandWireLayout(command: CommandLike): string | undefined {
  const p = protectionOf(command.secureChannel, command.hex);
  if (!p || !isHex(command.hex) || command.hex.length < 8) return undefined;
  const raw = bytes(command.hex);
  return wireLayout(splitCommandData(commandData(raw), p, raw[0]));
}

/** The data field of a command (short or extended length); empty for cases 1 and 2. */
function commandData(raw: Uint8Array): Uint8Array {
  if (raw.length <= 5) return new Uint8Array(0);
  if (raw[4] !== 0) return raw.subarray(5, 5 + raw[4]);
  return raw.length > 7 ? raw.subarray(7, 7 + ((raw[5] << 8) | raw[6])) : new Uint8Array(0);
}

/** The same for a response's wire data. */
export function responseWireLayout(command: CommandLike | undefined, response: ResponseLike): string | undefined {
  const p = protectionOf(command?.secureChannel ?? response.secureChannel, command?.hex);
  if (!p || !isHex(response.hex) || response.hex.length < 4) return undefined;
  return wireLayout(splitResponseData(bytes(response.hex.slice(0, -4)), p));
}
