import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { fromHex, toHex } from '../gp/index.ts';
import { startSeServer, type SeServer } from '../simulator/ws-server.ts';
import { DriverError } from './channel.ts';
import { newSimulatedSe, runChannelConformance } from './channel.conformance.ts';
import { openChannel } from './open.ts';
import { isTraced } from './traced.ts';
import { WebSocketChannel } from './websocket.ts';

const card = (seId: string) => newSimulatedSe(seId).se;

runChannelConformance('WebSocket', async () => {
  const { se, isdAid, isdKeys } = newSimulatedSe('se-1');
  const server = await startSeServer({ endpoints: [se] });
  const channel = await WebSocketChannel.connect(server.url('se-1'));
  return {
    channel,
    se,
    isdAid,
    isdKeys,
    dispose: async () => {
      await channel.close();
      await server.close();
    },
  };
});

async function kindOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => 'resolved', (x: unknown) => x);
  if (!(e instanceof DriverError)) throw new Error(`expected a DriverError, got ${String(e)}`);
  return `${e.kind}: ${e.message}`;
}

/** A far end that speaks WebSocket but misbehaves as told, to check the driver never hangs. */
async function misbehavingServer(onFrame: (ws: import('ws').WebSocket) => void): Promise<{ url: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) => ws.on('message', () => onFrame(ws)));
  const port = (wss.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/se/x`,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}

describe('WebSocketChannel', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function simulator(...ids: string[]): Promise<SeServer> {
    const server = await startSeServer({ endpoints: ids.map((id) => card(id)) });
    cleanup.push(() => server.close());
    return server;
  }

  it('rejects with DriverError(closed) when the server closes in the middle of a command', async () => {
    const far = await misbehavingServer((ws) => ws.close(1011, 'card fell over'));
    cleanup.push(far.close);
    const ch = await WebSocketChannel.connect(far.url);
    const k = await kindOf(ch.transmit(fromHex('80CA9F7F00'), { timeoutMs: 5000 }));
    expect(k).toMatch(/^closed: .*1011 card fell over/);
    expect(await kindOf(ch.transmit(fromHex('80CA9F7F00')))).toMatch(/^closed/);
  });

  it('rejects with DriverError(closed) when the connection drops without a close handshake', async () => {
    const far = await misbehavingServer((ws) => ws.terminate());
    cleanup.push(far.close);
    const ch = await WebSocketChannel.connect(far.url);
    expect(await kindOf(ch.reset(true, { timeoutMs: 5000 }))).toMatch(/^closed/);
  });

  it('rejects with DriverError(timeout) when the far end never answers', async () => {
    const far = await misbehavingServer(() => {});
    cleanup.push(far.close);
    const ch = await WebSocketChannel.connect(far.url, { timeoutMs: 50 });
    cleanup.push(() => ch.close());
    expect(await kindOf(ch.transmit(fromHex('80CA9F7F00')))).toMatch(/^timeout/);
  });

  it('drops the late reply of a timed-out exchange so the next exchange gets its own answer', async () => {
    let held: (() => void) | undefined;
    const far = await misbehavingServer((ws) => {
      // First frame: answer only when the second arrives, then answer both in order.
      if (!held) held = () => ws.send(fromHex('6A82'), { binary: true });
      else {
        held();
        ws.send(fromHex('9000'), { binary: true });
      }
    });
    cleanup.push(far.close);
    const ch = await WebSocketChannel.connect(far.url);
    cleanup.push(() => ch.close());
    expect(await kindOf(ch.transmit(fromHex('00A4040000'), { timeoutMs: 30 }))).toMatch(/^timeout/);
    expect(toHex(await ch.transmit(fromHex('80CA9F7F00')))).toBe('9000');
  });

  it('turns an error reply into DriverError(protocol) and the connection keeps working', async () => {
    const server = await simulator('se-1');
    const ch = await WebSocketChannel.connect(server.url('se-1'));
    cleanup.push(() => ch.close());
    expect(await kindOf(ch.control({ type: 'launch-missiles' }))).toMatch(/^protocol: .*unknown type/);
    expect(toHex(await ch.transmit(fromHex('80000000')))).toBe('6D00');
    expect((await ch.control({ type: 'atr' })).powered).toBe(true);
  });

  it('refuses an unknown SE with DriverError(unavailable) naming it and the SEs served', async () => {
    const server = await simulator('se-1', 'se-2');
    const url = server.url('se-1').replace('se-1', 'se-9');
    const k = await kindOf(WebSocketChannel.connect(url));
    expect(k).toMatch(/^unavailable: .*404.*se-9.*se-1, se-2/);
  });

  it('reports a refused connection as DriverError(unavailable)', async () => {
    const server = await simulator('se-1');
    const url = server.url('se-1');
    await server.close();
    expect(await kindOf(WebSocketChannel.connect(url))).toMatch(/^unavailable: .*cannot connect/);
  });

  it('rejects with DriverError(closed) when the simulator shuts down', async () => {
    const server = await simulator('se-1');
    const ch = await WebSocketChannel.connect(server.url('se-1'));
    await server.close();
    expect(await kindOf(ch.transmit(fromHex('80CA9F7F00')))).toMatch(/^closed: .*1001/);
  });

  it('is what openChannel("ws://...") gives, traced by default', async () => {
    const server = await simulator('se-1');
    const ch = await openChannel(server.url('se-1'));
    cleanup.push(() => ch.close());
    expect(isTraced(ch)).toBe(true);
    expect(ch.name).toBe(server.url('se-1'));
    expect(toHex(await ch.transmit(fromHex('80000000')))).toBe('6D00');
    expect(await kindOf(openChannel('nfc:reader-1'))).toMatch(/^unavailable: no driver for "nfc:"/);
  });
});
