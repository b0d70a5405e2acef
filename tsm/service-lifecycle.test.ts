/**
 * Service management by the central TSM under its own keys, on real simulated SEs: pre-personalization (SP SD
 * with temporary keys, instance from the pre-loaded package, extradition), the update saga of patent FIG 10,
 * deletion; each checked on the card itself and in the service state.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeCommand, fromHex, keyCheckValue, Scp03Host, SecurityLevel, toHex, type CommandApdu } from '../gp/index.ts';
import { defaultFleet } from '../profiles/fleet.ts';
import type { Fleet, KeySetSpec } from '../profiles/fleet-types.ts';
import { createSimulatedSe, type SimulatedSe } from '../simulator/index.ts';
import { subscribe, type TraceEvent } from '../trace/index.ts';
import type { PrepersonalizeResponse, SendScriptResponse } from './api-types.ts';
import { inprocChannels } from './channels.ts';
import { TsmError } from './status.ts';
import { simulatedTsm, type SimulatedTsm } from '../test/simulated-tsm.ts';

const BANKCO_SD = 'F042414E4B434F2E5344';
const BANKCO_INSTANCE = 'F042414E4B434F2E5041592E31';
const CENTRAL_SD = 'F043454E5452414C2E5344';
const bank = { serviceProvider: 'BankCo' };
const transit = { serviceProvider: 'TransitCo' };

let cards: Map<string, SimulatedSe>;
let tsm: SimulatedTsm;
let events: TraceEvent[];
let stop: () => void;

function start(fleet: Fleet = defaultFleet()): void {
  cards = new Map(fleet.ses.map((s) => [s.seId, createSimulatedSe(s)]));
  tsm = simulatedTsm({ fleet, channels: inprocChannels(cards.values()) });
}

beforeEach(() => {
  events = [];
  stop = subscribe((e) => events.push(e));
});

afterEach(async () => {
  stop();
  await tsm?.close();
});

const card = (seId: string) => cards.get(seId)!.inspect();
const entry = (seId: string, aid: string) => [...card(seId).securityDomains, ...card(seId).applications].find((e) => e.aid === aid);

async function reasonOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TsmError) return e.reasonCode;
    throw e;
  }
  return 'none';
}

/** The SP's own SCP03 session to its SD, opened through a conversation (two SendScripts). */
async function spSession(conversationId: string, keys: KeySetSpec): Promise<Scp03Host> {
  const host = new Scp03Host({ keys: { enc: fromHex(keys.enc), mac: fromHex(keys.mac), dek: fromHex(keys.dek) }, level: SecurityLevel.CMAC | SecurityLevel.CDEC });
  const send = async (c: CommandApdu) => {
    const r = (await tsm.sendScript(bank, { conversationId, commandApdus: [toHex(encodeCommand(c))] })) as SendScriptResponse;
    expect(r.status, r.message).toBe('Executed-Success');
    return fromHex(r.responseApdus[0]);
  };
  const init = await send(host.initializeUpdate(keys.kvn, fromHex('1122334455667788')));
  host.onInitializeUpdateResponse(init.subarray(0, init.length - 2));
  await send(host.externalAuthenticate());
  return host;
}

async function personalize(seId: string, serviceId: string, keys: KeySetSpec, ascii: string): Promise<void> {
  const c = await tsm.beginConversation(bank, { seId, serviceId, requestedOperation: 'personalize' });
  const host = await spSession(c.conversationId, keys);
  const aid = fromHex(BANKCO_INSTANCE);
  const wrap = (cmd: CommandApdu) => toHex(host.wrap(cmd));
  const r = await tsm.sendScript(bank, {
    conversationId: c.conversationId,
    commandApdus: [
      wrap({ cla: 0x80, ins: 0xe6, p1: 0x20, p2: 0x00, data: Uint8Array.from([0, 0, aid.length, ...aid, 0, 0, 0]) }),
      wrap({ cla: 0x80, ins: 0xe2, p1: 0x80, p2: 0x00, data: new TextEncoder().encode(ascii) }),
    ],
  });
  expect(r.status, r.message).toBe('Executed-Success');
  await tsm.endConversation(bank, { conversationId: c.conversationId });
}

