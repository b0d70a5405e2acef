/** What SCP02 and SCP03 have in common, so the TSM, the SP client and the calculators treat them alike. */
import type { CommandApdu, ResponseApdu } from './apdu.ts';

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

export class SecureChannelError extends Error {
  constructor(
    readonly kind: SecureChannelErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'SecureChannelError';
  }
}
