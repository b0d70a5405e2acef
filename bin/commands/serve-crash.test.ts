/**
 * The central TSM's update saga (patent FIG 10) when the `tsmlab serve` process is killed mid-saga: real
 * processes, real sockets. The cards live in this process (a WebSocket simulator), so they outlive the TSM; the
 * card executes the chosen command and the TSM is SIGKILLed before the card's answer is sent. A second
 * `tsmlab serve` then starts on the same data directory, and the test checks what it reports, what the card
 * holds, that a new update repairs the service, and how repeated functionCallIdentifiers behave.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultFleet } from '../../profiles/fleet.ts';
import { createSimulatedSe, startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { SpClient, SpClientError } from '../../tsm/index.ts';
import { ins, INS_DELETE, INS_INSTALL, killNow, P1_FOR_INSTALL, startServe, WatchedSe } from './serve-crash-fixture.ts';
import { killChildren } from './child-fixture.ts';

const SE = 'se-1';
const SERVICE = 'bankco-pay';
const INS_EXTERNAL_AUTHENTICATE = 0x82;
const P1_FOR_EXTRADITION = 0x10;

const children: ChildProcess[] = [];
const dirs: string[] = [];
let sim: RunningSimulator | undefined;

afterEach(async () => {
  await killChildren(children);
  await sim?.close();
  sim = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The built-in fleet on a WebSocket simulator in this process, written to a fleet file; a fresh data dir. */
async function lab() {
  const fleet = defaultFleet();
  const cards = new Map<string, WatchedSe>();
  sim = await startSimulator({
    fleet,
    createSe: (spec) => {
      const w = new WatchedSe(createSimulatedSe(spec));
      cards.set(spec.seId, w);
      return w;
    },
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'serve-crash-'));
  dirs.push(dir);
  const fleetFile = path.join(dir, 'fleet.json');
  writeFileSync(fleetFile, JSON.stringify(fleet));
  const se = fleet.ses.find((s) => s.seId === SE)!;
  const svc = se.services!.find((s) => s.id === SERVICE)!;
  return {
    card: cards.get(SE)!,
    centralSd: se.centralSd.aid,
    svc,
    args: ['--data', path.join(dir, 'data'), '--fleet', fleetFile, '--target', `ws://127.0.0.1:${sim.port}`],
    /** Commands that reached any card of the fleet so far. */
    sent: () => [...cards.values()].reduce((n, c) => n + c.commands.length, 0),
  };
}

type Lab = Awaited<ReturnType<typeof lab>>;

const instanceOf = (l: Lab) => l.card.card.inspect().applications.find((a) => a.aid === l.svc.instanceAid);
const underCentralSd = (l: Lab) =>
  l.card.card
    .inspect()
    .applications.filter((a) => a.associatedSd === l.centralSd)
    .map((a) => a.aid);
/** The SP SD's keys as the card shows them (KVN and check values, never the keys). */
const spKeys = (l: Lab) =>
  l.card.card
    .inspect()
    .securityDomains.find((d) => d.aid === l.svc.sdAid)!
    .keySets.map((k) => ({ kvn: k.kvn, kcv: k.kcv }));

/**
 * Starts `tsmlab serve`, asks BankCo's update of its service with `fci`, SIGKILLs the TSM once the card has
 * executed the first command `trigger` accepts, checks the SP got no answer, and starts `tsmlab serve` again
 * on the same data directory.
 */
async function crashUpdate(l: Lab, fci: string, trigger: (c: Uint8Array) => boolean) {
  const first = await startServe(l.args, children);
  const bank = new SpClient({ baseUrl: first.url, serviceProvider: 'BankCo' });
  const exited = once(first.child, 'exit');
  l.card.armAfter(trigger, () => killNow(first.child));
  const answer = await bank.updateService(SERVICE, { seId: SE, functionCallIdentifier: fci }).then(
    (r) => r,
    (e: unknown) => e,
  );
  expect(l.card.armed, 'the trigger command reached the card').toBe(false);
  expect(answer).toBeInstanceOf(SpClientError);
  expect((answer as Error).message).toMatch(/no answer from the central TSM/);
  const [code, signal] = await exited;
  expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });
  const second = await startServe(l.args, children);
  return new SpClient({ baseUrl: second.url, serviceProvider: 'BankCo' });
}

