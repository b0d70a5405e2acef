import { describe, expect, it } from 'vitest';
import { HarnessError, InconclusiveError, verdictErrorNames, verdictOfError } from './index.ts';

describe('verdictOfError: which verdict a thrown error means', () => {
  it('says INCONCLUSIVE for InconclusiveError and keeps its reason', () => {
    const e = new InconclusiveError('card removed');
    expect(verdictOfError(e)).toBe('INCONCLUSIVE');
    expect(e.reason).toBe('card removed');
    expect(e.message).toBe('INCONCLUSIVE: card removed');
  });

  it('says ERROR for the harness and for JavaScript errors of a buggy step, including subclasses', () => {
    class FixtureMissing extends HarnessError {}
    for (const e of [new HarnessError('no fixture'), new FixtureMissing('x'), new TypeError('x is undefined'), new ReferenceError('y')]) {
      expect(verdictOfError(e)).toBe('ERROR');
    }
  });

  it('leaves everything else to FAIL (undefined)', () => {
    expect(verdictOfError(new Error('assertion'))).toBeUndefined();
    expect(verdictOfError(new RangeError('x'))).toBeUndefined();
    expect(verdictOfError('a string')).toBeUndefined();
    expect(verdictOfError(undefined)).toBeUndefined();
  });

  it('names the same classes for results that carry only a name', () => {
    expect(verdictErrorNames()).toEqual({
      inconclusive: ['InconclusiveError'],
      harness: ['HarnessError', 'TypeError', 'ReferenceError', 'SyntaxError'],
    });
    expect(verdictErrorNames({ harness: ['CliError'] }).harness).toContain('CliError');
  });
});
