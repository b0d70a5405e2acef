/**
 * LockSE / UnlockSE over real HTTP against simulated SEs: the card life cycle CARD_LOCKED and back to SECURED
 * (checked on the card itself), set by the central SD under the central TSM's own keys; who may ask; a locked SE
 * refuses conversations and service management with nothing sent; idempotency, validity, persistence, async.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defaultFleet } from '../profiles/fleet.ts';
import type { Fleet } from '../profiles/fleet-types.ts';
import { createSimulatedSe, type SimulatedSe } from '../simulator/index.ts';
import { subscribe, type TraceEvent } from '../trace/index.ts';
import type { Answer, OperationRecord, SpResult } from './index.ts';
import { inprocChannels } from './channels.ts';
import { startSpApi, type SpApiServer } from './http.ts';
import { responseValidator } from './openapi.ts';
import { SpClient } from './sp-client.ts';
import { MemoryStore, type TsmStore } from './store.ts';
import { simulatedTsm, type SimulatedTsm } from '../test/simulated-tsm.ts';

const CENTRAL_SD = 'F043454E5452414C2E5344';
const checkResponse = responseValidator();

let cards: Map<string, SimulatedSe>;
let tsm: SimulatedTsm | undefined;
let api: SpApiServer | undefined;
let events: TraceEvent[];
let stop: (() => void) | undefined;

afterEach(async () => {
  stop?.();
  await tsm?.close();
  await api?.close();
  tsm = undefined;
  api = undefined;
});

async function start(fleet: Fleet = defaultFleet(), store?: TsmStore, keepCards = false) {
  if (!keepCards) cards = new Map(fleet.ses.map((s) => [s.seId, createSimulatedSe(s)]));
  tsm = simulatedTsm({ fleet, channels: inprocChannels(cards.values()), ...(store ? { store } : {}) });
  api = await startSpApi(tsm);
  events = [];
  stop?.();
  stop = subscribe((e) => events.push(e));
  return {
    bank: new SpClient({ baseUrl: api.url, serviceProvider: 'BankCo' }),
    transit: new SpClient({ baseUrl: api.url, serviceProvider: 'TransitCo' }),
  };
}

const lifeCycle = (seId: string) => cards.get(seId)!.inspect().lifeCycle;
const sent = (from = 0) => events.slice(from).filter((e) => e.kind === 'apdu.command').map((e) => (e as { hex: string }).hex);

/** The answer, after checking it against the OpenAPI document. */
function checked<T extends SpResult>(operationId: string, r: T): T {
  expect(checkResponse(operationId, r.httpStatus, r.body)).toBeUndefined();
  return r;
}