/** The service as the central TSM reports it to BankCo (GetSEData). */
async function reported(bank: SpClient) {
  const r = await bank.getSeData(SE);
  expect(r.body.status).toBe('Executed-Success');
  const services = (r.body as { services: { id: string; state: string; note?: string }[] }).services;
  return services.find((s) => s.id === SERVICE)!;
}

const afterExternalAuthenticate = (c: Uint8Array) => ins(c) === INS_EXTERNAL_AUTHENTICATE;
const afterDelete = (c: Uint8Array) => ins(c) === INS_DELETE;
const afterInstall = (c: Uint8Array) => ins(c) === INS_INSTALL && (c[2] & P1_FOR_INSTALL) !== 0;
const afterExtradition = (c: Uint8Array) => ins(c) === INS_INSTALL && c[2] === P1_FOR_EXTRADITION;

/** Where the instance is right after the restart: absent or under the SP SD. */
type Placement = 'absent' | 'sp-sd';

const KILL_POINTS: { point: string; trigger: (c: Uint8Array) => boolean; state: string; instance: Placement }[] = [
  // The central session is open but the saga has not started: "updating" was never recorded, nothing changed.
  { point: 'EXTERNAL AUTHENTICATE of the central session', trigger: afterExternalAuthenticate, state: 'installed', instance: 'sp-sd' },
  // Deleted, not installed again: the restart finds the instance gone and reports the update failed.
  { point: 'DELETE of the instance', trigger: afterDelete, state: 'failed', instance: 'absent' },
  // The card holds the new instance under the central SD: the restart resumes the saga (extradition).
  { point: 'INSTALL [for install and make selectable]', trigger: afterInstall, state: 'installed', instance: 'sp-sd' },
  // The card holds the complete update: the restart finds it under the SP SD and reports it installed.
  { point: 'INSTALL [for extradition]', trigger: afterExtradition, state: 'installed', instance: 'sp-sd' },
];

