/**
 * Every card-changing function of the central TSM when `tsmlab serve` is killed between the card's action and
 * its answer: real processes (a `tsmlab sim` with the cards, a `tsmlab serve` with a data directory) and a
 * WebSocket proxy between them that holds the card's answer to the chosen command while the test SIGKILLs the
 * TSM. A second `tsmlab serve` starts on the same data directory; the test reads the card itself through its
 * ISD (GET STATUS with the issuer's keys, directly from the simulator) and checks that the TSM's state equals
 * the card's, that a repeat of the interrupted request's functionCallIdentifier answers what reconciliation
 * decided without sending anything, that no answer is a 500, and that the SP can carry on from there.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketChannel } from '../../drivers/websocket.ts';
import { CardViewError, encodeCommand, fromHex, openIssuerChannel, parseResponse, readCardView, selectByAid, SW, type CardView } from '../../gp/index.ts';
import { defaultFleet } from '../../profiles/fleet.ts';
import type { KeySetSpec } from '../../profiles/fleet-types.ts';
import { SpClient, SpClientError, type Answer, type SpResult } from '../../tsm/index.ts';
import { CrashProxy, startSim } from './crash-proxy-fixture.ts';
import { ins, INS_DELETE, INS_INSTALL, killNow, startServe } from './serve-crash-fixture.ts';
import { killChildren } from './child-fixture.ts';

const INS_SET_STATUS = 0xf0;
const P1_CARD = 0x80;
const P1_APPLICATION = 0x40;
const P1_CONTACTLESS_AVAILABILITY = 0x01;
const P1_FOR_EXTRADITION = 0x10;

const children: ChildProcess[] = [];
const dirs: string[] = [];
const proxies: CrashProxy[] = [];

afterEach(async () => {
  await killChildren(children);
  for (const p of proxies.splice(0)) await p.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const fleet = defaultFleet();
const seSpec = (seId: string) => fleet.ses.find((s) => s.seId === seId)!;
const serviceSpec = (seId: string, id: string) => seSpec(seId).services!.find((s) => s.id === id)!;

function issuerKeys(k: KeySetSpec) {
  return { scp: k.scp, i: parseInt(k.i ?? (k.scp === '03' ? '70' : '55'), 16), kvn: k.kvn, keyScheme: 'none' as const, enc: fromHex(k.enc), mac: fromHex(k.mac), dek: fromHex(k.dek) };
}

/** A `tsmlab sim` with the built-in fleet, a proxy in front of it, a data directory for `tsmlab serve`. */
async function lab() {
  const dir = mkdtempSync(path.join(tmpdir(), 'serve-crash-proxy-'));
  dirs.push(dir);
  const fleetFile = path.join(dir, 'fleet.json');
  writeFileSync(fleetFile, JSON.stringify(fleet));
  const sim = await startSim(fleetFile, children);
  const proxy = await CrashProxy.start(sim.url);
  proxies.push(proxy);
  const args = ['--data', path.join(dir, 'data'), '--fleet', fleetFile, '--target', proxy.url];
  let bank = new SpClient({ baseUrl: (await startServe(args, children)).url, serviceProvider: 'BankCo' });
  let first = children[children.length - 1];
  const answers: SpResult<Answer>[] = [];
  const seen = <T extends SpResult<Answer>>(r: T): T => (answers.push(r), r);
  return {
    proxy,
    answers,
    bank: () => bank,
    seen,
    /**
     * Runs `act` with the proxy holding the answer to the first command `trap` accepts: the TSM is killed right
     * there, the SP gets no answer; then a new `tsmlab serve` starts on the same data directory.
     */
    async crash(trap: (c: Uint8Array) => boolean, act: (bank: SpClient) => Promise<unknown>): Promise<void> {
      const exited = once(first, 'exit');
      proxy.holdAnswerTo(trap, () => killNow(first));
      const answer = await act(bank).then(
        (r) => r,
        (e: unknown) => e,
      );
      expect(proxy.holding, 'the trapped command reached the card').toBe(false);
      expect(answer).toBeInstanceOf(SpClientError);
      expect((answer as Error).message).toMatch(/no answer from the central TSM/);
      expect(await exited).toEqual([null, 'SIGKILL']);
      bank = new SpClient({ baseUrl: (await startServe(args, children)).url, serviceProvider: 'BankCo' });
      first = children[children.length - 1];
      // SP functions wait for the start-up reconciliation: after this answer the new TSM leaves the card alone
      // (the simulator's card has one session, which the test's own reading would otherwise interleave with).
      expect(seen(await bank.getSeData('se-1')).body.status).toBe('Executed-Success');
    },
    /** The card as the issuer reads it through its ISD, straight from the simulator (not through the proxy). */
    async card(seId: string): Promise<CardView | 'CARD_LOCKED'> {
      const ch = await WebSocketChannel.connect(`${sim.url}/se/${seId}`);
      const tx = (c: Uint8Array) => ch.transmit(c);
      const spec = seSpec(seId);
      const isd = fromHex(spec.card.isd.aid);
      try {
        return await readCardView(tx, { aid: isd, open: (t) => openIssuerChannel(t, isd, issuerKeys(spec.card.isd.keys)) });
      } catch (e) {
        // On a CARD_LOCKED card only the Final Application (the central SD in this fleet) can be selected.
        if (!(e instanceof CardViewError && e.sw === SW.FUNCTION_NOT_SUPPORTED)) throw e;
        const sw = parseResponse(await tx(encodeCommand(selectByAid(fromHex(spec.centralSd.aid))))).sw;
        expect(sw, 'SELECT of the central SD on a card whose ISD cannot be selected').toBe(SW.CARD_LOCKED);
        return 'CARD_LOCKED';
      } finally {
        await ch.close();
      }
    },
  };
}

