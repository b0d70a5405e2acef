/**
 * The central TSM with real simulated SEs behind it, driven by the SP client over real HTTP: routing, limits,
 * time to live, ended conversations, stop at the first failing command, MNO down, idempotency.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultFleet } from '../profiles/fleet.ts';
import { createSimulatedSe, type SimulatedSe } from '../simulator/index.ts';
import { subscribe, type TraceEvent } from '../trace/index.ts';
import type { BeginConversationResponse, SendScriptResponse } from './api-types.ts';
import { inprocChannels } from './channels.ts';
import { ManualClock } from './clock.ts';
import { startSpApi, type SpApiServer } from './http.ts';
import { responseValidator } from './openapi.ts';
import { SpClient } from './sp-client.ts';
import { simulatedTsm, type SimulatedTsm } from '../test/simulated-tsm.ts';

const checkResponse = responseValidator();
/** Every answer of these tests, checked against tsm/openapi.json after each test. */
let answers: { operationId: string; status: number; body: unknown }[] = [];

function operationOf(method: string, url: string): string {
  const path = new URL(url).pathname;
  if (method === 'GET' && /^\/msi\/[^/]+\/se$/.test(path)) return 'getSeIdentifier';
  if (method === 'GET' && /^\/se\/[^/]+$/.test(path)) return 'getSeData';
  if (path === '/conversations') return 'beginConversation';
  if (/\/scripts$/.test(path)) return 'sendScript';
  if (/\/end$/.test(path)) return 'endConversation';
  if (/\/activate$/.test(path)) return 'activateService';
  if (/\/prepersonalize$/.test(path)) return 'prepersonalize';
  if (/\/update$/.test(path)) return 'updateService';
  if (path === '/services/delete') return 'deleteServices';
  if (/\/suspend$/.test(path)) return 'suspendService';
  if (/\/resume$/.test(path)) return 'resumeService';
  return `unknown ${method} ${path}`;
}

/** fetch that keeps a copy of every answer for the contract check. */
const recordingFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  const text = await res.clone().text();
  answers.push({ operationId: operationOf(init?.method ?? 'GET', String(input)), status: res.status, body: JSON.parse(text) });
  return res;
};

const GET_CPLC = '80CA9F7F00';
const UNKNOWN_INS = '80EE000000';
const ISD = 'A000000151000000';
const BANKCO_SD = 'F042414E4B434F2E5344';

let cards: Map<string, SimulatedSe>;
let tsm: SimulatedTsm;
let api: SpApiServer;
let bank: SpClient;
let transit: SpClient;
let clock: ManualClock;
let events: TraceEvent[];
let unsubscribe: () => void;

beforeEach(async () => {
  const fleet = defaultFleet();
  cards = new Map(fleet.ses.map((s) => [s.seId, createSimulatedSe(s)]));
  clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
  tsm = simulatedTsm({ fleet, channels: inprocChannels(cards.values()), clock });
  api = await startSpApi(tsm);
  bank = new SpClient({ baseUrl: api.url, serviceProvider: 'BankCo', fetch: recordingFetch });
  transit = new SpClient({ baseUrl: api.url, serviceProvider: 'TransitCo', fetch: recordingFetch });
  answers = [];
  events = [];
  unsubscribe = subscribe((e) => events.push(e));
});

afterEach(async () => {
  unsubscribe();
  await tsm.close();
  await api.close();
  expect(answers.length).toBeGreaterThan(0);
  for (const a of answers) expect(checkResponse(a.operationId, a.status, a.body)).toBeUndefined();
});

/** Commands that reached an SE (as traced by its channel) since `from`. */
function commandsTo(seId: string, from = 0): TraceEvent[] {
  return events.slice(from).filter((e) => e.kind === 'apdu.command' && e.corr.seId === seId);
}

async function begin(client: SpClient, seId: string, serviceId: string): Promise<BeginConversationResponse> {
  const r = await client.beginConversation({ seId, serviceId, requestedOperation: 'personalize' });
  expect(r.body.status, r.body.message).toBe('Executed-Success');
  return r.body as BeginConversationResponse;
}

