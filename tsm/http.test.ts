/**
 * The SP API at its HTTP edge, over a real socket: contract served, malformed and invalid requests refused in
 * the API's own terms, caller identity, refusals that must happen before any card is reached.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultFleet } from '../profiles/fleet.ts';
import { subscribe, type TraceEvent } from '../trace/index.ts';
import { ManualClock } from './clock.ts';
import { startSpApi, type SpApiServer } from './http.ts';
import { SpClient } from './sp-client.ts';
import { MAX_CLOCK_SKEW_SECONDS } from './timestamp.ts';
import { simulatedTsm, type SimulatedTsm } from '../test/simulated-tsm.ts';

/** Every test here must be refused or answered without a card: opening one is a failure. */
const opened: string[] = [];
const noCard = async (seId: string): Promise<never> => {
  opened.push(seId);
  throw new Error(`test expected no channel to ${seId}`);
};

let server: SpApiServer;
let tsm: SimulatedTsm;
let bank: SpClient;
const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));

beforeAll(async () => {
  tsm = simulatedTsm({ fleet: defaultFleet(), channels: noCard, clock });
  server = await startSpApi(tsm);
  bank = new SpClient({ baseUrl: server.url, serviceProvider: 'BankCo' });
});

afterAll(async () => {
  await server.close();
  expect(opened).toEqual([]);
});

describe('contract', () => {
  it('serves the checked-in OpenAPI document at /openapi.json', async () => {
    const served = await bank.openApi();
    const file = JSON.parse(readFileSync(new URL('./openapi.json', import.meta.url), 'utf8'));
    expect(served).toEqual(file);
    expect(served.openapi).toMatch(/^3\./);
    expect(Object.keys(served.paths as object)).toContain('/conversations/{conversationId}/scripts');
  });

  it('answers an unknown path with a JSON refusal', async () => {
    const r = await bank.raw('GET', '/no/such/function');
    expect(r.httpStatus).toBe(404);
    expect(r.body).toMatchObject({ status: 'Failed', reasonCode: '3.1' });
  });
});

describe('format errors (2.x) name the field', () => {
  it('refuses a body that is not JSON with 2.1', async () => {
    const r = await bank.raw('POST', '/conversations', '{"serviceId": "bankco-pay",');
    expect(r.httpStatus).toBe(400);
    expect(r.body.status).toBe('Failed');
    expect(r.body.reasonCode).toBe('2.1');
    expect(r.body.message).toMatch(/not valid JSON/);
  });

  it('refuses a missing mandatory field with 2.2', async () => {
    const r = await bank.raw('POST', '/conversations', JSON.stringify({ functionCallIdentifier: 'f-1', serviceId: 'bankco-pay' }));
    expect(r.httpStatus).toBe(400);
    expect(r.body).toMatchObject({ status: 'Failed', reasonCode: '2.2', message: 'missing field /requestedOperation' });
  });

  it('refuses an unknown field with 2.1', async () => {
    const r = await bank.raw(
      'POST',
      '/conversations',
      JSON.stringify({ functionCallIdentifier: 'f-2', serviceId: 'bankco-pay', requestedOperation: 'personalize', colour: 'red' }),
    );
    expect(r.body).toMatchObject({ reasonCode: '2.1', message: 'unknown field /colour' });
  });

  it('refuses a value of the wrong form with 2.1 naming it', async () => {
    const r = await bank.raw('POST', '/conversations/conv-x/scripts', JSON.stringify({ functionCallIdentifier: 'f-3', commandApdus: ['00A4040', 'zz'] }));
    expect(r.httpStatus).toBe(400);
    expect(r.body.reasonCode).toBe('2.1');
    expect(r.body.message).toMatch(/^\/commandApdus\/0 /);
    const q = await bank.raw('GET', '/msi/abc/se?mno=MNO-A');
    expect(q.body).toMatchObject({ reasonCode: '2.1', message: '/msisdn has an invalid format' });
    const m = await bank.raw('GET', '/msi/33600000001/se');
    expect(m.body).toMatchObject({ reasonCode: '2.2', message: 'missing field /mno' });
  });

  it('refuses a missing body with 2.2', async () => {
    const r = await bank.raw('POST', '/conversations');
    expect(r.body).toMatchObject({ status: 'Failed', reasonCode: '2.2' });
  });
});

