/**
 * ISO/IEC 9797-1 padding method 2 (GPCS B.1.3 for DES, B.2.3 for AES): '80', then '00' up to a whole block.
 * Adding it is strict (the shortest padding). Removing it is lenient on purpose: GPCS describes how to pad,
 * not a bound on how much, and cards in the field send R-ENCRYPTION data padded over two blocks (11 bytes of
 * data, '80' and twenty '00'). So any '80' followed only by '00' bytes, over any number of whole blocks, is
 * padding; everything else is refused with the reason. Every unpadding in the toolkit goes through here.
 */

/** Pads `data` with '80' and '00' bytes to a whole number of `block`-byte blocks, at least `minBlocks` of them. */
export function pad80(data: Uint8Array, block: number, minBlocks = 0): Uint8Array {
  checkBlock(block);
  if (!Number.isInteger(minBlocks) || minBlocks < 0) throw new RangeError(`padding over ${minBlocks} blocks: a whole number of blocks is needed`);
  const blocks = Math.max(Math.floor(data.length / block) + 1, minBlocks);
  const out = new Uint8Array(blocks * block);
  out.set(data);
  out[data.length] = 0x80;
  return out;
}

export type Unpadded = { ok: true; data: Uint8Array } | { ok: false; problem: string };

/**
 * Removes method-2 padding from decrypted `plain` (a whole number of `block`-byte blocks). The problem, when
 * there is one, names what is wrong in terms a lab engineer can check against the bytes.
 */
export function unpad80(plain: Uint8Array, block: number): Unpadded {
  checkBlock(block);
  if (plain.length === 0) return { ok: false, problem: 'no data: padding takes at least one byte' };
  if (plain.length % block !== 0) return { ok: false, problem: `${plain.length} bytes are not a whole number of ${block}-byte blocks` };
  let i = plain.length - 1;
  while (i >= 0 && plain[i] === 0x00) i--;
  if (i < 0) return { ok: false, problem: `all ${plain.length} bytes are '00': the '80' that starts the padding is missing` };
  if (plain[i] === 0x80) return { ok: true, data: plain.slice(0, i) };
  const zeros = plain.length - 1 - i;
  const byte = hex2(plain[i]);
  if (zeros === 0) return { ok: false, problem: `last byte is '${byte}': padding ends with '80' or '00', so there is none` };
  return { ok: false, problem: `'${byte}' at offset ${i} before ${zeros} trailing '00': padding is '80' followed only by '00'` };
}

/** The same check for ciphertext before decryption: present, and whole blocks. Undefined when fine. */
export function wholeBlocksProblem(cipher: Uint8Array, block: number, what: string): string | undefined {
  if (cipher.length === 0) return `${what}: no data`;
  if (cipher.length % block !== 0) return `${what}: ${cipher.length} bytes are not a whole number of ${block}-byte cipher blocks`;
  return undefined;
}

function checkBlock(block: number): void {
  if (!Number.isInteger(block) || block < 1 || block > 255) throw new RangeError(`padding block size ${block}`);
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0').toUpperCase();
}
