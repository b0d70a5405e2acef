import { describe, expect, it } from 'vitest';
import { CardError, describeSw, expectSw, isSuccessSw, STATUS_WORDS, SW, swClass, swRangeClass } from './sw.ts';

describe('describeSw', () => {
  it('GP 2.3.1 §11.1.3 general table entries', () => {
    expect(describeSw(0x9000)).toEqual({ sw: 0x9000, hex: '9000', meaning: 'Success', class: 'normal' });
    expect(describeSw(0x6a88).meaning).toBe('Referenced data not found');
    expect(describeSw(0x6a86).meaning).toBe('Incorrect P1 P2');
    expect(describeSw(0x6985).meaning).toBe('Conditions of use not satisfied');
    expect(describeSw(0x6d00).meaning).toMatch(/Instruction/);
    expect(describeSw(0x6e00).meaning).toMatch(/Class/);
    expect(describeSw(0x6581).class).toBe('execution-error');
    expect(describeSw(0x6a84).meaning).toBe('Not enough memory space');
  });

  it('parameterised words: 61xx, 6Cxx, 63Cx', () => {
    expect(describeSw(0x6110)).toMatchObject({ hex: '6110', class: 'normal' });
    expect(describeSw(0x6110).meaning).toMatch(/16 more bytes/);
    expect(describeSw(0x6c00).meaning).toMatch(/256 bytes/);
    expect(describeSw(0x6c08)).toMatchObject({ class: 'checking-error' });
    expect(describeSw(0x63c2)).toMatchObject({ class: 'warning' });
    expect(describeSw(0x63c2).meaning).toMatch(/counter is 2/);
  });

  it('classes per ISO/IEC 7816-4 Table 5', () => {
    expect(swClass(0x6283)).toBe('warning');
    expect(swClass(0x6310)).toBe('warning');
    expect(swClass(0x6400)).toBe('execution-error');
    expect(swClass(0x6700)).toBe('checking-error');
    expect(swClass(0x6982)).toBe('checking-error');
    expect(swClass(0x9484)).toBe('checking-error');
    expect(isSuccessSw(0x9000)).toBe(true);
    expect(isSuccessSw(0x6310)).toBe(false);
  });

  it('9xxx other than 9000 is proprietary, not normal processing; 60xx and SW1 outside 6x/9x are not status words', () => {
    expect(swClass(0x9000)).toBe('normal');
    expect(swClass(0x9100)).toBe('proprietary');
    expect(swClass(0x9f10)).toBe('proprietary');
    expect(describeSw(0x9f10).meaning).toMatch(/Proprietary/);
    expect(isSuccessSw(0x9f10)).toBe(false);
    expect(swClass(0x6000)).toBe('unknown');
    expect(swClass(0x1234)).toBe('unknown');
  });

  it("the table's classes agree with ISO's ranges, except GP's two deprecated PUT KEY errors", () => {
    const differing = Object.entries(STATUS_WORDS)
      .filter(([sw, [cls]]) => cls !== swRangeClass(Number(sw)))
      .map(([sw]) => Number(sw));
    expect(differing).toEqual([0x9484, 0x9485]);
  });

  it("a command's own table wins over the general meaning", () => {
    expect(describeSw(0x6300, 0x82).meaning).toBe('Authentication of host cryptogram failed');
    expect(describeSw(0x6300).meaning).toMatch(/^Warning: no information given/);
    expect(describeSw(0x6a88, 0x50).meaning).toMatch(/no such key set/);
    expect(describeSw(0x6a88, 0xa4).meaning).toBe('Referenced data not found');
  });

  it('deprecated GP words and unknown words', () => {
    expect(describeSw(0x9485).meaning).toMatch(/key check value/);
    expect(describeSw(0x6a8f).meaning).toBe('Wrong parameters P1-P2');
    expect(describeSw(0x1234).meaning).toBe('Unknown status word');
    expect(() => describeSw(0x10000)).toThrow(RangeError);
  });

  it('named constants', () => {
    expect(SW.OK).toBe(0x9000);
    expect(SW.MORE_DATA).toBe(0x6310);
    expect(SW.AUTH_FAILED).toBe(0x6300);
    expect(SW.REFERENCED_DATA_NOT_FOUND).toBe(0x6a88);
  });
});

describe('CardError', () => {
  it('carries the SW, the command and a readable message', () => {
    const e = new CardError(0x6a82, 'SELECT');
    expect(e).toBeInstanceOf(Error);
    expect(e.sw).toBe(0x6a82);
    expect(e.command).toBe('SELECT');
    expect(e.hex).toBe('6A82');
    expect(e.message).toBe('SELECT failed: 6A82 File or application not found');
    expect(new CardError(0x6985, 'DELETE', 'cannot delete').message).toBe('cannot delete');
  });

  it('expectSw throws only for words outside the accepted list', () => {
    expect(() => expectSw(0x9000, 'GET DATA')).not.toThrow();
    expect(() => expectSw(0x6310, 'GET STATUS', [0x9000, 0x6310])).not.toThrow();
    expect(() => expectSw(0x6a88, 'GET DATA')).toThrow(CardError);
  });
});