describe('routing', () => {
  it('reaches each SE through its own operator and bearer, and says so', async () => {
    const a = await begin(bank, 'se-1', 'bankco-pay');
    expect(a).toMatchObject({ mno: 'MNO-A', bearer: 'http-admin', maxApduCount: 64, maxScriptSize: 16384, targetAid: BANKCO_SD });
    const b = await begin(bank, 'se-2', 'bankco-pay2');
    expect(b).toMatchObject({ mno: 'MNO-B', bearer: 'sms', maxApduCount: 8, maxScriptSize: 1024 });
    const routes = events.filter((e) => e.kind === 'tsm.decision' && e.decision === 'routing').map((e) => (e as { detail: string }).detail);
    expect(routes).toEqual(['se-1 through MNO-A over http-admin', 'se-2 through MNO-B over sms']);
    const hops = events.filter((e) => e.kind === 'mno.hop');
    expect(hops.some((h) => h.kind === 'mno.hop' && h.mno === 'MNO-B' && h.bearer === 'sms')).toBe(true);
    // The conversation's target is selected on the card, so the SP's first command reaches its own SD.
    expect(cards.get('se-1')!.inspect()).toBeDefined();
    const select = commandsTo('se-1')[0] as Extract<TraceEvent, { kind: 'apdu.command' }>;
    expect(select.hex).toContain(BANKCO_SD);
    expect(select.from).toBe('mno');
  });

  it('finds the SE by MSI when the SP gives subscriber and operator', async () => {
    const r = await bank.beginConversation({ msisdn: '+33700000002', mno: 'MNO-B', serviceId: 'bankco-pay2', requestedOperation: 'read' });
    expect(r.body).toMatchObject({ status: 'Executed-Success', seId: 'se-2', bearer: 'sms' });
  });
});

describe('scripts', () => {
  it('carries a script and answers one response per command', async () => {
    const c = await begin(bank, 'se-1', 'bankco-pay');
    const r = await bank.sendScript(c.conversationId, [GET_CPLC, GET_CPLC]);
    const body = r.body as SendScriptResponse;
    expect(r.httpStatus).toBe(200);
    expect(body.status).toBe('Executed-Success');
    expect(body.responseApdus).toHaveLength(2);
    for (const resp of body.responseApdus) expect(resp.endsWith('9000')).toBe(true);
    expect(body.failedApduIndex).toBeUndefined();
  });

  it('stops at the first failing command: its index comes back and the rest never reaches the card', async () => {
    const c = await begin(bank, 'se-1', 'bankco-pay');
    const mark = events.length;
    const r = await bank.sendScript(c.conversationId, [GET_CPLC, UNKNOWN_INS, GET_CPLC, GET_CPLC]);
    const body = r.body as SendScriptResponse;
    expect(body).toMatchObject({ status: 'Failed', reasonCode: '4.2', failedApduIndex: 1 });
    expect(body.responseApdus).toHaveLength(2);
    expect(body.responseApdus[1]).toBe('6D00');
    expect(commandsTo('se-1', mark)).toHaveLength(2);
    const end = await bank.endConversation(c.conversationId);
    expect(end.body).toMatchObject({ status: 'Executed-Success', scriptsExecuted: 1, apdusExecuted: 2 });
  });

  it('refuses a script over the network’s APDU count or size whole (2.5): nothing reaches the card', async () => {
    const c = await begin(bank, 'se-2', 'bankco-pay2');
    const mark = events.length;
    const nine = Array.from({ length: c.maxApduCount + 1 }, () => GET_CPLC);
    const tooMany = await bank.sendScript(c.conversationId, nine);
    expect(tooMany.body).toMatchObject({ status: 'Failed', reasonCode: '2.5' });
    // One byte over the size limit: one command padded with data to exactly maxScriptSize + 1 bytes.
    const dataLen = c.maxScriptSize + 1 - 7;
    const big = `80E2000000${dataLen.toString(16).padStart(4, '0')}${'00'.repeat(dataLen)}`;
    expect(big.length / 2).toBe(c.maxScriptSize + 1);
    const tooBig = await bank.sendScript(c.conversationId, [big]);
    expect(tooBig.body).toMatchObject({ status: 'Failed', reasonCode: '2.5' });
    expect(commandsTo('se-2', mark)).toHaveLength(0);
    // At the limit it goes through.
    const ok = await bank.sendScript(c.conversationId, nine.slice(1));
    expect(ok.body.status).toBe('Executed-Success');
  });

  it("refuses a script that selects an application that is not the SP's (1.2): nothing reaches the card", async () => {
    const c = await begin(bank, 'se-1', 'bankco-pay');
    const mark = events.length;
    const r = await bank.sendScript(c.conversationId, [GET_CPLC, `00A4040008${ISD}00`]);
    expect(r.body).toMatchObject({ status: 'Failed', reasonCode: '1.2' });
    expect(commandsTo('se-1', mark)).toHaveLength(0);
  });

  it("refuses another SP's use of a conversation (1.2)", async () => {
    const c = await begin(bank, 'se-1', 'bankco-pay');
    expect((await transit.sendScript(c.conversationId, [GET_CPLC])).body).toMatchObject({ status: 'Failed', reasonCode: '1.2' });
    expect((await transit.endConversation(c.conversationId)).body).toMatchObject({ status: 'Failed', reasonCode: '1.2' });
  });
});

