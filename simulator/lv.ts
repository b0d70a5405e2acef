/**
 * Reader of the LV-coded data fields of INSTALL (GPCS 2.3.1 §11.5.2.3): one-byte lengths for AIDs and
 * privileges, BER lengths (with the one-byte '80' = 128 exception) for parameters and tokens. Every malformed
 * field is a 6A80 SwError naming the field.
 */
import { SwError, Sw } from './errors.ts';

export class LvReader {
  private i = 0;
  constructor(private readonly data: Uint8Array) {}

  private take(n: number, what: string): Uint8Array {
    if (this.i + n > this.data.length) throw new SwError(Sw.WRONG_DATA, `${what}: truncated`);
    const v = this.data.slice(this.i, this.i + n);
    this.i += n;
    return v;
  }

  /** One-byte length, then the value; `sizes` lists allowed lengths. */
  short(what: string, allowed: (len: number) => boolean): Uint8Array {
    const [len] = this.take(1, what);
    if (!allowed(len)) throw new SwError(Sw.WRONG_DATA, `${what}: length ${len} not allowed`);
    return this.take(len, what);
  }

  aid(what: string, optional = false): Uint8Array {
    return this.short(what, (n) => (optional && n === 0) || (n >= 5 && n <= 16));
  }

  /** BER length ('00'..'80' on one byte, '81 xx', '82 xx xx'), then the value. */
  long(what: string): Uint8Array {
    const [first] = this.take(1, what);
    let len = first;
    if (first > 0x80) {
      const n = first & 0x7f;
      if (n > 2) throw new SwError(Sw.WRONG_DATA, `${what}: length field of ${n} bytes`);
      len = 0;
      for (const b of this.take(n, what)) len = len * 256 + b;
    }
    return this.take(len, what);
  }

  end(what: string): void {
    if (this.i !== this.data.length) throw new SwError(Sw.WRONG_DATA, `${what}: ${this.data.length - this.i} unexpected trailing bytes`);
  }
}
