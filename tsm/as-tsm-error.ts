/**
 * The one mapping of everything thrown below the central TSM (operator network, secure channel, bugs) to the
 * TSM error family; the request front (central-tsm.ts) and the HTTP edge answer with its result.
 */
import { SecureChannelError, toHex } from '../gp/index.ts';
import { MnoGatewayError } from './mno-gateway.ts';
import { TsmError } from './status.ts';

/** Maps anything thrown below the core to the one TSM error family. */
export function asTsmError(e: unknown): TsmError {
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
  if (e instanceof SecureChannelError) return TsmError.failed('6.1', `secure channel: ${e.kind}: ${e.message}`);
  return TsmError.failed('4.2', `internal error: ${(e as Error)?.message ?? String(e)}`);
}