describe('tsmlab serve killed in the middle of an update (patent FIG 10)', () => {
  it.each(KILL_POINTS)(
    'killed right after the card executed the $point: the SP gets no answer; after the restart the service is $state, and a new update installs it',
    async ({ trigger, state, instance }) => {
      const l = await lab();
      const centralBefore = underCentralSd(l);
      const keysBefore = spKeys(l);
      expect(instanceOf(l)?.associatedSd).toBe(l.svc.sdAid);

      const bank = await crashUpdate(l, `crash-${state}-${instance}`, trigger);

      const svc = await reported(bank);
      expect(svc.state).toBe(state);
      if (state === 'failed') expect(svc.note).toMatch(/^interrupted while updating/);
      if (instance === 'absent') expect(instanceOf(l)).toBeUndefined();
      if (instance === 'sp-sd') expect(instanceOf(l)).toMatchObject({ associatedSd: l.svc.sdAid, lifeCycle: 'SELECTABLE' });
      expect(underCentralSd(l)).toEqual(centralBefore);
      expect(spKeys(l)).toEqual(keysBefore);

      const from = l.card.commands.length;
      const retry = await bank.updateService(SERVICE, { seId: SE, functionCallIdentifier: `repair-${state}-${instance}` });
      expect(retry.body).toMatchObject({ status: 'Executed-Success', state: 'installed' });
      const repairCommands = l.card.commands.slice(from);
      expect(repairCommands.filter(afterDelete)).toHaveLength(1);
      expect(repairCommands.filter(afterInstall)).toHaveLength(1);
      expect(repairCommands.filter(afterExtradition)).toHaveLength(1);
      expect(instanceOf(l)).toMatchObject({
        associatedSd: l.svc.sdAid,
        lifeCycle: 'SELECTABLE',
        packageAid: l.svc.packageAid,
        moduleAid: l.svc.moduleAid,
      });
      expect(underCentralSd(l)).toEqual(centralBefore);
      expect(spKeys(l)).toEqual(keysBefore);
      expect((await reported(bank)).state).toBe('installed');

      // Within one TSM process a repeated identifier answers the first result and sends nothing (docs/sp-api.md).
      const sentAfterRepair = l.sent();
      const repeat = await bank.updateService(SERVICE, { seId: SE, functionCallIdentifier: `repair-${state}-${instance}` });
      expect(repeat.body).toEqual(retry.body);
      expect(l.sent()).toBe(sentAfterRepair);
    },
  );

  it('killed right after INSTALL [for install], the restarted TSM resumes the saga and leaves nothing under the central SD', async () => {
    const l = await lab();
    const centralBefore = underCentralSd(l);
    const bank = await crashUpdate(l, 'crash-install', afterInstall);
    const svc = await reported(bank);
    expect(svc.state).toBe('installed');
    expect(svc.note).toMatch(/^interrupted while updating at the install step; resumed at restart/);
    expect(underCentralSd(l)).toEqual(centralBefore);
    expect(instanceOf(l)).toMatchObject({ associatedSd: l.svc.sdAid, lifeCycle: 'SELECTABLE' });
  });

  // docs/sp-api.md: "A repeat of the same request with the same identifier answers the first result and executes
  // nothing again", also across a restart: an SP retrying late must not wipe the instance a later update made.
  it("after the restart, repeating the interrupted request's functionCallIdentifier answers what reconciliation decided and executes nothing on the card", async () => {
    const l = await lab();
    const bank = await crashUpdate(l, 'crash-repeat', afterDelete);
    const repair = await bank.updateService(SERVICE, { seId: SE, functionCallIdentifier: 'repair-repeat' });
    expect(repair.body).toMatchObject({ status: 'Executed-Success', state: 'installed' });
    const sentBefore = l.sent();
    const repeat = await bank.updateService(SERVICE, { seId: SE, functionCallIdentifier: 'crash-repeat' }).then(
      (r) => r.body,
      (e: unknown) => e,
    );
    expect(l.sent() - sentBefore, 'commands sent for the repeated identifier').toBe(0);
    // Reconciliation found the instance deleted and not installed again: the service was marked failed.
    expect(repeat).toMatchObject({ status: 'Failed', reasonCode: '5.4', state: 'failed' });
    expect((repeat as { message: string }).message).toMatch(/^interrupted while updating at the delete step: the instance was deleted .*; the request is not executed again$/);
    expect((await reported(bank)).state).toBe('installed');
  });

  it('after a clean restart, repeating a completed request answers the recorded result and executes nothing', async () => {
    const l = await lab();
    const first = await startServe(l.args, children);
    const bank1 = new SpClient({ baseUrl: first.url, serviceProvider: 'BankCo' });
    const done = await bank1.updateService(SERVICE, { seId: SE, functionCallIdentifier: 'done-before-restart' });
    expect(done.body).toMatchObject({ status: 'Executed-Success', state: 'installed' });
    const exited = once(first.child, 'exit');
    killNow(first.child);
    await exited;
    const second = await startServe(l.args, children);
    const bank2 = new SpClient({ baseUrl: second.url, serviceProvider: 'BankCo' });
    const sentBefore = l.sent();
    const repeat = await bank2.updateService(SERVICE, { seId: SE, functionCallIdentifier: 'done-before-restart' });
    expect(repeat.body).toEqual(done.body);
    expect(l.sent()).toBe(sentBefore);
  });
});