describe('pre-personalization', () => {
  it('creates the SP SD with temporary keys, installs the instance from the pre-loaded package and extradites it', async () => {
    start();
    expect(entry('se-3', BANKCO_SD)).toBeUndefined();
    const r = (await tsm.prepersonalize(bank, { serviceId: 'bankco-pay3' })) as PrepersonalizeResponse;
    expect(r).toMatchObject({ status: 'Executed-Success', seId: 'se-3', sdAid: BANKCO_SD, instanceAid: BANKCO_INSTANCE, state: 'installed' });
    const temp = r.temporaryKeys!;
    expect(temp.scp).toBe('03');

    const sd = entry('se-3', BANKCO_SD)!;
    expect(sd).toMatchObject({ kind: 'sd', lifeCycle: 'PERSONALIZED', associatedSd: CENTRAL_SD });
    // The SD holds the temporary keys, not a copy of the central TSM's.
    expect(sd.keySets).toHaveLength(1);
    expect(sd.keySets[0].kcv[1]).toBe(toHex(keyCheckValue(fromHex(temp.enc), 'aes')));
    const central = defaultFleet().ses[2].centralSd.keys;
    expect(sd.keySets[0].kcv[1]).not.toBe(toHex(keyCheckValue(fromHex(central.enc), 'aes')));
    expect(entry('se-3', BANKCO_INSTANCE)).toMatchObject({ kind: 'app', lifeCycle: 'SELECTABLE', associatedSd: BANKCO_SD, packageAid: 'F042414E4B434F2E504159' });
    expect(tsm.registry.service('se-3', 'bankco-pay3').state).toBe('installed');

    // Keys never reach the trace: the answer's temporary keys show as check values there.
    const trace = JSON.stringify(events);
    expect(trace).not.toContain(temp.enc);
    expect(trace).not.toContain(temp.mac);
    expect(trace).toContain(`kcv:${toHex(keyCheckValue(fromHex(temp.enc), 'aes'))}`);

    // The SP opens its new SD with the temporary keys through a conversation and personalizes its instance.
    await personalize('se-3', 'bankco-pay3', temp, 'holder=BOB');
    expect(Buffer.from(entry('se-3', BANKCO_INSTANCE)!.storedHex, 'hex').toString()).toBe('holder=BOB');
  });

  it('refuses (4.8) when the card lacks the memory, leaving the card and the service as they were', async () => {
    const fleet = defaultFleet();
    fleet.ses[2].services![0].installSize = 50_000_000;
    start(fleet);
    expect(await reasonOf(tsm.prepersonalize(bank, { serviceId: 'bankco-pay3', seId: 'se-3' }))).toBe('4.8');
    expect(entry('se-3', BANKCO_SD)).toBeUndefined();
    expect(tsm.registry.service('se-3', 'bankco-pay3').state).toBe('available');
  });

  it('refuses (3.8) an instance the issuer already put on the card, before creating any security domain', async () => {
    const fleet = defaultFleet();
    const se3 = fleet.ses[2];
    const svc = se3.services!.find((x) => x.id === 'bankco-pay3')!;
    se3.card.instances = [...(se3.card.instances ?? []), { aid: svc.instanceAid!, packageAid: svc.packageAid!, moduleAid: svc.moduleAid!, sd: se3.card.isd.aid, lifeCycle: 'SELECTABLE' }];
    start(fleet);
    const before = card('se-3');
    let message = '';
    try {
      await tsm.prepersonalize(bank, { serviceId: 'bankco-pay3' });
    } catch (e) {
      expect((e as TsmError).reasonCode).toBe('3.8');
      message = (e as TsmError).message;
    }
    expect(message).toContain(`the instance ${BANKCO_INSTANCE} of service bankco-pay3 is already on SE se-3`);
    expect(message).toContain('nothing was created');
    // No SP SD (so no orphan temporary keys), the issuer's instance untouched, the service still available.
    expect(entry('se-3', BANKCO_SD)).toBeUndefined();
    expect(entry('se-3', BANKCO_INSTANCE)).toMatchObject({ associatedSd: se3.card.isd.aid.toUpperCase(), lifeCycle: 'SELECTABLE' });
    expect(card('se-3').securityDomains.map((d) => d.aid)).toEqual(before.securityDomains.map((d) => d.aid));
    expect(tsm.registry.service('se-3', 'bankco-pay3').state).toBe('available');
    expect(events.some((e) => e.kind === 'tsm.decision' && e.decision === 'service-state')).toBe(false);
  });

  it("refuses another SP's service (1.2) and a service already installed (3.8)", async () => {
    start();
    expect(await reasonOf(tsm.prepersonalize(transit, { serviceId: 'bankco-pay3' }))).toBe('1.2');
    expect(await reasonOf(tsm.prepersonalize(bank, { serviceId: 'bankco-pay' }))).toBe('3.8');
    expect(events.some((e) => e.kind === 'apdu.command')).toBe(false);
  });
});

