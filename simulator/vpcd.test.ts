/**
 * The vpcd bridge over a real TCP socket. The far end here is a small listener that speaks vpcd's framing the
 * way the driver does (it stands in for libifdvpcd); drivers/pcsc.test.ts runs the bridge against the real vpcd.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../gp/index.ts';
import { defaultSeSpec } from './default-card.ts';
import { createSimulatedSe } from './factory.ts';
import type { SimulatedSe } from './se.ts';
import { answerVpcd, attachVpcd, parseVpcdAddress, VpcdFramer, vpcdFrame, type VpcdAttachment, type VpcdState } from './vpcd.ts';

const newCard = (seId = 'se-1'): SimulatedSe => createSimulatedSe(defaultSeSpec({ seId }));

/** A vpcd stand-in: accepts the card, sends messages, reads framed answers. */
class FakeVpcd {
  private server: Server;
  private sockets: Socket[] = [];
  private framer = new VpcdFramer();
  private answers: Uint8Array[] = [];
  private want: (() => void) | undefined;
  private onConn: (() => void)[] = [];
  port = 0;

  constructor() {
    this.server = createServer((s) => {
      this.sockets.push(s);
      this.framer = new VpcdFramer();
      s.on('data', (d) => {
        this.answers.push(...this.framer.push(d));
        this.want?.();
      });
      for (const f of this.onConn.splice(0)) f();
    });
  }
  async listen(port = 0): Promise<this> {
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }
  connection(): Promise<void> {
    if (this.sockets.some((s) => !s.destroyed)) return Promise.resolve();
    return new Promise((r) => this.onConn.push(r));
  }
  send(payload: Uint8Array): void {
    const live = this.sockets.filter((s) => !s.destroyed).at(-1);
    if (!live) throw new Error('no card connected');
    live.write(vpcdFrame(payload));
  }
  async ask(payload: Uint8Array): Promise<Uint8Array> {
    this.send(payload);
    while (this.answers.length === 0) await new Promise<void>((r) => (this.want = r));
    return this.answers.shift()!;
  }
  /** Resolves when the card's socket ends (card removed). */
  ended(): Promise<void> {
    const live = this.sockets.at(-1);
    if (!live || live.destroyed) return Promise.resolve();
    return new Promise((r) => live.once('close', () => r()));
  }
  pending(): number {
    return this.answers.length;
  }
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

describe('vpcd framing', () => {
  it('splits a stream into 2-byte big-endian length-prefixed messages across chunk boundaries', () => {
    const f = new VpcdFramer();
    expect(f.push(fromHex('0001'))).toEqual([]);
    expect(f.push(fromHex('04 0005 00A4'))).toEqual([fromHex('04')]);
    expect(f.push(fromHex('040000 0001'))).toEqual([fromHex('00A4040000')]);
    expect(f.push(fromHex('01'))).toEqual([fromHex('01')]);
  });

  it('frames 300 bytes with length 012C and refuses the zero-length message that means removal', () => {
    expect(toHex(vpcdFrame(new Uint8Array(300)).subarray(0, 2))).toBe('012C');
    expect(() => vpcdFrame(new Uint8Array(0))).toThrow(/card removal/);
  });

  it('answers get-ATR even when powered off, controls without answer, APDUs with data and SW', () => {
    const card = newCard();
    expect(answerVpcd(card, fromHex('00'))).toBeUndefined();
    expect(card.powered).toBe(false);
    expect(toHex(answerVpcd(card, fromHex('04'))!)).toBe(toHex(card.atr()));
    // An unpowered card is silent: 6F00, never zero bytes.
    expect(toHex(answerVpcd(card, fromHex('80CA9F7F00'))!)).toBe('6F00');
    expect(answerVpcd(card, fromHex('01'))).toBeUndefined();
    expect(card.powered).toBe(true);
    expect(toHex(answerVpcd(card, fromHex('80CA9F7F00'))!).endsWith('9000')).toBe(true);
    expect(answerVpcd(card, fromHex('02'))).toBeUndefined();
    expect(answerVpcd(card, fromHex('7F'))).toBeUndefined();
  });

  it('parses HOST:PORT for `tsmlab sim --vpcd`', () => {
    expect(parseVpcdAddress(undefined)).toEqual({ host: '127.0.0.1', port: 35963 });
    expect(parseVpcdAddress('10.0.0.2:35964')).toEqual({ host: '10.0.0.2', port: 35964 });
    expect(parseVpcdAddress(':35970')).toEqual({ host: '127.0.0.1', port: 35970 });
    expect(parseVpcdAddress('[::1]:35963')).toEqual({ host: '::1', port: 35963 });
    expect(() => parseVpcdAddress('host:99999')).toThrow(/not a TCP port/);
  });
});

describe('attachVpcd over TCP', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function setup(): Promise<{ vpcd: FakeVpcd; card: SimulatedSe; bridge: VpcdAttachment; states: VpcdState[] }> {
    const vpcd = await new FakeVpcd().listen();
    cleanup.push(() => vpcd.close());
    const card = newCard();
    const states: VpcdState[] = [];
    const bridge = attachVpcd(card, { port: vpcd.port, onState: (s) => states.push(s) });
    cleanup.push(() => bridge.close());
    await bridge.whenInserted();
    await vpcd.connection();
    return { vpcd, card, bridge, states };
  }

  it('is powered, answers the ATR and APDUs as pcscd drives it', async () => {
    const { vpcd, card, bridge } = await setup();
    expect(bridge.address).toBe(`127.0.0.1:${vpcd.port}`);
    vpcd.send(fromHex('01'));
    expect(toHex(await vpcd.ask(fromHex('04')))).toBe(toHex(card.atr()));
    const select = await vpcd.ask(fromHex('00A4040008A000000151000000'));
    expect(toHex(select).startsWith('6F')).toBe(true);
    expect(toHex(select).endsWith('9000')).toBe(true);
    // A 300-byte command crosses the socket whole; the card (not the bridge) answers it.
    expect(toHex(await vpcd.ask(Uint8Array.from([0x80, 0, 0, 0, 0, 1, 0x2c, ...new Uint8Array(300)])))).toBe('6D00');
    // Power off is not answered; the next message's answer is the ATR, proving nothing was sent in between.
    vpcd.send(fromHex('00'));
    expect(toHex(await vpcd.ask(fromHex('04')))).toBe(toHex(card.atr()));
    expect(card.powered).toBe(false);
    expect(vpcd.pending()).toBe(0);
  });

  it('close() removes the card: the socket ends, the card loses power, no reconnect', async () => {
    const { vpcd, card, bridge, states } = await setup();
    vpcd.send(fromHex('01'));
    await vpcd.ask(fromHex('04'));
    expect(card.powered).toBe(true);
    const ended = vpcd.ended();
    await bridge.close();
    await ended;
    expect(bridge.inserted).toBe(false);
    expect(card.powered).toBe(false);
    expect(states).toEqual(['connecting', 'inserted', 'removed', 'closed']);
    await bridge.close();
  });

  it('reconnects when vpcd restarts on the same port', async () => {
    const first = await new FakeVpcd().listen();
    const port = first.port;
    const card = newCard();
    const states: VpcdState[] = [];
    const bridge = attachVpcd(card, { port, reconnectMs: 20, onState: (s) => states.push(s) });
    cleanup.push(() => bridge.close());
    await bridge.whenInserted();
    await first.close();
    await new Promise<void>((r) => {
      const t = setInterval(() => {
        if (!bridge.inserted) {
          clearInterval(t);
          r();
        }
      }, 5);
    });
    const second = await new FakeVpcd().listen(port);
    cleanup.push(() => second.close());
    await bridge.whenInserted();
    await second.connection();
    second.send(fromHex('01'));
    expect(toHex(await second.ask(fromHex('04')))).toBe(toHex(card.atr()));
    expect(states.filter((s) => s === 'inserted')).toHaveLength(2);
    expect(states).toContain('removed');
  });

  it('keeps trying while vpcd is not up yet, and whenInserted rejects once closed', async () => {
    const probe = await new FakeVpcd().listen();
    const port = probe.port;
    await probe.close();
    const bridge = attachVpcd(newCard(), { port, reconnectMs: 10 });
    const waiting = bridge.whenInserted();
    await new Promise((r) => setTimeout(r, 50));
    expect(bridge.inserted).toBe(false);
    await bridge.close();
    await expect(waiting).rejects.toThrow(/attachment closed/);
  });
});