describe('conversation life', () => {
  it('refuses a script on an ended conversation (3.8): nothing reaches the card', async () => {
    const c = await begin(bank, 'se-1', 'bankco-pay');
    expect((await bank.endConversation(c.conversationId)).body.status).toBe('Executed-Success');
    const mark = events.length;
    const r = await bank.sendScript(c.conversationId, [GET_CPLC]);
    expect(r.body).toMatchObject({ status: 'Failed', reasonCode: '3.8' });
    expect((await bank.endConversation(c.conversationId)).body).toMatchObject({ reasonCode: '3.8' });
    expect(commandsTo('se-1', mark)).toHaveLength(0);
  });

  it('answers Expired past the time to live, sends nothing, and frees the SE', async () => {
    const c = await begin(bank, 'se-1', 'bankco-pay');
    expect(c.timeToLiveSeconds).toBe(300);
    clock.advance(299_000);
    expect((await bank.sendScript(c.conversationId, [GET_CPLC])).body.status).toBe('Executed-Success');
    clock.advance(2_000);
    const mark = events.length;
    const r = await bank.sendScript(c.conversationId, [GET_CPLC]);
    expect(r.httpStatus).toBe(410);
    expect(r.body).toMatchObject({ status: 'Expired', reasonCode: '4.10' });
    expect(commandsTo('se-1', mark)).toHaveLength(0);
    expect(tsm.conversation(c.conversationId)!.state).toBe('expired');
    await begin(transit, 'se-1', 'transitco-ticket');
  });

  it('keeps one conversation per SE at a time (3.7) and lets the SE go when it ends', async () => {
    const c = await begin(bank, 'se-1', 'bankco-pay');
    const second = await transit.beginConversation({ seId: 'se-1', serviceId: 'transitco-ticket', requestedOperation: 'read' });
    expect(second.body).toMatchObject({ status: 'Failed', reasonCode: '3.7' });
    expect(second.body.message).not.toContain('BankCo');
    await bank.endConversation(c.conversationId);
    await begin(transit, 'se-1', 'transitco-ticket');
  });

  it('grants the requested time to live up to the maximum', async () => {
    const r = await bank.beginConversation({ seId: 'se-1', serviceId: 'bankco-pay', requestedOperation: 'read', timeToLive: 86400 });
    expect(r.body).toMatchObject({ status: 'Executed-Success', timeToLiveSeconds: 3600 });
  });
});

describe('MNO down', () => {
  it('answers 5.1 for the SEs behind it, sends nothing, and leaves the other SEs alone', async () => {
    tsm.gateway.setUp('MNO-B', false);
    const mark = events.length;
    const down = await bank.beginConversation({ seId: 'se-2', serviceId: 'bankco-pay2', requestedOperation: 'personalize' });
    expect(down.httpStatus).toBe(503);
    expect(down.body).toMatchObject({ status: 'Failed', reasonCode: '5.1' });
    expect(down.body.message).toContain('MNO-B');
    expect(commandsTo('se-2', mark)).toHaveLength(0);
    const a = await begin(bank, 'se-1', 'bankco-pay');
    expect((await bank.sendScript(a.conversationId, [GET_CPLC])).body.status).toBe('Executed-Success');
    tsm.gateway.setUp('MNO-B', true);
    await begin(bank, 'se-2', 'bankco-pay2');
  });

  it('refuses a script with 5.1 when the network goes down mid-conversation, and carries it once it is back', async () => {
    const c = await begin(bank, 'se-2', 'bankco-pay2');
    tsm.gateway.setUp('MNO-B', false);
    const mark = events.length;
    expect((await bank.sendScript(c.conversationId, [GET_CPLC])).body).toMatchObject({ status: 'Failed', reasonCode: '5.1' });
    expect(commandsTo('se-2', mark)).toHaveLength(0);
    tsm.gateway.setUp('MNO-B', true);
    expect((await bank.sendScript(c.conversationId, [GET_CPLC])).body.status).toBe('Executed-Success');
  });
});

