import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../trace/index.ts';
import { plainFormGaps } from './plain-forms.ts';

const corr = { scenario: 'S' };
const command = (apduId: string, hex: string, extra: object = {}) => ({ seq: 1, time: 0, corr, kind: 'apdu.command', from: 'tsm', to: 'se', apduId, hex, ...extra }) as TraceEvent;
const answer = (apduId: string, extra: object = {}) => ({ seq: 2, time: 0, corr, kind: 'apdu.response', from: 'se', to: 'tsm', apduId, hex: '9000', sw: '9000', ...extra }) as TraceEvent;
const sc = { scp: 'SCP03', level: 'C-MAC C-DECRYPTION R-MAC R-ENCRYPTION' };

describe('plainFormGaps', () => {
  it('finds nothing when every wrapped exchange carries its level and plain forms', () => {
    expect(plainFormGaps([command('a', '84E60C0010', { secureChannel: sc, plainHex: '80E60C0008' }), answer('a', { secureChannel: sc, plainHex: '9000' })])).toEqual([]);
  });

  it('a response whose unwrap failed says so instead of a plain form: not a gap', () => {
    expect(plainFormGaps([command('a', '84F2800210', { secureChannel: sc, plainHex: '80F28002024F00' }), answer('a', { unwrapError: 'R-MAC mismatch' })])).toEqual([]);
  });

  it('names what a wrapped exchange lacks', () => {
    const gaps = plainFormGaps([command('a', '84E60C0010'), answer('a'), command('b', '84E2000010', { secureChannel: sc, plainHex: '80E2000004' }), answer('b')]);
    expect(gaps.map((g) => [g.apduId, g.missing])).toEqual([
      ['a', 'the secure channel level, the plain command, the plain response'],
      ['b', 'the plain response'],
    ]);
  });

  it('plain commands, EXTERNAL AUTHENTICATE and the handshake are not wrapped exchanges', () => {
    expect(plainFormGaps([command('a', '00A4040008A000000151000000'), command('b', '8050300008'), command('c', '8482330010'), answer('a'), answer('b'), answer('c')])).toEqual([]);
  });
});
