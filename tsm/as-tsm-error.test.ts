import { describe, expect, it } from 'vitest';
import { CardError, SecureChannelError } from '../gp/index.ts';
import { asTsmError } from './as-tsm-error.ts';
import { MnoGatewayError } from './mno-gateway.ts';
import { TsmError } from './status.ts';

describe('asTsmError: the one mapping into the TSM error family', () => {
  it('returns a TsmError unchanged', () => {
    const e = TsmError.failed('3.9', 'unknown SE "x"');
    expect(asTsmError(e)).toBe(e);
  });

  it('maps operator network failures to 2.5, 5.1 and 5.4 with the responses already received', () => {
    expect(asTsmError(new MnoGatewayError('limit', 'too big')).reasonCode).toBe('2.5');
    expect(asTsmError(new MnoGatewayError('down', 'down')).reasonCode).toBe('5.1');
    const partial = asTsmError(new MnoGatewayError('lost', 'lost', [Uint8Array.of(0x90, 0x00)]));
    expect(partial.reasonCode).toBe('5.4');
    expect(partial.data).toEqual({ responseApdus: ['9000'] });
  });

  it('maps secure channel failures to 6.1, naming the SD when the central TSM was opening its channel', () => {
    const mismatch = new SecureChannelError('card-cryptogram-mismatch', 'cryptogram differs');
    expect(asTsmError(mismatch).message).toBe('secure channel: card-cryptogram-mismatch: cryptogram differs');
    const opening = asTsmError(mismatch, { openingSecureChannelTo: 'A000000151000000' });
    expect(opening.reasonCode).toBe('6.1');
    expect(opening.message).toBe('the card cryptogram of A000000151000000 did not verify (card-cryptogram-mismatch); EXTERNAL AUTHENTICATE not sent');
    const refused = asTsmError(new CardError(0x6982, 'EXTERNAL AUTHENTICATE'), { openingSecureChannelTo: 'A000000151000000' });
    expect(refused.reasonCode).toBe('6.1');
    expect(refused.message).toMatch(/^opening the secure channel to A000000151000000 failed: EXTERNAL AUTHENTICATE failed: 6982/);
  });

  it('calls anything else an internal error (4.2)', () => {
    const card = asTsmError(new CardError(0x6a88, 'GET DATA'));
    expect(card.reasonCode).toBe('4.2');
    expect(card.message).toMatch(/^internal error: GET DATA failed: 6A88/);
    expect(asTsmError('boom').message).toBe('internal error: boom');
  });
});
