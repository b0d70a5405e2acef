/**
 * The certification report learns the sample's identity (IIN, CIN, CPLC) from GET DATA answers in the trace.
 * Cards may put the object's length in a long form ('42 81 05 …', '9F7F 81 2A …'): the value is the same.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../gp/index.ts';
import { buildCplc } from '../simulator/cplc.ts';
import type { TraceEvent } from '../trace/index.ts';
import type { ApduExchange } from './apdu-pairs.ts';
import { observeSample, type SampleIdentity } from './evidence.ts';

function exchange(command: string, response: string): ApduExchange {
  const base = { seq: 1, time: 0, corr: {}, apduId: 'a1' };
  return {
    command: { ...base, kind: 'apdu.command', from: 'harness', to: 'se', hex: command } as Extract<TraceEvent, { kind: 'apdu.command' }>,
    response: { ...base, seq: 2, kind: 'apdu.response', from: 'se', to: 'harness', hex: response, sw: response.slice(-4), durationMs: 1 } as Extract<TraceEvent, { kind: 'apdu.response' }>,
  };
}

describe('sample identity from GET DATA answers with long-form lengths', () => {
  it("IIN '42 81 05', CIN '45 82 00 08' and CPLC '9F7F 81 2A' give the plain values", () => {
    const cplc = toHex(buildCplc('se-1', {}));
    const sample: SampleIdentity = { seIds: [] };
    observeSample(sample, exchange('80CA004200', '42810589490112349000'));
    observeSample(sample, exchange('80CA004500', '4582000801020304050607089000'));
    observeSample(sample, exchange('80CA9F7F00', `9F7F812A${cplc}9000`));
    expect(sample.iin).toBe('8949011234');
    expect(sample.cin).toBe('0102030405060708');
    expect(sample.cplc).toBe(cplc);
    expect(sample.cplcFields?.length).toBeGreaterThan(0);
  });

  it('short forms and bare values read as before', () => {
    const sample: SampleIdentity = { seIds: [] };
    observeSample(sample, exchange('80CA004200', '420589490112349000'));
    observeSample(sample, exchange('80CA004500', '01020304050607089000'));
    expect(sample.iin).toBe('8949011234');
    expect(sample.cin).toBe('0102030405060708');
  });
});