describe('functionCallIdentifier', () => {
  it('answers a repeat with the first result and executes it once', async () => {
    const c = await begin(bank, 'se-1', 'bankco-pay');
    const mark = events.length;
    const first = await bank.sendScript(c.conversationId, [GET_CPLC, GET_CPLC], { functionCallIdentifier: 'script-1' });
    const repeat = await bank.sendScript(c.conversationId, [GET_CPLC, GET_CPLC], { functionCallIdentifier: 'script-1' });
    expect(repeat).toEqual(first);
    expect(commandsTo('se-1', mark)).toHaveLength(2);
    expect(events.some((e) => e.kind === 'tsm.decision' && e.decision === 'idempotency')).toBe(true);
    const other = await bank.sendScript(c.conversationId, [GET_CPLC], { functionCallIdentifier: 'script-1' });
    expect(other.body).toMatchObject({ status: 'Failed', reasonCode: '3.3' });
    // Another SP's identifiers are its own.
    const t = await begin(transit, 'se-2', 'transitco-ticket2');
    expect((await transit.sendScript(t.conversationId, [GET_CPLC], { functionCallIdentifier: 'script-1' })).body.status).toBe('Executed-Success');
  });

  it('repeats a BeginConversation without opening a second conversation', async () => {
    const req = { seId: 'se-1', serviceId: 'bankco-pay', requestedOperation: 'personalize' as const, functionCallIdentifier: 'begin-1' };
    const first = await bank.beginConversation(req);
    const again = await bank.beginConversation(req);
    expect(again.body).toEqual(first.body);
    expect(first.body.status).toBe('Executed-Success');
  });
});

describe('trace', () => {
  it('emits sp.request/sp.response around every function and correlates them with the conversation', async () => {
    const c = await begin(bank, 'se-1', 'bankco-pay');
    await bank.sendScript(c.conversationId, [GET_CPLC]);
    const script = events.filter((e) => (e.kind === 'sp.request' || e.kind === 'sp.response') && e.operation === 'SendScript');
    expect(script.map((e) => e.kind)).toEqual(['sp.request', 'sp.response']);
    for (const e of script) expect(e.corr).toMatchObject({ conversationId: c.conversationId, seId: 'se-1' });
    const apdus = commandsTo('se-1').filter((e) => e.corr.conversationId === c.conversationId);
    expect(apdus.length).toBe(2);
  });
});

describe('service management over HTTP', () => {
  it('pre-personalizes, updates, activates and deletes with answers that match the contract', async () => {
    const pre = await bank.prepersonalize('bankco-pay3', { msisdn: '+33600000003', mno: 'MNO-A' });
    expect(pre.httpStatus).toBe(200);
    expect(pre.body).toMatchObject({ status: 'Executed-Success', seId: 'se-3', state: 'installed' });
    expect((pre.body as { temporaryKeys?: { scp: string } }).temporaryKeys?.scp).toBe('03');
    const upd = await bank.updateService('bankco-pay', { seId: 'se-1', installParameters: '' });
    expect(upd.body).toMatchObject({ status: 'Executed-Success', state: 'installed' });
    expect((await bank.activateService('bankco-pay')).body).toMatchObject({ status: 'Executed-Success', state: 'activated' });
    const sus = await bank.suspendService('bankco-pay');
    expect(sus.body).toMatchObject({ status: 'Executed-Success', state: 'suspended' });
    expect(cards.get('se-1')!.inspect().applications.find((a) => a.aid === 'F042414E4B434F2E5041592E31')!.lifeCycle).toMatch(/LOCKED/);
    expect((await bank.beginConversation({ seId: 'se-1', serviceId: 'bankco-pay', requestedOperation: 'read' })).body).toMatchObject({ reasonCode: '3.8' });
    const res = await bank.resumeService('bankco-pay');
    expect(res.body).toMatchObject({ status: 'Executed-Success', state: 'activated' });
    expect(cards.get('se-1')!.inspect().applications.find((a) => a.aid === 'F042414E4B434F2E5041592E31')!.lifeCycle).not.toMatch(/LOCKED/);
    expect((await bank.resumeService('bankco-pay')).body).toMatchObject({ status: 'Failed', reasonCode: '3.8' });
    const del = await bank.deleteServices(['bankco-pay'], { seId: 'se-1' });
    expect(del.body).toMatchObject({ status: 'Executed-Success', results: [{ serviceId: 'bankco-pay', state: 'deleted' }] });
    const refused = await transit.deleteServices(['bankco-pay2'], { seId: 'se-2' });
    expect(refused.httpStatus).toBe(403);
    expect(refused.body).toMatchObject({ status: 'Failed', reasonCode: '1.2' });
    const empty = await bank.raw('POST', '/services/delete', JSON.stringify({ functionCallIdentifier: 'd-0', serviceIds: [] }));
    expect(empty.body).toMatchObject({ status: 'Failed', reasonCode: '2.1' });
  });
});