describe('caller identity and registry lookups', () => {
  it('refuses a request without X-SP-Name, and an unknown SP, with 1.1', async () => {
    const r = await fetch(`${server.url}/se/se-1`);
    expect(r.status).toBe(401);
    expect(await r.json()).toMatchObject({ status: 'Failed', reasonCode: '1.1' });
    const evil = new SpClient({ baseUrl: server.url, serviceProvider: 'EvilCo' });
    expect((await evil.getSeData('se-1')).body).toMatchObject({ status: 'Failed', reasonCode: '1.1' });
  });

  it('finds the SE of a subscriber on its MNO only', async () => {
    const ok = await bank.getSeIdByMsi('+33600000001', 'MNO-A');
    expect(ok.httpStatus).toBe(200);
    expect(ok.body).toMatchObject({ status: 'Executed-Success', seId: 'se-1', mno: 'MNO-A' });
    const wrongMno = await bank.getSeIdByMsi('+33600000001', 'MNO-B');
    expect(wrongMno.body).toMatchObject({ status: 'Failed', reasonCode: '3.9' });
    const unknown = await bank.getSeIdByMsi('+33699999999', 'MNO-A');
    expect(unknown.httpStatus).toBe(404);
    expect(unknown.body).toMatchObject({ status: 'Failed', reasonCode: '3.9' });
  });

  it('gives SE data with the MNO, the SE type and only the caller’s services', async () => {
    const r = await bank.getSeData('se-1');
    expect(r.body).toMatchObject({ status: 'Executed-Success', mno: 'MNO-A', seType: 'eSE', bearer: 'http-admin', gpVersion: '2.3.1' });
    const services = (r.body as { services: { id: string }[] }).services.map((s) => s.id);
    expect(services).toEqual(['bankco-pay']);
    const uicc = await bank.getSeData('se-2');
    expect(uicc.body).toMatchObject({ mno: 'MNO-B', seType: 'UICC', bearer: 'sms' });
  });
});

