import { describe, expect, it } from 'vitest';
import { assertMatches, ExpressionError, MismatchError } from './response-match.ts';

describe('assertMatches', () => {
  const response = { status: 'Executed-Success', seId: 'se-1', maxApduCount: 64, responseApdus: ['9000', '6A82'] };

  it('passes only when the expression is exactly true', async () => {
    await expect(assertMatches("seId = 'se-1' and maxApduCount >= 5", response)).resolves.toBeUndefined();
    await expect(assertMatches("responseApdus[1] = '6A82'", response)).resolves.toBeUndefined();
  });

  it('fails on false, on a non-boolean result and on a missing path', async () => {
    await expect(assertMatches("seId = 'se-2'", response)).rejects.toThrow(MismatchError);
    await expect(assertMatches('seId', response)).rejects.toThrow(/gave "se-1"/);
    await expect(assertMatches('noSuchField = 1', response)).rejects.toThrow(MismatchError);
    await expect(assertMatches('noSuchField', response)).rejects.toThrow(/missing from the response/);
  });

  it('points at the bad token of an invalid expression', async () => {
    const err = await assertMatches("seId = = 'x'", response).catch((e) => e);
    expect(err).toBeInstanceOf(ExpressionError);
    expect(err.message).toMatch(/not valid JSONata/);
    expect(err.message).toMatch(/position \d+/);
  });

  it('stops a runaway expression instead of hanging', async () => {
    const err = await assertMatches('($f := function($n){ $f($n + 1) }; $f(0))', response).catch((e) => e);
    expect(err).toBeInstanceOf(ExpressionError);
  });
});
