/**
 * Reconciliation when a card answers what the central TSM's records cannot explain (no restart involved): the
 * TSM reads the card again before it decides anything else about the SE, answers the card's refusal as Failed
 * with the status word (never 500), and leaves the SE or service in a state the SP can repair through the API.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defaultFleet } from '../profiles/fleet.ts';
import { createSimulatedSe, type SimulatedSe } from '../simulator/index.ts';
import { inprocChannels } from './channels.ts';
import { startSpApi, type SpApiServer } from './http.ts';
import { SpClient } from './sp-client.ts';
import { MemoryStore } from './store.ts';
import { simulatedTsm, type SimulatedTsm } from '../test/simulated-tsm.ts';

const SE = 'se-1';
const PAY = 'bankco-pay';
const INSTANCE = 'F042414E4B434F2E5041592E31';

let api: SpApiServer | undefined;
let tsm: SimulatedTsm | undefined;
afterEach(async () => {
  await tsm?.close();
  await api?.close();
  tsm = undefined;
  api = undefined;
});

async function start() {
  const fleet = defaultFleet();
  const cards = new Map<string, SimulatedSe>(fleet.ses.map((s) => [s.seId, createSimulatedSe(s)]));
  tsm = simulatedTsm({ fleet, channels: inprocChannels(cards.values()) });
  api = await startSpApi(tsm);
  const card = () => cards.get(SE)!.inspect();
  return {
    tsm,
    card,
    instance: () => card().applications.find((a) => a.aid === INSTANCE),
    bank: new SpClient({ baseUrl: api.url, serviceProvider: 'BankCo' }),
    transit: new SpClient({ baseUrl: api.url, serviceProvider: 'TransitCo' }),
  };
}

describe('an SE CARD_LOCKED on the card while the central TSM records it unlocked', () => {
  /** The state a crash between the card's lock and the TSM's record left before the journal existed. */
  async function lostLock() {
    const l = await start();
    expect((await l.bank.lockSe(SE)).body).toMatchObject({ status: 'Executed-Success' });
    l.tsm.registry.setSeLock(SE, undefined);
    expect(l.card().lifeCycle).toBe('CARD_LOCKED');
    return l;
  }

  it('a service function answers Failed 3.8 with SW 6283, the TSM records the lock it found, and an SP with a service there unlocks it', async () => {
    const l = await lostLock();
    const r = await l.bank.suspendService(PAY, { seId: SE });
    expect(r.httpStatus).toBe(409);
    expect(r.body).toMatchObject({ status: 'Failed', reasonCode: '3.8', sw: '6283' });
    expect(r.body.message).toMatch(/CARD_LOCKED on the card.*the card was read again/);
    expect(l.instance()?.lifeCycle).toBe('SELECTABLE');
    expect((await l.bank.getServiceState(PAY, { seId: SE })).body).toMatchObject({ state: 'installed' });
    expect((await l.bank.getSeData(SE)).body).toMatchObject({ locked: true });
    // Now the lock is known: further requests are refused before anything is sent.
    expect((await l.bank.resumeService(PAY, { seId: SE })).body).toMatchObject({ status: 'Failed', reasonCode: '3.8' });
    // Nobody's lock on record: TransitCo, with a service on the SE, may lift it as well as BankCo.
    const unlock = await l.transit.unlockSe(SE);
    expect(unlock.body).toMatchObject({ status: 'Executed-Success', locked: false });
    expect(l.card().lifeCycle).toBe('SECURED');
    expect((await l.bank.suspendService(PAY, { seId: SE })).body).toMatchObject({ status: 'Executed-Success', state: 'suspended' });
  });

  it('BeginConversation answers Failed 3.8 with SW 6A81 (not 500) and the TSM records the lock; LockSE is then refused 3.8 and UnlockSE works', async () => {
    const l = await lostLock();
    const r = await l.bank.beginConversation({ seId: SE, serviceId: PAY, requestedOperation: 'personalize' });
    expect(r.httpStatus).toBe(409);
    expect(r.body).toMatchObject({ status: 'Failed', reasonCode: '3.8', sw: '6A81' });
    expect((await l.bank.getSeData(SE)).body).toMatchObject({ locked: true });
    expect((await l.bank.lockSe(SE)).body).toMatchObject({ status: 'Failed', reasonCode: '3.8' });
    expect((await l.bank.unlockSe(SE)).body).toMatchObject({ status: 'Executed-Success', locked: false });
    expect((await l.bank.beginConversation({ seId: SE, serviceId: PAY, requestedOperation: 'personalize' })).body.status).toBe('Executed-Success');
  });

  it('LockSE finds the card already CARD_LOCKED: Failed with the status word, and the lock is recorded for the SP that asked', async () => {
    const l = await lostLock();
    const r = await l.bank.lockSe(SE, { reason: 'stolen' });
    expect(r.httpStatus).not.toBe(500);
    expect(r.body).toMatchObject({ status: 'Failed', sw: '6283' });
    expect((await l.bank.getSeData(SE)).body).toMatchObject({ locked: true });
    // Recorded for BankCo: TransitCo may not lift it.
    expect((await l.transit.unlockSe(SE)).body).toMatchObject({ status: 'Failed', reasonCode: '1.2' });
    expect((await l.bank.unlockSe(SE)).body).toMatchObject({ status: 'Executed-Success' });
  });
});

