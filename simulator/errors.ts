/**
 * The simulator's error family. `SwError` aborts the command being processed with a status word (the draft
 * state is discarded, so the command has no effect); it never leaves `process`. `SimulatorError` reports a bad
 * card configuration or snapshot to whoever builds the card (constructor, fromJSON).
 */
import { SW } from '../gp/index.ts';

/** The status words the card answers, by the simulator's names; values (and meanings) are gp's table. */
export const Sw = {
  OK: SW.OK,
  MORE_DATA: SW.MORE_DATA,
  AUTH_FAILED: SW.AUTH_FAILED,
  CARD_LOCKED_WARNING: SW.CARD_LOCKED,
  MEMORY_FAILURE: SW.MEMORY_FAILURE,
  WRONG_LENGTH: SW.WRONG_LENGTH,
  CHANNEL_NOT_SUPPORTED: SW.CHANNEL_NOT_SUPPORTED,
  SM_NOT_SUPPORTED: SW.SECURE_MESSAGING_NOT_SUPPORTED,
  SECURITY_STATUS: SW.SECURITY_STATUS_NOT_SATISFIED,
  AUTH_METHOD_BLOCKED: SW.AUTH_METHOD_BLOCKED,
  CONDITIONS_OF_USE: SW.CONDITIONS_NOT_SATISFIED,
  SELECT_FAILED: SW.APPLET_SELECTION_FAILED,
  WRONG_DATA: SW.WRONG_DATA,
  FUNCTION_NOT_SUPPORTED: SW.FUNCTION_NOT_SUPPORTED,
  FILE_NOT_FOUND: SW.NOT_FOUND,
  NOT_ENOUGH_MEMORY: SW.NOT_ENOUGH_MEMORY,
  WRONG_P1P2: SW.WRONG_P1P2,
  DATA_NOT_FOUND: SW.REFERENCED_DATA_NOT_FOUND,
  INS_NOT_SUPPORTED: SW.INS_NOT_SUPPORTED,
  CLA_NOT_SUPPORTED: SW.CLA_NOT_SUPPORTED,
  NO_DIAGNOSIS: SW.UNKNOWN,
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
