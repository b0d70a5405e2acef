/**
 * A host terminal over a CardEndpoint for tests and steps: raw APDUs in, responses out, with a host-side secure
 * channel (gp Scp02Host / Scp03Host) wrapping commands once opened. It verifies the card cryptogram before
 * answering with EXTERNAL AUTHENTICATE, like the real-card safety rules require.
 */
import { type CommandApdu, type ResponseApdu, encodeCommand, fromHex, parseResponse, toHex, type HostSecureChannel, Scp02Host } from '../gp/index.ts';
import type { KeySetSpec } from '../profiles/index.ts';
import type { CardEndpoint } from '../gp/index.ts';
import { openScp03Host } from './terminal-scp03.ts';

export class TerminalError extends Error {
  constructor(
    message: string,
    readonly sw?: number,
  ) {
    super(message);
    this.name = 'TerminalError';
  }
}

export class Terminal {
  channel?: HostSecureChannel;

  constructor(readonly card: CardEndpoint) {}

  /** Sends raw bytes; returns the raw answer. */
  raw(bytes: Uint8Array): Uint8Array {
    return this.card.process(bytes);
  }

  /** Sends a command (wrapped when a channel is open) and returns the (unwrapped) response. */
  send(command: CommandApdu): ResponseApdu {
    if (this.channel) return this.channel.unwrap(this.card.process(this.channel.wrap(command)));
    return parseResponse(this.card.process(encodeCommand(command)));
  }

  /** Like send, but throws TerminalError unless the status word is `expected` (default 9000). */
  ok(command: CommandApdu, expected = 0x9000): Uint8Array {
    const r = this.send(command);
    if (r.sw !== expected) throw new TerminalError(`${toHex(encodeCommand(command)).slice(0, 24)}… answered ${r.sw.toString(16)}, expected ${expected.toString(16)}`, r.sw);
    return r.data;
  }

  /** AID of the last successful SELECT (checks the SCP03 pseudo-random challenge against it). */
  selected?: string;

  select(aid: string): ResponseApdu {
    this.channel = undefined;
    const r = this.send({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: fromHex(aid), le: 256 });
    if (r.sw === 0x9000 || r.sw === 0x6283) this.selected = aid;
    return r;
  }

  /**
   * INITIALIZE UPDATE + EXTERNAL AUTHENTICATE with `keys` at `level`. Returns the EXTERNAL AUTHENTICATE status
   * word; throws TerminalError when INITIALIZE UPDATE fails or the card cryptogram does not verify (then no
   * EXTERNAL AUTHENTICATE is sent).
   */
  open(keys: KeySetSpec, level = 0x01, kvn = 0): number {
    this.channel = undefined;
    const challenge = fromHex('A1A2A3A4A5A6A7A8');
    const key = (h: string) => fromHex(h);
    if (keys.scp === '02') {
      const host = new Scp02Host({ keys: { enc: key(keys.enc), mac: key(keys.mac), dek: key(keys.dek) }, level, i: parseInt(keys.i ?? '55', 16) });
      const iu = parseResponse(this.card.process(encodeCommand(host.initializeUpdate(kvn, challenge))));
      if (iu.sw !== 0x9000) throw new TerminalError(`INITIALIZE UPDATE answered ${iu.sw.toString(16)}`, iu.sw);
      try {
        host.onInitializeUpdateResponse(iu.data);
      } catch (e) {
        throw new TerminalError(`card cryptogram: ${(e as Error).message}`);
      }
      const ea = parseResponse(this.card.process(encodeCommand(host.externalAuthenticate())));
      if (ea.sw === 0x9000) this.channel = host;
      return ea.sw;
    }
    let r: ReturnType<typeof openScp03Host>;
    try {
      r = openScp03Host(this.card, keys, level, kvn, challenge, this.selected);
    } catch (e) {
      throw new TerminalError((e as Error).message);
    }
    if (r.channel) this.channel = r.channel;
    return r.sw;
  }
}