describe('a card refusal in the middle of an update', () => {
  it('answers Failed 4.2 with the status word (HTTP 422), reads the card again and leaves the service failed as the card shows; an update repairs it', async () => {
    const l = await start();
    const svc = l.tsm.registry.service(SE, PAY);
    const realPackage = svc.packageAid;
    // A package the card does not hold: the DELETE succeeds, the INSTALL is refused.
    svc.packageAid = 'F0554E4B4E4F574E';
    const r = await l.bank.updateService(PAY, { seId: SE });
    expect(r.httpStatus).toBe(422);
    expect(r.body).toMatchObject({ status: 'Failed', reasonCode: '4.2', state: 'failed' });
    expect(r.body).toHaveProperty('sw');
    expect(r.body.message).toMatch(/the card was read again: interrupted while updating at the install step: the instance was deleted/);
    expect(l.instance()).toBeUndefined();
    expect((await l.bank.getServiceState(PAY, { seId: SE })).body).toMatchObject({ state: 'failed' });
    svc.packageAid = realPackage;
    expect((await l.bank.updateService(PAY, { seId: SE })).body).toMatchObject({ status: 'Executed-Success', state: 'installed' });
    expect(l.instance()).toMatchObject({ lifeCycle: 'SELECTABLE' });
  });
});

describe('a journal entry whose card cannot be read at start-up', () => {
  it('leaves the service failed with a note, keeps the entry, and reconciles before the next request on the SE once the card answers; the repeat then answers the decision', async () => {
    const fleet = defaultFleet();
    const cards = new Map<string, SimulatedSe>(fleet.ses.map((s) => [s.seId, createSimulatedSe(s)]));
    const store = new MemoryStore();
    const ctx = { serviceProvider: 'BankCo', functionCallIdentifier: 'suspend-1' };
    // A first TSM suspends; its store is then made to look as if it stopped before recording the outcome.
    const first = simulatedTsm({ fleet, channels: inprocChannels(cards.values()), store });
    await first.suspendService(ctx, { seId: SE, serviceId: PAY });
    await first.close();
    const saved = store.load()!;
    saved.services.find((s) => s.seId === SE && s.id === PAY)!.state = 'installed';
    saved.journal = [{ id: 'j-1', fn: 'suspend', seId: SE, serviceId: PAY, step: 'set-status', from: 'installed', serviceProvider: 'BankCo', functionCallIdentifier: 'suspend-1', at: 0 }];
    saved.operations = saved.operations!.map((o) => ({ ...o, state: 'running', answer: undefined }));
    store.save(saved);

    let reachable = false;
    const base = inprocChannels(cards.values());
    tsm = simulatedTsm({ fleet, store, channels: (seId) => (reachable ? base(seId) : Promise.reject(new Error('no card in the reader'))) });
    const down = await tsm.getServiceState({ serviceProvider: 'BankCo' }, { seId: SE, serviceId: PAY });
    expect(down).toMatchObject({ state: 'failed', note: expect.stringMatching(/could not be inspected at restart/) });
    expect(store.load()!.journal).toHaveLength(1);
    await expect(tsm.suspendService(ctx, { seId: SE, serviceId: PAY })).rejects.toMatchObject({ reasonCode: '5.4', message: expect.stringMatching(/interrupted by a restart/) });

    reachable = true;
    // The next request on the SE reconciles first: the card has the instance LOCKED, so the suspend finished.
    await expect(tsm.resumeService({ serviceProvider: 'BankCo' }, { seId: SE, serviceId: PAY })).resolves.toMatchObject({ state: 'installed' });
    expect(store.load()!.journal).toBeUndefined();
    await expect(tsm.suspendService(ctx, { seId: SE, serviceId: PAY })).resolves.toMatchObject({ status: 'Executed-Success', state: 'suspended' });
    expect(cards.get(SE)!.inspect().applications.find((a) => a.aid === INSTANCE)?.lifeCycle).toBe('SELECTABLE');
  });
});

describe('a journaled request that fails before it changed the card', () => {
  it('ends its journal entry and puts a running state shown already back to the state before (pre-personalization losing the card after its checks)', async () => {
    const fleet = defaultFleet();
    const cards = new Map<string, SimulatedSe>(fleet.ses.map((s) => [s.seId, createSimulatedSe(s)]));
    const base = inprocChannels(cards.values());
    const central = fleet.ses.find((s) => s.seId === 'se-3')!.centralSd.aid;
    let centralSelects = 0;
    const store = new MemoryStore();
    tsm = simulatedTsm({
      fleet,
      store,
      channels: async (seId) => {
        const ch = await base(seId);
        return {
          name: ch.name,
          // The reader loses the card when the central SD is selected the second time (after the eligibility checks).
          transmit: async (c, o) => {
            if (c[1] === 0xa4 && Buffer.from(c.subarray(5, 5 + c[4])).toString('hex').toUpperCase() === central && ++centralSelects === 2) {
              throw new Error('the card was removed');
            }
            return ch.transmit(c, o);
          },
          atr: (o) => ch.atr(o),
          reset: (c, o) => ch.reset(c, o),
          close: () => ch.close(),
        };
      },
    });
    const err = await tsm.prepersonalize({ serviceProvider: 'BankCo' }, { seId: 'se-3', serviceId: 'bankco-pay3' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 'Failed' });
    expect(centralSelects).toBe(2);
    const svc = tsm.registry.service('se-3', 'bankco-pay3');
    expect(svc.state).toBe('available');
    expect(svc.note).toMatch(/^prepersonalize stopped before it changed the card/);
    expect(store.load()!.journal).toBeUndefined();
    expect(cards.get('se-3')!.inspect().securityDomains.map((d) => d.aid)).not.toContain(fleet.ses.find((s) => s.seId === 'se-3')!.services![0].sdAid);
  });
});