describe('update service (patent FIG 10)', () => {
  it('removes the instance and its data, checks memory, installs and extradites it again: installed and empty', async () => {
    start();
    const spKeys = defaultFleet().ses[0].services![0].spKeys!;
    await personalize('se-1', 'bankco-pay', spKeys, 'holder=ALICE');
    expect(entry('se-1', BANKCO_INSTANCE)!.storedHex).not.toBe('');
    const mark = events.length;
    const r = await tsm.updateService(bank, { serviceId: 'bankco-pay', seId: 'se-1' });
    expect(r).toMatchObject({ status: 'Executed-Success', state: 'installed', instanceAid: BANKCO_INSTANCE });
    expect(r.freeNonVolatile).toBeGreaterThan(0);
    const inst = entry('se-1', BANKCO_INSTANCE)!;
    expect(inst).toMatchObject({ lifeCycle: 'SELECTABLE', associatedSd: BANKCO_SD, storedHex: '' });
    const steps = events
      .slice(mark)
      .filter((e) => e.kind === 'tsm.decision' && ['service-state', 'update', 'eligibility'].includes(e.decision))
      .map((e) => (e as { detail: string }).detail);
    expect(steps).toEqual([
      expect.stringMatching(new RegExp(`^se-1 has \\d+ bytes free and 1500 once ${BANKCO_INSTANCE} is removed; bankco-pay needs 1500$`)),
      'bankco-pay on se-1: installed → updating',
      `${BANKCO_INSTANCE} deleted with its data`,
      'bankco-pay on se-1: updating → installed',
    ]);
    // The SP personalizes the new instance with its own keys, which the update did not touch.
    await personalize('se-1', 'bankco-pay', spKeys, 'holder=ALICE2');
    expect(Buffer.from(entry('se-1', BANKCO_INSTANCE)!.storedHex, 'hex').toString()).toBe('holder=ALICE2');
  });

  it('refuses (4.8) before deleting anything when the free memory plus the current instance cannot hold the new one', async () => {
    start();
    const spKeys = defaultFleet().ses[0].services![0].spKeys!;
    await personalize('se-1', 'bankco-pay', spKeys, 'holder=ALICE');
    const free = card('se-1').memory.nonVolatile.free;
    // The new version needs more than the card has, even counting the 1500 bytes the current instance frees.
    tsm.operator.setInstallSize('se-1', 'bankco-pay', free + 1500 + 1);
    const mark = events.length;
    let message = '';
    try {
      await tsm.updateService(bank, { serviceId: 'bankco-pay', seId: 'se-1' });
    } catch (e) {
      expect(e).toBeInstanceOf(TsmError);
      expect((e as TsmError).reasonCode).toBe('4.8');
      message = (e as TsmError).message;
    }
    expect(message).toBe(`service bankco-pay needs ${free + 1501} bytes of non-volatile memory; the card has ${free} free and removing the current instance frees 1500: nothing was changed`);
    // Nothing was deleted: the instance and its personalization data are where they were, the state unchanged.
    expect(events.slice(mark).some((e) => e.kind === 'tsm.decision' && e.decision === 'service-state')).toBe(false);
    expect(tsm.registry.service('se-1', 'bankco-pay').state).toBe('installed');
    expect(entry('se-1', BANKCO_INSTANCE)).toMatchObject({ associatedSd: BANKCO_SD, lifeCycle: 'SELECTABLE' });
    expect(Buffer.from(entry('se-1', BANKCO_INSTANCE)!.storedHex, 'hex').toString()).toBe('holder=ALICE');
    expect(card('se-1').memory.nonVolatile.free).toBe(free);

    // One byte less and the update goes ahead; the new instance then counts with its new size.
    tsm.operator.setInstallSize('se-1', 'bankco-pay', free + 1500);
    const r = await tsm.updateService(bank, { serviceId: 'bankco-pay', seId: 'se-1' });
    expect(r).toMatchObject({ status: 'Executed-Success', state: 'installed', freeNonVolatile: free + 1500 });
    expect(tsm.registry.service('se-1', 'bankco-pay').instanceSize).toBeUndefined();
    expect(entry('se-1', BANKCO_INSTANCE)!.storedHex).toBe('');
  });
});