describe('refusals before any card is reached', () => {
  it("refuses 1.2 when an SP begins a conversation on another SP's service, naming it", async () => {
    const r = await bank.beginConversation({ seId: 'se-1', serviceId: 'transitco-ticket', requestedOperation: 'personalize' });
    expect(r.httpStatus).toBe(403);
    expect(r.body).toMatchObject({ status: 'Failed', reasonCode: '1.2' });
    expect(r.body.message).toContain('TransitCo');
  });

  it("refuses 1.2 when an SP activates another SP's service", async () => {
    const r = await bank.activateService('transitco-ticket', { seId: 'se-1' });
    expect(r.body).toMatchObject({ status: 'Failed', reasonCode: '1.2' });
  });

  it('refuses 1.2 a target that is not the SP’s, and 3.10 an MSI that is not the SE’s', async () => {
    const r = await bank.beginConversation({ seId: 'se-1', serviceId: 'bankco-pay', requestedOperation: 'manage', targetAid: 'A000000151000000' });
    expect(r.body).toMatchObject({ reasonCode: '1.2' });
    const q = await bank.beginConversation({ seId: 'se-1', msisdn: '+33700000002', mno: 'MNO-B', serviceId: 'bankco-pay', requestedOperation: 'read' });
    expect(q.body).toMatchObject({ reasonCode: '3.10' });
  });

  it('answers 3.9 for an unknown conversation and an unknown service', async () => {
    expect((await bank.sendScript('conv-nope', ['00A4040000'])).body).toMatchObject({ status: 'Failed', reasonCode: '3.9' });
    expect((await bank.endConversation('conv-nope')).body).toMatchObject({ status: 'Failed', reasonCode: '3.9' });
    expect((await bank.beginConversation({ seId: 'se-1', serviceId: 'nope', requestedOperation: 'read' })).body).toMatchObject({ reasonCode: '3.9' });
  });

  it('answers Expired (5.3) and does nothing when the validity period has passed', async () => {
    const events: TraceEvent[] = [];
    const stop = subscribe((e) => events.push(e));
    const r = await bank.beginConversation({
      seId: 'se-1',
      serviceId: 'bankco-pay',
      requestedOperation: 'personalize',
      requestTimestamp: new Date(clock.now() - 120_000).toISOString(),
      validityPeriod: 60,
    });
    stop();
    expect(r.httpStatus).toBe(410);
    expect(r.body).toMatchObject({ status: 'Expired', reasonCode: '5.3' });
    expect(events.some((e) => e.kind === 'tsm.decision' && e.decision === 'routing')).toBe(false);
  });

  it('refuses 3.3 a functionCallIdentifier reused for a different request, and repeats a refusal identically', async () => {
    const first = await bank.beginConversation({ functionCallIdentifier: 'dup-1', seId: 'se-1', serviceId: 'transitco-ticket', requestedOperation: 'read' });
    const again = await bank.beginConversation({ functionCallIdentifier: 'dup-1', seId: 'se-1', serviceId: 'transitco-ticket', requestedOperation: 'read' });
    expect(again).toEqual(first);
    const other = await bank.beginConversation({ functionCallIdentifier: 'dup-1', seId: 'se-1', serviceId: 'bankco-pay', requestedOperation: 'read' });
    expect(other.body).toMatchObject({ status: 'Failed', reasonCode: '3.3' });
  });

  it('traces every SP request and response, including refusals at the edge', async () => {
    const events: TraceEvent[] = [];
    const stop = subscribe((e) => events.push(e));
    await bank.raw('POST', '/conversations', 'not json');
    await bank.getSeIdByMsi('+33600000001', 'MNO-A');
    stop();
    const kinds = events.filter((e) => e.kind === 'sp.request' || e.kind === 'sp.response').map((e) => e.kind);
    expect(kinds).toEqual(['sp.request', 'sp.response', 'sp.request', 'sp.response']);
    const refused = events.find((e) => e.kind === 'sp.response');
    expect(refused).toMatchObject({ status: 'Failed', reasonCode: '2.1' });
  });
});

describe('bodies are JSON as application/json in UTF-8 only (415 otherwise, nothing executed)', () => {
  // Executed, this asks for an unknown service and is answered 3.9 (404): a 415 shows it was never read.
  const request = JSON.stringify({ functionCallIdentifier: 'ct-1', seId: 'se-1', serviceId: 'no-such-service', requestedOperation: 'read' });
  const post = (body: string | Uint8Array<ArrayBuffer>, contentType?: string) =>
    fetch(`${server.url}/conversations`, {
      method: 'POST',
      headers: { 'X-SP-Name': 'BankCo', ...(contentType ? { 'content-type': contentType } : {}) },
      body,
    }).then(async (r) => ({ httpStatus: r.status, body: (await r.json()) as { status: string; reasonCode?: string; message?: string } }));

  it('executes JSON sent as application/json, with or without charset=utf-8', async () => {
    for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"']) {
      expect(await post(request, type), type).toMatchObject({ httpStatus: 404, body: { reasonCode: '3.9' } });
    }
  });

  it.each([
    ['text/plain', /must be sent with Content-Type: application\/json, not text\/plain/],
    ['text/plain;charset=UTF-8', /not text\/plain/],
    ['application/x-www-form-urlencoded', /not application\/x-www-form-urlencoded/],
    ['multipart/form-data; boundary=x', /not multipart\/form-data/],
    ['application/json; charset=utf-16', /must be UTF-8 JSON, not charset=utf-16/],
  ])('refuses JSON sent as %s', async (type, message) => {
    const r = await post(request, type);
    expect(r.httpStatus).toBe(415);
    expect(r.body).toMatchObject({ status: 'Failed', reasonCode: '2.1', message: expect.stringMatching(message) });
  });

  it('refuses a body without a Content-Type', async () => {
    const r = await post(new TextEncoder().encode(request));
    expect(r.httpStatus).toBe(415);
    expect(r.body.message).toMatch(/the header is missing/);
  });

  it('refuses UTF-16, whatever it is labelled', async () => {
    const utf16 = (bom: boolean) => new Uint8Array(Buffer.from(`${bom ? '\ufeff' : ''}${request}`, 'utf16le'));
    expect(await post(utf16(true), 'application/json; charset=utf-16le')).toMatchObject({ httpStatus: 415, body: { reasonCode: '2.1' } });
    expect(await post(utf16(true), 'application/json')).toMatchObject({ httpStatus: 400, body: { reasonCode: '2.1', message: expect.stringMatching(/not UTF-8/) } });
    expect(await post(utf16(false), 'application/json')).toMatchObject({ httpStatus: 400, body: { reasonCode: '2.1' } });
  });
});

