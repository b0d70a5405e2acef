import { describe, expect, it } from 'vitest';
import { commandName, INSTRUCTIONS, insName, isGpClass } from './instructions.ts';
import { GET_STATUS_SUBSET_TEXT, getStatusSubsetOf, Ins } from './commands.ts';

describe('instruction names', () => {
  it('names every instruction gp builds or parses', () => {
    for (const ins of Object.values(Ins)) expect(INSTRUCTIONS[ins]?.gp, `INS ${ins.toString(16)}`).toBe(true);
  });

  it('reads CLA and P1 where GP, ISO and ETSI share an INS', () => {
    expect(commandName(0x80, 0xe2)).toBe('STORE DATA');
    expect(commandName(0x00, 0xe2)).toBe('APPEND RECORD');
    expect(commandName(0x80, 0x50)).toBe('INITIALIZE UPDATE');
    expect(commandName(0x00, 0x50)).toBe('INS 50');
    expect(commandName(0x80, 0xf2, 0x40)).toBe('GET STATUS');
    expect(commandName(0x80, 0xf2, 0x00)).toBe('STATUS');
    expect(commandName(0x00, 0xa4, 0x04)).toBe('SELECT');
    expect(commandName(0x84, 0xe6)).toBe('INSTALL');
    expect(commandName(0x00, 0x01)).toBe('INS 01');
  });

  it('insName names GP commands only', () => {
    expect(insName(0xd8)).toBe('PUT KEY');
    expect(insName(0xb0)).toBe('INS B0');
  });

  it("class 'FF' is not a GP class", () => {
    expect(isGpClass(0x80)).toBe(true);
    expect(isGpClass(0xff)).toBe(false);
    expect(isGpClass(0x00)).toBe(false);
  });
});

describe('GET STATUS subsets', () => {
  it('the highest subset bit of P1 decides, and each subset has its words', () => {
    expect(getStatusSubsetOf(0x80)).toBe('isd');
    expect(getStatusSubsetOf(0x40)).toBe('applications');
    expect(getStatusSubsetOf(0x10)).toBe('load-files-and-modules');
    expect(getStatusSubsetOf(0x02)).toBeUndefined();
    expect(GET_STATUS_SUBSET_TEXT.applications).toBe('applications and Security Domains');
  });
});
