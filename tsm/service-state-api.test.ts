/**
 * GetServiceState over real HTTP, with simulated SEs behind the central TSM: the owner reads its service's
 * state (with the note a failure left), another SP is refused, a service id on several SEs needs the SE named.
 * Every answer is checked against tsm/openapi.json.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultFleet } from '../profiles/fleet.ts';
import { createSimulatedSe } from '../simulator/index.ts';
import { inprocChannels } from './channels.ts';
import { startSpApi, type SpApiServer } from './http.ts';
import { responseValidator } from './openapi.ts';
import { SpClient, type SpResult } from './sp-client.ts';
import { simulatedTsm, type SimulatedTsm } from '../test/simulated-tsm.ts';

const checkResponse = responseValidator();
const BANKCO_SD = 'F042414E4B434F2E5344';
const BANKCO_INSTANCE = 'F042414E4B434F2E5041592E31';

let tsm: SimulatedTsm;
let api: SpApiServer;
let bank: SpClient;
let transit: SpClient;

beforeEach(async () => {
  const fleet = defaultFleet();
  tsm = simulatedTsm({ fleet, channels: inprocChannels(fleet.ses.map((s) => createSimulatedSe(s))) });
  api = await startSpApi(tsm);
  bank = new SpClient({ baseUrl: api.url, serviceProvider: 'BankCo' });
  transit = new SpClient({ baseUrl: api.url, serviceProvider: 'TransitCo' });
});

afterEach(async () => {
  await api.close();
  await tsm.close();
});

function valid(r: SpResult): { httpStatus: number; body: Record<string, unknown> } {
  expect(checkResponse('getServiceState', r.httpStatus, r.body)).toBeUndefined();
  return { httpStatus: r.httpStatus, body: r.body as unknown as Record<string, unknown> };
}

describe('GetServiceState', () => {
  it("answers the owner its service's state, SE and instance", async () => {
    const r = valid(await bank.getServiceState('bankco-pay'));
    expect(r.httpStatus).toBe(200);
    expect(r.body).toMatchObject({ status: 'Executed-Success', serviceId: 'bankco-pay', seId: 'se-1', sdAid: BANKCO_SD, instanceAid: BANKCO_INSTANCE, state: 'installed' });
    expect(r.body.note).toBeUndefined();
  });

  it('follows the state changes of the functions the SP asks for', async () => {
    const a = await bank.activateService('bankco-pay', { seId: 'se-1' });
    expect(a.body.status, a.body.message).toBe('Executed-Success');
    expect(valid(await bank.getServiceState('bankco-pay', { seId: 'se-1' })).body).toMatchObject({ state: 'activated' });
    await bank.suspendService('bankco-pay', { seId: 'se-1' });
    const r = valid(await bank.getServiceState('bankco-pay', { msisdn: defaultFleet().ses[0].msisdns[0], mno: defaultFleet().ses[0].mno }));
    expect(r.body).toMatchObject({ status: 'Executed-Success', state: 'suspended' });
    expect(Date.parse(r.body.updatedAt as string)).not.toBeNaN();
  });

  it('carries the note of a failed state', async () => {
    tsm.registry.setServiceState('se-1', 'bankco-pay', 'failed', Date.now(), 'update stopped: the card did not answer');
    const r = valid(await bank.getServiceState('bankco-pay'));
    expect(r.body).toMatchObject({ state: 'failed', note: 'update stopped: the card did not answer' });
  });

  it("refuses another SP's service (1.2) and an unknown service (3.9)", async () => {
    const r = valid(await transit.getServiceState('bankco-pay'));
    expect(r.httpStatus).toBe(403);
    expect(r.body).toMatchObject({ status: 'Failed', reasonCode: '1.2' });
    expect(r.body.message).toMatch(/belongs to BankCo/);
    const u = valid(await bank.getServiceState('no-such-service'));
    expect(u.httpStatus).toBe(404);
    expect(u.body.reasonCode).toBe('3.9');
  });

  it('needs the SE named when the service id is on several SEs', async () => {
    const base = tsm.operator.service('se-1', 'bankco-pay');
    tsm.operator.registerService({ ...base, seId: 'se-2', state: 'available', instanceAid: undefined });
    const r = valid(await bank.getServiceState('bankco-pay'));
    expect(r.body).toMatchObject({ status: 'Failed', reasonCode: '2.2' });
    expect(valid(await bank.getServiceState('bankco-pay', { seId: 'se-2' })).body).toMatchObject({ seId: 'se-2', state: 'available' });
    expect(valid(await bank.getServiceState('bankco-pay', { seId: 'se-1' })).body).toMatchObject({ seId: 'se-1', state: 'installed' });
  });

  it('refuses malformed query parameters (2.x) and an msisdn without mno (2.3)', async () => {
    const bad = valid(await bank.raw('GET', '/services/bankco-pay/state?seId=' + encodeURIComponent('se 1!')));
    expect(bad.body).toMatchObject({ status: 'Failed', reasonCode: '2.1' });
    const half = valid(await bank.getServiceState('bankco-pay', { msisdn: '33600000001' }));
    expect(half.body).toMatchObject({ status: 'Failed', reasonCode: '2.3' });
  });
});
