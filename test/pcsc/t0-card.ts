/**
 * Makes a simulated SE answer like a T=0 card (ISO/IEC 7816-3 §10.3.3 / 7816-4 §5.3.4): response data of a
 * case-4 command is announced with '61xx' and fetched with GET RESPONSE in pieces of at most 256 bytes; a
 * case-2 command with an Le that does not fit the data gets '6Cxx'. The card behind it answers as usual.
 * Test equipment for the PC/SC driver's 61xx/6Cxx handling; not part of tsmlab.
 */
import { parseCommand, type CommandApdu } from '../../gp/index.ts';
import type { CardEndpoint } from '../../gp/index.ts';

export class T0Card implements CardEndpoint {
  private pending: Uint8Array | undefined;
  /** Every command the card received, in order (hex), to show what the host sent. */
  readonly received: string[] = [];

  constructor(private readonly inner: CardEndpoint) {}

  get seId(): string {
    return this.inner.seId;
  }
  get powered(): boolean {
    return this.inner.powered;
  }
  powerOn(): Uint8Array {
    this.pending = undefined;
    return this.inner.powerOn();
  }
  powerOff(): void {
    this.pending = undefined;
    this.inner.powerOff();
  }
  reset(cold: boolean): Uint8Array {
    this.pending = undefined;
    return this.inner.reset(cold);
  }
  atr(): Uint8Array {
    return this.inner.atr();
  }

  process(command: Uint8Array): Uint8Array {
    this.received.push(Buffer.from(command).toString('hex').toUpperCase());
    let c: CommandApdu;
    try {
      c = parseCommand(command);
    } catch {
      return this.inner.process(command);
    }
    if (c.ins === 0xc0 && (c.cla & 0x80) === 0 && this.pending) return this.getResponse(c.le ?? 256);
    this.pending = undefined;
    const response = this.inner.process(command);
    const data = response.subarray(0, response.length - 2);
    if (data.length === 0) return response;
    const hasData = (c.data?.length ?? 0) > 0;
    if (!hasData && c.le !== undefined && c.le !== 256 && c.le !== data.length && data.length < 256) {
      return Uint8Array.of(0x6c, data.length);
    }
    if (hasData) {
      this.pending = response;
      return Uint8Array.of(0x61, Math.min(data.length, 256) & 0xff);
    }
    return response;
  }

  private getResponse(le: number): Uint8Array {
    const pending = this.pending!;
    const data = pending.subarray(0, pending.length - 2);
    const available = Math.min(data.length, 256);
    if (le !== available && le !== 256) return Uint8Array.of(0x6c, available & 0xff);
    const n = Math.min(le, data.length);
    const chunk = data.slice(0, n);
    const rest = data.subarray(n);
    if (rest.length === 0) {
      this.pending = undefined;
      const out = new Uint8Array(n + 2);
      out.set(chunk);
      out.set(pending.subarray(pending.length - 2), n);
      return out;
    }
    const next = new Uint8Array(rest.length + 2);
    next.set(rest);
    next.set(pending.subarray(pending.length - 2), rest.length);
    this.pending = next;
    const out = new Uint8Array(n + 2);
    out.set(chunk);
    out[n] = 0x61;
    out[n + 1] = Math.min(rest.length, 256) & 0xff;
    return out;
  }
}
