/**
 * The simulator's error family. `SwError` aborts the command being processed with a status word (the draft
 * state is discarded, so the command has no effect); it never leaves `process`. `SimulatorError` reports a bad
 * card configuration or snapshot to whoever builds the card (constructor, fromJSON).
 */

/** Status words the card answers (GPCS 2.3.1 §11.1.3 and the per-command tables; ISO/IEC 7816-4). */
export const Sw = {
  OK: 0x9000,
  MORE_DATA: 0x6310,
  /** SCP: authentication of host cryptogram failed. */
  AUTH_FAILED: 0x6300,
  CARD_LOCKED_WARNING: 0x6283,
  MEMORY_FAILURE: 0x6581,
  WRONG_LENGTH: 0x6700,
  CHANNEL_NOT_SUPPORTED: 0x6881,
  SM_NOT_SUPPORTED: 0x6882,
  SECURITY_STATUS: 0x6982,
  AUTH_METHOD_BLOCKED: 0x6983,
  CONDITIONS_OF_USE: 0x6985,
  SELECT_FAILED: 0x6999,
  WRONG_DATA: 0x6a80,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  FILE_NOT_FOUND: 0x6a82,
  NOT_ENOUGH_MEMORY: 0x6a84,
  WRONG_P1P2: 0x6a86,
  DATA_NOT_FOUND: 0x6a88,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  NO_DIAGNOSIS: 0x6f00,
} as const;

export class SwError extends Error {
  constructor(
    readonly sw: number,
    message: string,
  ) {
    super(message);
    this.name = 'SwError';
  }
}

export class SimulatorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimulatorError';
  }
}

export function fail(sw: number, message: string): never {
  throw new SwError(sw, message);
}
