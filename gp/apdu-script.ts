/**
 * A script of command APDUs carried to a card in one go (an OTA script, GPCS Amendment B's remote APDU script) and
 * what comes back. Shared by the central TSM's MNO gateway contract and the simulated operator networks that fulfil
 * it, which may not import each other.
 */

/** How much one script may carry over a bearer. */
export interface ScriptLimits {
  /** Most command APDUs one script may carry. */
  maxApduCount: number;
  /** Most bytes one script may carry: the sum of the command APDUs' lengths. */
  maxScriptSize: number;
}

/** A script; N is what the sender attaches to each command (handed on with it, never read on the way). */
export interface ApduScript<N = unknown> {
  commands: Uint8Array[];
  annotations?: (N | undefined)[];
  /** Asked after each response; true stops the script there (later commands never reach the card). */
  shouldStop?: (response: Uint8Array, index: number) => boolean;
  signal?: AbortSignal;
  /** Deadline per exchange with the card, ms. */
  timeoutMs?: number;
}

/** A script delivered: the card's responses and what the network did to carry them. */
export interface ScriptDelivery {
  ok: true;
  /** One response per command that reached the card, in order. */
  responses: Uint8Array[];
  /** Index of the command after which the script stopped, if `shouldStop` stopped it. */
  stoppedAt?: number;
  /** Segments sent towards the card and back, counting retransmissions. */
  segmentsUp: number;
  segmentsDown: number;
  retransmissions: number;
  /** Network time of the exchange, ms (simulated networks report it without sleeping). */
  networkMs: number;
}

/** The bytes a script carries: the sum of its command APDUs' lengths. */
export function scriptSize(commands: Uint8Array[]): number {
  return commands.reduce((n, c) => n + c.length, 0);
}