type Lab = Awaited<ReturnType<typeof lab>>;

const instanceOn = (view: CardView | 'CARD_LOCKED', aid: string) => (view === 'CARD_LOCKED' ? undefined : view.applications.find((a) => a.aid === aid));

async function stateOf(l: Lab, seId: string, serviceId: string): Promise<{ state: string; note?: string }> {
  const r = l.seen(await l.bank().getServiceState(serviceId, { seId }));
  expect(r.body.status).toBe('Executed-Success');
  return r.body as unknown as { state: string; note?: string };
}

async function lockedOf(l: Lab, seId: string): Promise<boolean> {
  const r = l.seen(await l.bank().getSeData(seId));
  return (r.body as unknown as { locked: boolean }).locked;
}

/** A repeat of the interrupted request: answered from the ledger, nothing reaches the card. */
async function replay(l: Lab, act: (bank: SpClient) => Promise<SpResult<Answer>>): Promise<Answer> {
  const before = l.proxy.commands.length;
  const r = l.seen(await act(l.bank()));
  expect(l.proxy.commands.length - before, 'commands sent for the repeated identifier').toBe(0);
  return r.body;
}

const setStatus = (p1: number) => (c: Uint8Array) => ins(c) === INS_SET_STATUS && c[2] === p1;

const SE = 'se-1';
const PAY = 'bankco-pay';
const PAY_INSTANCE = serviceSpec(SE, PAY).instanceAid!;

