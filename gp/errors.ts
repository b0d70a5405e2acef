/**
 * The one error family of gp/. Every error class of gp/ extends GpError: `kind` says what went wrong in a word a
 * caller can switch on, `sw` is the status word when a card answered (or would answer) it. Layers above map
 * this family at their edge instead of knowing each class. RangeError stays what it is in JavaScript: a value
 * no caller should have passed (a bug in the caller, not bad input or a card's answer).
 */

/** Kinds of the classes that have no finer kind of their own (SecureChannelError and CapError have). */
export type GpErrorKind =
  | 'card-status'
  | 'bad-command'
  | 'unusable-answer'
  | 'bad-hex'
  | 'bad-apdu'
  | 'bad-key'
  | 'bad-des-input'
  | 'bad-diversification-input'
  | 'unknown-privilege'
  | 'malformed-tlv'
  | 'malformed-registry-data';

export abstract class GpError<K extends string = string> extends Error {
  constructor(
    readonly kind: K,
    message: string,
    readonly sw?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
