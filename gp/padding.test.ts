import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.ts';
import { pad80, unpad80, wholeBlocksProblem } from './padding.ts';

const h = fromHex;

function unpadded(hex: string, block: number): string {
  const r = unpad80(h(hex), block);
  if (!r.ok) throw new Error(`refused: ${r.problem}`);
  return toHex(r.data);
}

function problem(hex: string, block: number): string {
  const r = unpad80(h(hex), block);
  if (r.ok) throw new Error(`accepted as ${toHex(r.data)}`);
  return r.problem;
}

describe('pad80: the shortest method-2 padding unless told to pad further', () => {
  it('pads to the next whole block, a full block when the data already fills one', () => {
    expect(toHex(pad80(h('0102030405'), 8))).toBe('0102030405800000');
    expect(toHex(pad80(h('01020304050607'), 8))).toBe('0102030405060780');
    expect(toHex(pad80(h('0102030405060708'), 8))).toBe('01020304050607088000000000000000');
    expect(toHex(pad80(new Uint8Array(0), 16))).toBe('80' + '00'.repeat(15));
  });

  it('minBlocks: 11 bytes over two AES blocks, as a card in the field sent them', () => {
    const eleven = h('BF3E085A06898821199000');
    expect(toHex(pad80(eleven, 16, 2))).toBe(toHex(eleven) + '80' + '00'.repeat(20));
    // minBlocks never shortens: data longer than minBlocks blocks still gets its '80'.
    expect(pad80(new Uint8Array(40), 16, 1).length).toBe(48);
    expect(() => pad80(eleven, 16, 1.5)).toThrow(/padding over 1.5 blocks/);
  });
});

describe('unpad80: any method-2 padding over whole blocks', () => {
  it('the shortest padding, in DES and AES blocks', () => {
    expect(unpadded('0102030405800000', 8)).toBe('0102030405');
    expect(unpadded('0102030405060780', 8)).toBe('01020304050607');
    expect(unpadded('8000000000000000', 8)).toBe('');
    expect(unpadded('11223344556677889900AABBCCDDEE80', 16)).toBe('11223344556677889900AABBCCDDEE');
  });

  it('padding longer than one block: the real card answer (11 bytes, 80, twenty 00) and more', () => {
    const eleven = 'BF3E085A06898821199000';
    expect(unpadded(eleven + '80' + '00'.repeat(20), 16)).toBe(eleven);
    expect(unpadded(eleven + '80' + '00'.repeat(36), 16)).toBe(eleven);
    expect(unpadded('80' + '00'.repeat(31), 16)).toBe('');
    expect(unpadded('0102' + '80' + '00'.repeat(13), 8)).toBe('0102');
  });

  it("data that itself ends in '80' or '00' keeps them: only the last '80' starts the padding", () => {
    expect(unpadded('0080' + '80' + '00'.repeat(13), 16)).toBe('0080');
    expect(unpadded('8000' + '80' + '00'.repeat(5), 8)).toBe('8000');
  });

  it("refuses what is not method-2 padding, saying why", () => {
    expect(problem('00'.repeat(16), 16)).toMatch(/all 16 bytes are '00': the '80' that starts the padding is missing/);
    expect(problem('0102030405060708', 8)).toMatch(/last byte is '08'/);
    expect(problem('010280000000AB00', 8)).toMatch(/'AB' at offset 6 before 1 trailing '00': padding is '80' followed only by '00'/);
    expect(problem('0102030400000000', 8)).toMatch(/'04' at offset 3 before 4 trailing '00'/);
    expect(problem('01028000000000', 8)).toMatch(/7 bytes are not a whole number of 8-byte blocks/);
    expect(problem('', 16)).toMatch(/no data/);
  });

  it('wholeBlocksProblem names the ciphertext that cannot be decrypted', () => {
    expect(wholeBlocksProblem(new Uint8Array(32), 16, 'R-ENCRYPTION')).toBeUndefined();
    expect(wholeBlocksProblem(new Uint8Array(20), 16, 'R-ENCRYPTION')).toBe('R-ENCRYPTION: 20 bytes are not a whole number of 16-byte cipher blocks');
    expect(wholeBlocksProblem(new Uint8Array(0), 8, 'C-DECRYPTION')).toBe('C-DECRYPTION: no data');
  });

  it('round trip: every length, every padding size up to four blocks', () => {
    for (const block of [8, 16]) {
      for (let n = 0; n < 3 * block; n++) {
        const data = Uint8Array.from({ length: n }, (_, k) => (k * 37 + 0x80) & 0xff);
        for (let blocks = 0; blocks <= 4; blocks++) {
          const r = unpad80(pad80(data, block, blocks), block);
          expect(r.ok && toHex(r.data)).toBe(toHex(data));
        }
      }
    }
  });
});