describe('tsmlab serve killed between the card’s action and its answer (crash proxy in front of tsmlab sim)', () => {

  it('SuspendService: after the restart the service is suspended as the card shows, the repeat answers it, resume works', async () => {
    const l = await lab();
    await l.crash(setStatus(P1_APPLICATION), (b) => b.suspendService(PAY, { seId: SE, functionCallIdentifier: 'crash-suspend' }));
    expect(instanceOn(await l.card(SE), PAY_INSTANCE)?.lifeCycle).toBe('LOCKED');
    expect((await stateOf(l, SE, PAY)).state).toBe('suspended');
    expect(await replay(l, (b) => b.suspendService(PAY, { seId: SE, functionCallIdentifier: 'crash-suspend' }))).toMatchObject({ status: 'Executed-Success', state: 'suspended' });
    expect(l.seen(await l.bank().resumeService(PAY, { seId: SE })).body).toMatchObject({ status: 'Executed-Success', state: 'installed' });
    expect(instanceOn(await l.card(SE), PAY_INSTANCE)?.lifeCycle).toBe('SELECTABLE');
    expect(l.answers.map((a) => a.httpStatus)).not.toContain(500);
  });

  it('ResumeService: after the restart the service is back to installed as the card shows, a conversation is allowed', async () => {
    const l = await lab();
    expect(l.seen(await l.bank().suspendService(PAY, { seId: SE })).body).toMatchObject({ state: 'suspended' });
    await l.crash(setStatus(P1_APPLICATION), (b) => b.resumeService(PAY, { seId: SE, functionCallIdentifier: 'crash-resume' }));
    expect(instanceOn(await l.card(SE), PAY_INSTANCE)?.lifeCycle).toBe('SELECTABLE');
    expect((await stateOf(l, SE, PAY)).state).toBe('installed');
    expect(await replay(l, (b) => b.resumeService(PAY, { seId: SE, functionCallIdentifier: 'crash-resume' }))).toMatchObject({ status: 'Executed-Success', state: 'installed' });
    const conv = l.seen(await l.bank().beginConversation({ seId: SE, serviceId: PAY, requestedOperation: 'personalize' }));
    expect(conv.body.status).toBe('Executed-Success');
    expect(l.answers.map((a) => a.httpStatus)).not.toContain(500);
  });

  it('ActivateService: after the restart the service is activated (the activation sent again at reconciliation), suspend works', async () => {
    const l = await lab();
    await l.crash(setStatus(P1_CONTACTLESS_AVAILABILITY), (b) => b.activateService(PAY, { seId: SE, functionCallIdentifier: 'crash-activate' }));
    expect(instanceOn(await l.card(SE), PAY_INSTANCE)?.lifeCycle).toBe('SELECTABLE');
    expect((await stateOf(l, SE, PAY)).state).toBe('activated');
    expect(await replay(l, (b) => b.activateService(PAY, { seId: SE, functionCallIdentifier: 'crash-activate' }))).toMatchObject({ status: 'Executed-Success', state: 'activated' });
    expect(l.seen(await l.bank().suspendService(PAY, { seId: SE })).body).toMatchObject({ status: 'Executed-Success', state: 'suspended' });
    expect(l.seen(await l.bank().resumeService(PAY, { seId: SE })).body).toMatchObject({ status: 'Executed-Success', state: 'activated' });
    expect(l.answers.map((a) => a.httpStatus)).not.toContain(500);
  });

  it('LockSE: after the restart the SE is locked as the card is CARD_LOCKED, conversations are refused 3.8, and BankCo unlocks it', async () => {
    const l = await lab();
    await l.crash(setStatus(P1_CARD), (b) => b.lockSe(SE, { reason: 'stolen', functionCallIdentifier: 'crash-lock' }));
    expect(await l.card(SE)).toBe('CARD_LOCKED');
    expect(await lockedOf(l, SE)).toBe(true);
    expect(await replay(l, (b) => b.lockSe(SE, { reason: 'stolen', functionCallIdentifier: 'crash-lock' }))).toMatchObject({ status: 'Executed-Success', locked: true, lockedBy: 'BankCo' });
    const conv = l.seen(await l.bank().beginConversation({ seId: SE, serviceId: PAY, requestedOperation: 'personalize' }));
    expect(conv.body).toMatchObject({ status: 'Failed', reasonCode: '3.8' });
    expect(l.seen(await l.bank().unlockSe(SE)).body).toMatchObject({ status: 'Executed-Success', locked: false });
    expect((await l.card(SE)) === 'CARD_LOCKED').toBe(false);
    expect(l.answers.map((a) => a.httpStatus)).not.toContain(500);
  });

  it('UnlockSE: after the restart the SE is unlocked as the card is SECURED, and a conversation begins', async () => {
    const l = await lab();
    expect(l.seen(await l.bank().lockSe(SE)).body).toMatchObject({ status: 'Executed-Success', locked: true });
    await l.crash(setStatus(P1_CARD), (b) => b.unlockSe(SE, { functionCallIdentifier: 'crash-unlock' }));
    const view = await l.card(SE);
    expect(view === 'CARD_LOCKED' ? view : view.lifeCycle).toBe('SECURED');
    expect(await lockedOf(l, SE)).toBe(false);
    expect(await replay(l, (b) => b.unlockSe(SE, { functionCallIdentifier: 'crash-unlock' }))).toMatchObject({ status: 'Executed-Success', locked: false });
    const conv = l.seen(await l.bank().beginConversation({ seId: SE, serviceId: PAY, requestedOperation: 'personalize' }));
    expect(conv.body.status).toBe('Executed-Success');
    expect(l.answers.map((a) => a.httpStatus)).not.toContain(500);
  });

  it('DeleteServices: after the restart the service is deleted as the card no longer holds it, and pre-personalization installs it again', async () => {
    const l = await lab();
    await l.crash((c) => ins(c) === INS_DELETE, (b) => b.deleteServices([PAY], { seId: SE, functionCallIdentifier: 'crash-delete' }));
    expect(instanceOn(await l.card(SE), PAY_INSTANCE)).toBeUndefined();
    expect((await stateOf(l, SE, PAY)).state).toBe('deleted');
    expect(await replay(l, (b) => b.deleteServices([PAY], { seId: SE, functionCallIdentifier: 'crash-delete' }))).toMatchObject({
      status: 'Executed-Success',
      results: [{ serviceId: PAY, status: 'Executed-Success', state: 'deleted' }],
    });
    expect(l.seen(await l.bank().prepersonalize(PAY, { seId: SE })).body).toMatchObject({ status: 'Executed-Success', state: 'installed' });
    expect(instanceOn(await l.card(SE), PAY_INSTANCE)).toMatchObject({ associatedSd: serviceSpec(SE, PAY).sdAid, lifeCycle: 'SELECTABLE' });
    expect(l.answers.map((a) => a.httpStatus)).not.toContain(500);
  });

  it('Prepersonalize: killed after the extradition, the SP SD whose temporary keys never reached BankCo is removed, the service is available again and pre-personalizes', async () => {
    const l = await lab();
    const se = 'se-3';
    const svc = serviceSpec(se, 'bankco-pay3');
    const before = await l.card(se);
    expect(before === 'CARD_LOCKED' ? [] : before.securityDomains.map((d) => d.aid)).not.toContain(svc.sdAid);
    await l.crash((c) => ins(c) === INS_INSTALL && c[2] === P1_FOR_EXTRADITION, (b) => b.prepersonalize('bankco-pay3', { seId: se, functionCallIdentifier: 'crash-prep' }));
    const after = await l.card(se);
    expect(after === 'CARD_LOCKED' ? after : after.securityDomains.map((d) => d.aid)).not.toContain(svc.sdAid);
    expect(instanceOn(after, svc.instanceAid!)).toBeUndefined();
    const s = await stateOf(l, se, 'bankco-pay3');
    expect(s.state).toBe('available');
    expect(s.note).toMatch(/temporary keys the SP never received was deleted/);
    const repeat = await replay(l, (b) => b.prepersonalize('bankco-pay3', { seId: se, functionCallIdentifier: 'crash-prep' }));
    expect(repeat).toMatchObject({ status: 'Failed', reasonCode: '5.4', state: 'available' });
    const again = l.seen(await l.bank().prepersonalize('bankco-pay3', { seId: se }));
    expect(again.body).toMatchObject({ status: 'Executed-Success', state: 'installed', temporaryKeys: { kvn: expect.any(Number) } });
    expect(instanceOn(await l.card(se), svc.instanceAid!)).toMatchObject({ associatedSd: svc.sdAid, lifeCycle: 'SELECTABLE' });
    expect(l.answers.map((a) => a.httpStatus)).not.toContain(500);
  });

  it('UpdateService: killed after the DELETE, the service is failed as the card holds no instance, and a new update repairs it', async () => {
    const l = await lab();
    await l.crash((c) => ins(c) === INS_DELETE, (b) => b.updateService(PAY, { seId: SE, functionCallIdentifier: 'crash-update' }));
    expect(instanceOn(await l.card(SE), PAY_INSTANCE)).toBeUndefined();
    const s = await stateOf(l, SE, PAY);
    expect(s.state).toBe('failed');
    expect(s.note).toMatch(/^interrupted while updating at the delete step/);
    expect(await replay(l, (b) => b.updateService(PAY, { seId: SE, functionCallIdentifier: 'crash-update' }))).toMatchObject({ status: 'Failed', reasonCode: '5.4', state: 'failed' });
    expect(l.seen(await l.bank().updateService(PAY, { seId: SE })).body).toMatchObject({ status: 'Executed-Success', state: 'installed' });
    expect(instanceOn(await l.card(SE), PAY_INSTANCE)).toMatchObject({ lifeCycle: 'SELECTABLE' });
    expect(l.answers.map((a) => a.httpStatus)).not.toContain(500);
  });
});