describe('delete services', () => {
  it("deletes the SP's instances and their data, one outcome per service", async () => {
    start();
    const r = await tsm.deleteServices(bank, { seId: 'se-1', serviceIds: ['bankco-pay'] });
    expect(r).toMatchObject({ status: 'Executed-Success', seId: 'se-1', results: [{ serviceId: 'bankco-pay', status: 'Executed-Success', state: 'deleted' }] });
    expect(entry('se-1', BANKCO_INSTANCE)).toBeUndefined();
    expect(entry('se-1', BANKCO_SD)).toBeDefined();
    expect(entry('se-1', 'F05452414E5349542E544B542E31')).toBeDefined();
    expect(await reasonOf(tsm.deleteServices(bank, { seId: 'se-1', serviceIds: ['bankco-pay'] }))).toBe('3.8');
    expect(await reasonOf(tsm.beginConversation(bank, { seId: 'se-1', serviceId: 'bankco-pay', requestedOperation: 'read' }))).toBe('3.8');
  });

  it("refuses the whole request (1.2) when one service is another SP's, and sends nothing", async () => {
    start();
    expect(await reasonOf(tsm.deleteServices(bank, { seId: 'se-1', serviceIds: ['bankco-pay', 'transitco-ticket'] }))).toBe('1.2');
    expect(events.some((e) => e.kind === 'apdu.command')).toBe(false);
    expect(entry('se-1', BANKCO_INSTANCE)).toBeDefined();
    expect(tsm.registry.service('se-1', 'bankco-pay').state).toBe('installed');
  });

  it('can be installed again by pre-personalization after deletion', async () => {
    start();
    await tsm.deleteServices(bank, { seId: 'se-1', serviceIds: ['bankco-pay'] });
    const r = await tsm.prepersonalize(bank, { serviceId: 'bankco-pay', seId: 'se-1' });
    expect(r).toMatchObject({ status: 'Executed-Success', state: 'installed' });
    // The SP SD was already there: no new temporary keys.
    expect(r.temporaryKeys).toBeUndefined();
    expect(entry('se-1', BANKCO_INSTANCE)).toMatchObject({ associatedSd: BANKCO_SD, lifeCycle: 'SELECTABLE' });
  });
});
