/** What SCP02 and SCP03 have in common, so the TSM, the SP client and the calculators treat them alike. */
import { type CommandApdu, encodeCommand, type ResponseApdu } from './apdu.ts';
import { GpError } from './errors.ts';

/** GP security level bits (GPCS 2.3.1 §10.6 / Amd D §5.1): C-MAC 01, C-DEC 02, R-MAC 10, R-ENC 20. */
export const SecurityLevel = {
  CMAC: 0x01,
  CDEC: 0x02,
  RMAC: 0x10,
  RENC: 0x20,
} as const;

export interface SessionKeys {
  senc: Uint8Array;
  smac: Uint8Array;
  srmac: Uint8Array;
  /** SCP02 only: session DEK. */
  sdek?: Uint8Array;
}

/** Host side of an open (or opening) secure channel. */
export interface HostSecureChannel {
  readonly scp: '02' | '03';
  readonly level: number;
  readonly sessionKeys: SessionKeys;
  /** Bytes of each C-MAC and R-MAC (SCP03: 16 in S16 mode); 8 when absent. */
  readonly macLength?: number;
  /** Wraps a plain command for the wire (C-MAC, C-DECRYPTION per level). */
  wrap(command: CommandApdu): Uint8Array;
  /** Verifies and unwraps a wire response (R-MAC, R-ENCRYPTION per level). Throws SecureChannelError. */
  unwrap(response: Uint8Array): ResponseApdu;
}

export type SecureChannelErrorKind =
  | 'card-cryptogram-mismatch'
  | 'host-cryptogram-mismatch'
  | 'bad-mac'
  | 'bad-padding'
  | 'malformed-response'
  | 'unsupported';

export class SecureChannelError extends GpError<SecureChannelErrorKind> {
  constructor(
    kind: SecureChannelErrorKind,
    message: string,
    /** 'level' when the requested security level is what cannot be, so a caller can name its own input. */
    readonly about?: 'level',
  ) {
    super(kind, message);
    this.name = 'SecureChannelError';
  }
}

/**
 * What each security level bit protects, in GP's own words (GPCS 2.3.1 §10.6, Amd D §5.1). The trace labels a
 * wrapped exchange with these names, and decoders read a level back from them, so the facts live here once.
 */
export const SECURITY_LEVEL_BITS = [
  { bit: SecurityLevel.CMAC, name: 'C-MAC', protects: 'command' },
  { bit: SecurityLevel.CDEC, name: 'C-DECRYPTION', protects: 'command' },
  { bit: SecurityLevel.RMAC, name: 'R-MAC', protects: 'response' },
  { bit: SecurityLevel.RENC, name: 'R-ENCRYPTION', protects: 'response' },
] as const;

/** Older or shorter spellings a trace may carry for the same bits. */
const LEVEL_ALIASES: Record<string, number> = { 'C-DEC': SecurityLevel.CDEC, 'C-ENC': SecurityLevel.CDEC, 'R-ENC': SecurityLevel.RENC };

/** "C-MAC C-DECRYPTION R-MAC" for 0x13; "none" for 0. */
export function securityLevelText(level: number): string {
  const names = SECURITY_LEVEL_BITS.filter((b) => level & b.bit).map((b) => b.name);
  return names.length ? names.join(' ') : 'none';
}

/**
 * The level bits named by a trace's level text: names as securityLevelText writes them (or their short forms,
 * separated by spaces, '+' or ','), or the level byte in hex ("33"). Undefined when a word is not a level name.
 */
export function parseSecurityLevel(text: string): number | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]{2}$/.test(t)) return parseInt(t, 16);
  if (t.toLowerCase() === 'none') return 0;
  let level = 0;
  for (const word of t.split(/[\s+,]+/).filter(Boolean)) {
    const w = word.toUpperCase();
    const bit = SECURITY_LEVEL_BITS.find((b) => b.name === w)?.bit ?? LEVEL_ALIASES[w];
    if (bit === undefined) return undefined;
    level |= bit;
  }
  return level;
}

/** Length of a C-MAC or R-MAC for a protocol: 8 bytes, except SCP03 in S16 mode (16). */
export const DEFAULT_MAC_LENGTH = 8;

/**
 * One command on an open channel, as the sender knows it: the plain command, the wire bytes, and the one
 * unwrap of its response. A layer that records the exchange (a trace) may unwrap the response first; the
 * channel then reuses that result, so the stateful unwrap (MAC chaining) runs exactly once.
 */
export interface WrappedExchange {
  readonly scp: '02' | '03';
  readonly level: number;
  readonly macLength: number;
  readonly plain: Uint8Array;
  readonly wire: Uint8Array;
  /** Verifies and unwraps the response; a second call with the same bytes returns (or throws) the first result. */
  unwrap(response: Uint8Array): ResponseApdu;
}

/** Wraps `command` on `host` and returns the exchange with a once-only unwrap. */
export function wrapExchange(host: HostSecureChannel, command: CommandApdu): WrappedExchange {
  const plain = encodeCommand(command);
  const wire = host.wrap(command);
  let done: { response: Uint8Array; result?: ResponseApdu; error?: unknown } | undefined;
  return {
    scp: host.scp,
    level: host.level,
    macLength: host.macLength ?? DEFAULT_MAC_LENGTH,
    plain,
    wire,
    unwrap(response: Uint8Array): ResponseApdu {
      if (done) {
        if (!sameBytes(done.response, response)) throw new SecureChannelError('unsupported', 'an exchange unwraps exactly one response');
        if (done.error !== undefined) throw done.error;
        return done.result!;
      }
      done = { response: response.slice() };
      try {
        done.result = host.unwrap(response);
        return done.result;
      } catch (e) {
        done.error = e;
        throw e;
      }
    },
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** What every INITIALIZE UPDATE response starts with, whatever the protocol (GPCS E.5.1.6, Amd D §7.1.1). */
export interface InitializeUpdateHead {
  /** Key diversification data (10 bytes). */
  kdd: Uint8Array;
  kvn: number;
  /** Secure channel protocol identifier: 02 or 03. */
  scpId: number;
}

/** The head of an INITIALIZE UPDATE response (data without SW), or undefined when it is shorter than one. */
export function initializeUpdateHead(data: Uint8Array): InitializeUpdateHead | undefined {
  if (data.length < 12) return undefined;
  return { kdd: data.slice(0, 10), kvn: data[10], scpId: data[11] };
}