describe('LockSE and UnlockSE', () => {
  it('locks the card (CARD_LOCKED) through the central SD under the TSM’s own keys, refuses everything on it, and unlocks it', async () => {
    const { bank, transit } = await start();
    expect(lifeCycle('se-1')).toBe('SECURED');
    const lock = checked('lockSe', await bank.lockSe('se-1', { reason: 'device reported stolen' }));
    expect(lock.httpStatus).toBe(200);
    expect(lock.body).toMatchObject({ status: 'Executed-Success', seId: 'se-1', locked: true, cardLifeCycle: 'CARD_LOCKED', lockedBy: 'BankCo' });
    expect(lifeCycle('se-1')).toBe('CARD_LOCKED');
    // The central SD was selected and authenticated; SET STATUS went wrapped (CLA 84), never in clear.
    const commands = sent();
    expect(commands[0]).toContain(CENTRAL_SD);
    expect(commands.some((h) => h.startsWith('84F080'))).toBe(true);
    expect(commands.some((h) => h.startsWith('80F080'))).toBe(false);
    expect(lifeCycle('se-2')).toBe('SECURED');

    const data = checked('getSeData', await bank.getSeData('se-1'));
    expect(data.body).toMatchObject({ status: 'Executed-Success', locked: true });

    // While locked: conversations and service management are refused 3.8 and nothing reaches the card.
    const mark = events.length;
    const conv = checked('beginConversation', await transit.beginConversation({ seId: 'se-1', serviceId: 'transitco-ticket', requestedOperation: 'read' }));
    expect(conv.body).toMatchObject({ status: 'Failed', reasonCode: '3.8' });
    expect(conv.body.message).toMatch(/locked/);
    expect(checked('activateService', await bank.activateService('bankco-pay')).body).toMatchObject({ status: 'Failed', reasonCode: '3.8' });
    expect(checked('deleteServices', await transit.deleteServices(['transitco-ticket'], { seId: 'se-1' })).body).toMatchObject({ status: 'Failed', reasonCode: '3.8' });
    expect(checked('lockSe', await bank.lockSe('se-1')).body).toMatchObject({ status: 'Failed', reasonCode: '3.8' });
    // Only the SP that asked for the lock may lift it.
    const other = checked('unlockSe', await transit.unlockSe('se-1'));
    expect(other.httpStatus).toBe(403);
    expect(other.body).toMatchObject({ status: 'Failed', reasonCode: '1.2' });
    expect(other.body.message).toContain('BankCo');
    expect(sent(mark)).toEqual([]);
    expect(tsm!.registry.service('se-1', 'transitco-ticket').state).toBe('installed');
    // Other SEs are not affected.
    expect(checked('activateService', await bank.activateService('bankco-pay2', { seId: 'se-2' })).body.status).toBe('Executed-Success');

    const unlock = checked('unlockSe', await bank.unlockSe('se-1'));
    expect(unlock.body).toEqual({ status: 'Executed-Success', seId: 'se-1', locked: false, cardLifeCycle: 'SECURED' });
    expect(lifeCycle('se-1')).toBe('SECURED');
    expect((await bank.getSeData('se-1')).body).toMatchObject({ locked: false });
    expect(checked('unlockSe', await bank.unlockSe('se-1')).body).toMatchObject({ status: 'Failed', reasonCode: '3.8' });
    const again = checked('beginConversation', await transit.beginConversation({ seId: 'se-1', serviceId: 'transitco-ticket', requestedOperation: 'read' }));
    expect(again.body.status).toBe('Executed-Success');
  });

  it('lets only an SP with a service on the SE lock it, and names unknown SEs', async () => {
    const { bank, transit } = await start();
    // se-3 carries only BankCo's service in state available (not on the card); TransitCo has nothing there.
    expect(checked('lockSe', await transit.lockSe('se-3')).body).toMatchObject({ status: 'Failed', reasonCode: '1.2' });
    expect(checked('lockSe', await bank.lockSe('se-3')).body).toMatchObject({ status: 'Failed', reasonCode: '1.2' });
    const unknown = checked('lockSe', await bank.lockSe('se-404'));
    expect(unknown.httpStatus).toBe(404);
    expect(unknown.body).toMatchObject({ status: 'Failed', reasonCode: '3.9' });
    expect(sent()).toEqual([]);
    expect(lifeCycle('se-3')).toBe('SECURED');
    // TransitCo has a service on se-2: it may lock that SE (over the SMS bearer of MNO-B) and unlock it.
    expect(checked('lockSe', await transit.lockSe('se-2')).body.status).toBe('Executed-Success');
    expect(lifeCycle('se-2')).toBe('CARD_LOCKED');
    expect(checked('unlockSe', await transit.unlockSe('se-2')).body.status).toBe('Executed-Success');
    expect(lifeCycle('se-2')).toBe('SECURED');
  });

  it('answers a repeated functionCallIdentifier with the first result and locks once; past its validity period nothing is done', async () => {
    const { bank } = await start();
    const late = checked('lockSe', await bank.lockSe('se-1', { requestTimestamp: new Date(Date.now() - 3600_000).toISOString(), validityPeriod: 60 }));
    expect(late.httpStatus).toBe(410);
    expect(late.body).toMatchObject({ status: 'Expired', reasonCode: '5.3' });
    expect(lifeCycle('se-1')).toBe('SECURED');
    expect(sent()).toEqual([]);

    const first = await bank.lockSe('se-1', { functionCallIdentifier: 'lock-se-1-once' });
    expect(first.body.status).toBe('Executed-Success');
    const mark = events.length;
    const repeat = await bank.lockSe('se-1', { functionCallIdentifier: 'lock-se-1-once' });
    expect(repeat.body).toEqual(first.body);
    expect(sent(mark)).toEqual([]);
    // The same identifier on another request is refused.
    expect((await bank.unlockSe('se-1', { functionCallIdentifier: 'lock-se-1-once' })).body).toMatchObject({ status: 'Failed', reasonCode: '3.3' });
    expect(lifeCycle('se-1')).toBe('CARD_LOCKED');
  });

  it('keeps the lock across a restart of the central TSM, and unlocks from the new one', async () => {
    const store = new MemoryStore();
    const fleet = defaultFleet();
    let { bank } = await start(fleet, store);
    expect((await bank.lockSe('se-1')).body.status).toBe('Executed-Success');
    await tsm!.close();
    await api!.close();
    ({ bank } = await start(fleet, store, true));
    expect((await bank.getSeData('se-1')).body).toMatchObject({ locked: true });
    expect((await bank.activateService('bankco-pay')).body).toMatchObject({ status: 'Failed', reasonCode: '3.8' });
    expect(checked('unlockSe', await bank.unlockSe('se-1')).body.status).toBe('Executed-Success');
    expect(lifeCycle('se-1')).toBe('SECURED');
  });

  it('runs asynchronously when asked: 202, then the result on GET /operations', async () => {
    const { bank } = await start();
    const accepted = checked('lockSe', await bank.lockSe('se-1', { respondAsync: true }));
    expect(accepted.httpStatus).toBe(202);
    const id = (accepted.body as Answer & { operationId: string }).operationId;
    await tsm!.operations.idle();
    const op = checked('getOperation', await bank.getOperation(id));
    const record = (op.body as Answer & { operation: OperationRecord }).operation;
    expect(record).toMatchObject({ operation: 'LockSE', state: 'done', result: { status: 'Executed-Success', locked: true } });
    expect(lifeCycle('se-1')).toBe('CARD_LOCKED');
  });

  it('passes on the card’s refusal when the central SD lacks Card Lock, and records no lock', async () => {
    const fleet = defaultFleet();
    const central = fleet.ses.find((s) => s.seId === 'se-1')!.card.securityDomains!.find((sd) => sd.aid === CENTRAL_SD)!;
    central.privileges = central.privileges!.filter((p) => p !== 'CardLock' && p !== 'FinalApplication');
    const { bank } = await start(fleet);
    const r = checked('lockSe', await bank.lockSe('se-1'));
    // A card refusal is the card's answer, not the TSM's failure: 422 with the status word, never 500.
    expect(r.httpStatus).toBe(422);
    expect(r.body).toMatchObject({ status: 'Failed', reasonCode: '4.2', sw: '6985' });
    expect(r.body.message).toContain('6985');
    expect(lifeCycle('se-1')).toBe('SECURED');
    expect((await bank.getSeData('se-1')).body).toMatchObject({ locked: false });
  });

  it('refuses with 5.1 when the SE’s network is down, and 3.7 while a conversation holds the SE', async () => {
    const { bank, transit } = await start();
    const c = await transit.beginConversation({ seId: 'se-1', serviceId: 'transitco-ticket', requestedOperation: 'read' });
    expect(c.body.status).toBe('Executed-Success');
    expect((await bank.lockSe('se-1')).body).toMatchObject({ status: 'Failed', reasonCode: '3.7' });
    tsm!.gateway.setUp('MNO-A', false);
    expect((await bank.lockSe('se-1')).body).toMatchObject({ status: 'Failed', reasonCode: '5.1' });
    expect(lifeCycle('se-1')).toBe('SECURED');
  });
});
