/**
 * The one mapping of everything thrown below the central TSM (operator network, secure channel, card, bugs) to
 * the TSM error family; the request front (central-tsm.ts), the operation and idempotency records and the HTTP
 * edge answer with its result.
 */
import { CardError, SecureChannelError, toHex } from '../gp/index.ts';
import { MnoGatewayError } from './mno-gateway.ts';
import { TsmError } from './status.ts';

/** What the central TSM was doing when e was thrown, where that changes the answer. */
export interface TsmErrorContext {
  /** The AID of the security domain the central TSM was opening its own secure channel to. */
  openingSecureChannelTo?: string;
}

/** Maps anything thrown below the core to the one TSM error family. */
export function asTsmError(e: unknown, context: TsmErrorContext = {}): TsmError {
  if (e instanceof TsmError) return e;
  if (e instanceof MnoGatewayError) {
    switch (e.kind) {
      case 'limit':
        return TsmError.failed('2.5', e.message);
      case 'down':
      case 'unreachable':
        return TsmError.failed('5.1', e.message, e.partial.length ? { responseApdus: e.partial.map((r) => toHex(r)) } : undefined);
      default:
        return TsmError.failed(e.partial.length ? '5.4' : '5.1', e.message, e.partial.length ? { responseApdus: e.partial.map((r) => toHex(r)) } : undefined);
    }
  }
  const sd = context.openingSecureChannelTo;
  if (e instanceof SecureChannelError) {
    if (sd === undefined) return TsmError.failed('6.1', `secure channel: ${e.kind}: ${e.message}`);
    if (e.kind === 'card-cryptogram-mismatch') {
      return TsmError.failed('6.1', `the card cryptogram of ${sd} did not verify (${e.kind}); EXTERNAL AUTHENTICATE not sent`);
    }
    return TsmError.failed('6.1', `secure channel to ${sd}: ${e.kind}: ${e.message}`);
  }
  // A refusal while the channel is being opened (INITIALIZE UPDATE, EXTERNAL AUTHENTICATE) is a verification failure.
  if (e instanceof CardError && sd !== undefined) return TsmError.failed('6.1', `opening the secure channel to ${sd} failed: ${e.message}`);
  return TsmError.failed('4.2', `internal error: ${(e as Error)?.message ?? String(e)}`);
}
