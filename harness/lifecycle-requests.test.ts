import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultFleet } from '../profiles/fleet.ts';
import { createSimulatedSe } from '../simulator/index.ts';
import { inprocChannels, SpClient, startSpApi, type SpApiServer } from '../tsm/index.ts';
import { actionOfVerb, isServiceAction, requestsToReach, sendServiceRequest, SERVICE_ACTIONS } from './lifecycle-requests.ts';
import { simulatedTsm, type SimulatedTsm } from '../test/simulated-tsm.ts';

describe('requestsToReach', () => {
  it('finds the shortest path of SP requests through the state machine', () => {
    expect(requestsToReach('installed', 'installed')).toEqual([]);
    expect(requestsToReach('installed', 'activated')).toEqual(['activates']);
    expect(requestsToReach('installed', 'deleted')).toEqual(['deletes']);
    expect(requestsToReach('available', 'activated')).toEqual(['pre-personalizes', 'activates']);
    expect(requestsToReach('deleted', 'suspended')).toEqual(['pre-personalizes', 'suspends']);
  });

  it('refuses states no request ends in', () => {
    expect(() => requestsToReach('installed', 'updating')).toThrow(/no SP request/);
    expect(() => requestsToReach('installed', 'available')).toThrow(/no SP request/);
  });

  it('maps plain verbs to requests', () => {
    expect(actionOfVerb('pre-personalize')).toBe('pre-personalizes');
    expect(actionOfVerb('delete')).toBe('deletes');
    expect(() => actionOfVerb('lock')).toThrow(/not a request about a service/);
  });

  it('knows its verbs', () => {
    expect(SERVICE_ACTIONS.every(isServiceAction)).toBe(true);
    expect(isServiceAction('locks')).toBe(false);
  });
});

describe('sendServiceRequest', () => {
  let api: SpApiServer;
  let tsm: SimulatedTsm;
  beforeAll(async () => {
    const fleet = defaultFleet();
    tsm = simulatedTsm({ fleet, channels: inprocChannels(fleet.ses.map((s) => createSimulatedSe(s))) });
    api = await startSpApi(tsm, { port: 0 });
  });
  afterAll(async () => {
    await api.close();
    await tsm.close();
  });

  it('drives a service along a planned path over HTTP, each request landing in its planned state', async () => {
    const bank = new SpClient({ baseUrl: api.url, serviceProvider: 'BankCo' });
    const path = requestsToReach('installed', 'deleted').concat(requestsToReach('deleted', 'suspended'), ['resumes', 'updates']);
    const states: string[] = [];
    for (const action of path) {
      const r = await sendServiceRequest(bank, action, 'bankco-pay');
      expect(r.body.status, `${action}: ${r.body.reasonCode} ${r.body.message}`).toBe('Executed-Success');
      states.push(tsm.operator.service('se-1', 'bankco-pay').state);
    }
    expect(path).toEqual(['deletes', 'pre-personalizes', 'suspends', 'resumes', 'updates']);
    expect(states).toEqual(['deleted', 'installed', 'suspended', 'installed', 'installed']);
  });

  it('passes the common fields through: a repeated functionCallIdentifier answers the first result', async () => {
    const bank = new SpClient({ baseUrl: api.url, serviceProvider: 'BankCo' });
    const first = await sendServiceRequest(bank, 'suspends', 'bankco-pay', { functionCallIdentifier: 'fci-test-1' });
    const again = await sendServiceRequest(bank, 'suspends', 'bankco-pay', { functionCallIdentifier: 'fci-test-1' });
    expect(first.body.status).toBe('Executed-Success');
    expect(again.body).toEqual(first.body);
    await sendServiceRequest(bank, 'resumes', 'bankco-pay');
  });
});
