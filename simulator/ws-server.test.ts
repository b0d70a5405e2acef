import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { toHex } from '../gp/index.ts';
import { createSimulatedSe, defaultSeSpec } from './index.ts';
import { startSeServer, type SeServer } from './ws-server.ts';

const card = (seId: string) => createSimulatedSe(defaultSeSpec({ seId }));

/** A raw protocol client: sends frames, collects replies in order. */
async function client(url: string) {
  const ws = new WebSocket(url);
  const replies: { binary: boolean; data: Buffer }[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data, binary) => {
    replies.push({ binary, data: data as Buffer });
    waiters.shift()?.();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = async () => {
    if (!replies.length) await new Promise<void>((r) => waiters.push(r));
    return replies.shift()!;
  };
  return {
    ws,
    async apdu(hex: string): Promise<string> {
      ws.send(Buffer.from(hex, 'hex'), { binary: true });
      const r = await next();
      expect(r.binary).toBe(true);
      return toHex(r.data);
    },
    async text(text: string): Promise<Record<string, unknown>> {
      ws.send(text);
      const r = await next();
      expect(r.binary).toBe(false);
      return JSON.parse(r.data.toString('utf8'));
    },
  };
}

describe('WebSocket SE server', () => {
  let server: SeServer;
  const sockets: WebSocket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.terminate();
    await server?.close();
  });
  async function start(...ids: string[]) {
    const cards = ids.map((id) => card(id));
    server = await startSeServer({ endpoints: cards, describe: (e) => ({ label: `card ${e.seId}` }) });
    return cards;
  }
  async function connect(seId: string) {
    const c = await client(server.url(seId));
    sockets.push(c.ws);
    return c;
  }

  it('answers a binary command APDU with one binary frame: data ‖ SW1 SW2', async () => {
    await start('se-1');
    const c = await connect('se-1');
    const r = await c.apdu('00A4040008A00000015100000000');
    expect(r.startsWith('6F')).toBe(true);
    expect(r.endsWith('9000')).toBe(true);
    expect(await c.apdu('80000000')).toBe('6D00');
  });

  it('answers each control message with JSON and echoes an id', async () => {
    const [card] = await start('se-1');
    const c = await connect('se-1');
    const atr = toHex(card.atr());
    expect(await c.text('{"type":"atr"}')).toEqual({ type: 'atr', hex: atr, powered: true });
    expect(await c.text('{"type":"reset","cold":true,"id":7}')).toEqual({ type: 'reset', cold: true, hex: atr, id: 7 });
    expect(await c.text('{"type":"reset"}')).toEqual({ type: 'reset', cold: false, hex: atr });
    expect(await c.text('{"type":"power","on":false,"id":"p"}')).toEqual({ type: 'power', on: false, id: 'p' });
    expect(card.powered).toBe(false);
    expect(await c.apdu('00A4040008A00000015100000000')).toBe('6F00');
    expect(await c.text('{"type":"atr"}')).toEqual({ type: 'atr', hex: atr, powered: false });
    expect(await c.text('{"type":"power","on":true}')).toEqual({ type: 'power', on: true, hex: atr });
    expect(card.powered).toBe(true);
  });

  it('answers malformed and unknown messages with a JSON error and keeps the connection', async () => {
    await start('se-1');
    const c = await connect('se-1');
    for (const [text, pattern] of [
      ['not json', /not JSON/],
      ['[1,2]', /JSON object/],
      ['{"cold":true}', /missing "type"/],
      ['{"type":"eject"}', /unknown type "eject"/],
      ['{"type":"power"}', /"on" must be/],
      ['{"type":"reset","cold":"yes"}', /"cold" must be/],
      ['{"type":"atr","id":{}}', /"id" must be/],
    ] as const) {
      const r = await c.text(text);
      expect(r.type).toBe('error');
      expect(String(r.message)).toMatch(pattern);
    }
    expect(await c.apdu('80000000')).toBe('6D00');
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('answers a frame too short to be an APDU with the card\'s status word', async () => {
    await start('se-1');
    const c = await connect('se-1');
    expect(await c.apdu('80')).toBe('6700');
  });

  it('answers 6F00 when the card breaks its contract by throwing', async () => {
    const [card] = await start('se-1');
    card.process = () => {
      throw new Error('bug');
    };
    const c = await connect('se-1');
    expect(await c.apdu('80CA9F7F00')).toBe('6F00');
  });

  it('serves several SEs, each with its own card state, and lists them at GET /se', async () => {
    await start('se-1', 'se 2');
    const a = await connect('se-1');
    const b = await connect('se 2');
    await a.text('{"type":"power","on":false}');
    expect(await b.apdu('80000000')).toBe('6D00');
    expect(server.url('se 2')).toMatch(/\/se\/se%202$/);
    const listing = await (await fetch(`${server.httpUrl}/se`)).json();
    expect(listing).toEqual({
      ses: [
        { seId: 'se-1', url: server.url('se-1'), powered: false, label: 'card se-1' },
        { seId: 'se 2', url: server.url('se 2'), powered: true, label: 'card se 2' },
      ],
    });
    expect((await fetch(`${server.httpUrl}/se/se-9`)).status).toBe(404);
    expect((await fetch(`${server.httpUrl}/nothing`)).status).toBe(404);
  });

  it('refuses the upgrade to an unknown SE with HTTP 404 naming it', async () => {
    await start('se-1');
    const ws = new WebSocket(server.url('se-1').replace('se-1', 'ghost'));
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => resolve(-1));
    });
    expect(status).toBe(404);
    expect(() => server.url('ghost')).toThrow(/ghost/);
  });

  it('serializes clients of one SE: they share the card state', async () => {
    const [card] = await start('se-1');
    const a = await connect('se-1');
    const b = await connect('se-1');
    await a.text('{"type":"power","on":false}');
    expect(await b.apdu('80000000')).toBe('6F00');
    expect(card.powered).toBe(false);
  });

  it('refuses duplicate SE ids and closes idempotently, telling clients why', async () => {
    await expect(startSeServer({ endpoints: [card('x'), card('x')] })).rejects.toThrow(/"x"/);
    await start('se-1');
    const c = await connect('se-1');
    const closed = new Promise<number>((r) => c.ws.once('close', (code) => r(code)));
    await Promise.all([server.close(), server.close()]);
    expect(await closed).toBe(1001);
  });
});