describe(`requestTimestamp: strict RFC 3339, at most ${MAX_CLOCK_SKEW_SECONDS} s ahead of the clock`, () => {
  const begin = (requestTimestamp: string, validityPeriod?: number) =>
    bank.beginConversation({ seId: 'se-1', serviceId: 'no-such-service', requestedOperation: 'read', requestTimestamp, ...(validityPeriod !== undefined ? { validityPeriod } : {}) });

  it('refuses a date that does not exist instead of reading 30 February as 2 March', async () => {
    const r = await begin('2030-02-30T00:00:00Z', 86400 * 60);
    expect(r.httpStatus).toBe(400);
    expect(r.body).toMatchObject({ status: 'Failed', reasonCode: '2.1', message: '/requestTimestamp "2030-02-30T00:00:00Z" has no day 30: 2030-02 has 28 days' });
  });

  it('refuses forms that are not RFC 3339', async () => {
    for (const t of ['2030-01-01', '2030-01-01 00:00:00Z', 'Tue, 01 Jan 2030 00:00:00 GMT']) {
      expect((await begin(t, 60)).body, t).toMatchObject({ reasonCode: '2.1', message: expect.stringMatching(/not an RFC 3339 date-time/) });
    }
  });

  it('refuses a timestamp in year 9999 (validity 0 would otherwise never end) and one just past the skew', async () => {
    const far = await begin('9999-12-31T23:59:59Z', 0);
    expect(far.httpStatus).toBe(400);
    expect(far.body).toMatchObject({ status: 'Failed', reasonCode: '2.1', message: expect.stringMatching(/ahead of the central TSM's clock .* at most 300 s of clock skew/) });
    const justPast = await begin(new Date(clock.now() + (MAX_CLOCK_SKEW_SECONDS + 1) * 1000).toISOString(), 60);
    expect(justPast.body).toMatchObject({ reasonCode: '2.1' });
    expect((await begin(new Date(clock.now() + MAX_CLOCK_SKEW_SECONDS * 1000).toISOString(), 0)).body, 'within the skew: executed').toMatchObject({ reasonCode: '3.9' });
  });

  it('refuses the same in the core, for callers that do not come through HTTP', async () => {
    const ctx = { serviceProvider: 'BankCo', requestTimestamp: '2030-02-30T00:00:00Z', validityPeriod: 60 };
    await expect(tsm.beginConversation(ctx, { serviceId: 'no-such-service', seId: 'se-1', requestedOperation: 'read' })).rejects.toMatchObject({ reasonCode: '2.1', message: expect.stringMatching(/no day 30/) });
  });

  it('documents the skew bound in the OpenAPI document', () => {
    const doc = JSON.parse(readFileSync(new URL('./openapi.json', import.meta.url), 'utf8'));
    expect(doc.components.schemas.RequestTimestamp.description).toContain(`At most ${MAX_CLOCK_SKEW_SECONDS} seconds ahead`);
  });
});
