/**
 * Asynchronous management functions over real HTTP: 202 with an operation id, the result by callback (a real
 * local HTTP server), at GET /operations/{id} and on the SP's WebSocket event stream.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultFleet } from '../profiles/fleet.ts';
import { createSimulatedSe, type SimulatedSe } from '../simulator/index.ts';
import { inprocChannels } from './channels.ts';
import type { TsmEvent } from './events.ts';
import { startSpApi, type SpApiServer } from './http.ts';
import { responseValidator } from './openapi.ts';
import { SpClient, SpClientError, type SpEventStream } from './sp-client.ts';
import { simulatedTsm, type SimulatedTsm } from '../test/simulated-tsm.ts';

const BANKCO_SD = 'F042414E4B434F2E5344';
const checkResponse = responseValidator();

let cards: Map<string, SimulatedSe>;
let tsm: SimulatedTsm;
let api: SpApiServer;
let bank: SpClient;
let transit: SpClient;
let callbackServer: Server;
let callbackUrl: string;
let received: { headers: Record<string, unknown>; body: Record<string, unknown> }[];
/** HTTP statuses the callback server answers, in order (then 200). */
let answers: number[];
const streams: SpEventStream[] = [];

beforeEach(async () => {
  const fleet = defaultFleet();
  cards = new Map(fleet.ses.map((s) => [s.seId, createSimulatedSe(s)]));
  tsm = simulatedTsm({ fleet, channels: inprocChannels(cards.values()), callbackRetryDelaysMs: [1, 1, 1] });
  api = await startSpApi(tsm);
  bank = new SpClient({ baseUrl: api.url, serviceProvider: 'BankCo' });
  transit = new SpClient({ baseUrl: api.url, serviceProvider: 'TransitCo' });
  received = [];
  answers = [];
  callbackServer = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(body) });
      res.statusCode = answers.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => callbackServer.listen(0, '127.0.0.1', r));
  callbackUrl = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/tsm-results`;
});

afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await tsm.close();
  await api.close();
  await new Promise((r) => callbackServer.close(r));
});

async function events(client: SpClient): Promise<SpEventStream> {
  const s = await client.openEvents();
  streams.push(s);
  return s;
}

describe('asynchronous operations', () => {
  it('accepts at once, then delivers the result by callback, at GET /operations and on the event stream', async () => {
    const stream = await events(bank);
    const r = await bank.prepersonalize('bankco-pay3', { callbackUrl, functionCallIdentifier: 'pre-1' });
    expect(r.httpStatus).toBe(202);
    expect(checkResponse('prepersonalize', 202, r.body)).toBeUndefined();
    const { operationId } = r.body as unknown as { operationId: string };
    expect(r.body).toMatchObject({ status: 'Executed-Success', operation: 'Prepersonalize', state: 'accepted' });

    const done = (await stream.next((e) => e.type === 'operation' && e.operationId === operationId && e.state === 'done')) as Extract<TsmEvent, { type: 'operation' }>;
    expect(done.result).toMatchObject({ status: 'Executed-Success', state: 'installed', sdAid: BANKCO_SD });
    const states = [
      await stream.next((e) => e.type === 'service-state' && e.to === 'prepersonalizing'),
      await stream.next((e) => e.type === 'service-state' && e.to === 'installed'),
    ];
    expect(states.map((e) => e.type === 'service-state' && `${e.seId}/${e.serviceId}`)).toEqual(['se-3/bankco-pay3', 'se-3/bankco-pay3']);

    await tsm.operations.idle();
    expect(received).toHaveLength(1);
    expect(received[0].headers['x-operation-id']).toBe(operationId);
    expect(received[0].body).toMatchObject({ operationId, operation: 'Prepersonalize', functionCallIdentifier: 'pre-1', result: { status: 'Executed-Success' } });

    const op = await bank.getOperation(operationId);
    expect(checkResponse('getOperation', 200, op.body)).toBeUndefined();
    expect((op.body as unknown as { operation: { state: string; callback: unknown } }).operation).toMatchObject({
      state: 'done',
      callback: { delivered: true, attempts: 1 },
    });
    // The card holds the result.
    expect(cards.get('se-3')!.inspect().securityDomains.some((s) => s.aid === BANKCO_SD)).toBe(true);
  });

  it('answers a repeated functionCallIdentifier with the same operation and runs it once', async () => {
    const a = await bank.deleteServices(['bankco-pay'], { seId: 'se-1', respondAsync: true, functionCallIdentifier: 'del-1' });
    const b = await bank.deleteServices(['bankco-pay'], { seId: 'se-1', respondAsync: true, functionCallIdentifier: 'del-1' });
    const idA = (a.body as unknown as { operationId: string }).operationId;
    expect((b.body as unknown as { operationId: string }).operationId).toBe(idA);
    await tsm.operations.idle();
    const op = (await bank.getOperation(idA)).body as unknown as { operation: { result: { status: string } } };
    expect(op.operation.result.status).toBe('Executed-Success');
  });

  it('retries a callback the SP refuses, and records it given up after the last attempt', async () => {
    answers = [500, 503];
    const r = await bank.activateService('bankco-pay', { callbackUrl });
    const id = (r.body as unknown as { operationId: string }).operationId;
    await tsm.operations.idle();
    expect(received).toHaveLength(3);
    expect(tsm.operations.get(id)!.callback).toEqual({ delivered: true, attempts: 3 });

    answers = [500, 500, 500, 500];
    const again = await bank.deleteServices(['bankco-pay'], { callbackUrl });
    const id2 = (again.body as unknown as { operationId: string }).operationId;
    await tsm.operations.idle();
    expect(tsm.operations.get(id2)!.callback).toEqual({ delivered: false, attempts: 4, lastError: 'HTTP 500' });
  });

  it('runs the validity period check when the operation runs: Expired, nothing done', async () => {
    const r = await bank.updateService('bankco-pay', {
      respondAsync: true,
      requestTimestamp: new Date(Date.now() - 60_000).toISOString(),
      validityPeriod: 1,
    });
    const id = (r.body as unknown as { operationId: string }).operationId;
    await tsm.operations.idle();
    expect(tsm.operations.get(id)!.result).toMatchObject({ status: 'Expired', reasonCode: '5.3' });
    expect(tsm.registry.service('se-1', 'bankco-pay').state).toBe('installed');
  });

  it("keeps each SP to its own operations and events", async () => {
    const transitStream = await events(transit);
    const r = await bank.activateService('bankco-pay', { respondAsync: true });
    const id = (r.body as unknown as { operationId: string }).operationId;
    await tsm.operations.idle();
    const other = await transit.getOperation(id);
    expect(other.httpStatus).toBe(403);
    expect(other.body).toMatchObject({ status: 'Failed', reasonCode: '1.2' });
    expect((await bank.getOperation('op-none')).body).toMatchObject({ status: 'Failed', reasonCode: '3.9' });
    await expect(transitStream.next((e) => e.type === 'operation', 200)).rejects.toBeInstanceOf(SpClientError);
    expect(transitStream.pending()).toEqual([]);
  });

  it('refuses an event stream to an unknown SP', async () => {
    const evil = new SpClient({ baseUrl: api.url, serviceProvider: 'EvilCo' });
    await expect(evil.openEvents()).rejects.toThrow(/HTTP 401/);
  });
});
