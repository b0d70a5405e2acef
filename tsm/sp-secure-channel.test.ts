/**
 * The SP's own secure channel through the central TSM: opened in one SendScript, used in the next (the card
 * channel is not reset between them), and a personalization script that stops at its first rejected block,
 * checked on the card itself. BankCo's SD uses SCP02 keys here so the SP side is gp's Scp02Host.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeCommand, fromHex, Scp02Host, toHex, type CommandApdu } from '../gp/index.ts';
import { defaultFleet } from '../profiles/fleet.ts';
import type { KeySetSpec } from '../profiles/fleet-types.ts';
import { createSimulatedSe, type SimulatedSe } from '../simulator/index.ts';
import type { BeginConversationResponse, SendScriptResponse } from './api-types.ts';
import { inprocChannels } from './channels.ts';
import { startSpApi, type SpApiServer } from './http.ts';
import { SpClient } from './sp-client.ts';
import { simulatedTsm, type SimulatedTsm } from '../test/simulated-tsm.ts';

const BANKCO_SD = 'F042414E4B434F2E5344';
const BANKCO_INSTANCE = 'F042414E4B434F2E5041592E31';
const SP_KEYS: KeySetSpec = { kvn: 0x20, scp: '02', i: '55', enc: '4B'.repeat(16), mac: '4C'.repeat(16), dek: '4D'.repeat(16) };

let cards: Map<string, SimulatedSe>;
let tsm: SimulatedTsm;
let api: SpApiServer;
let bank: SpClient;

beforeEach(async () => {
  const fleet = defaultFleet();
  const se1 = fleet.ses[0];
  se1.card.securityDomains!.find((sd) => sd.aid === BANKCO_SD)!.keys = SP_KEYS;
  se1.services!.find((s) => s.id === 'bankco-pay')!.spKeys = SP_KEYS;
  cards = new Map(fleet.ses.map((s) => [s.seId, createSimulatedSe(s)]));
  tsm = simulatedTsm({ fleet, channels: inprocChannels(cards.values()) });
  api = await startSpApi(tsm);
  bank = new SpClient({ baseUrl: api.url, serviceProvider: 'BankCo' });
});

afterEach(async () => {
  await tsm.close();
  await api.close();
});

async function script(conversationId: string, commands: (CommandApdu | Uint8Array)[]): Promise<SendScriptResponse> {
  const bytes = commands.map((c) => (c instanceof Uint8Array ? c : encodeCommand(c)));
  const r = await bank.sendScript(conversationId, bytes);
  return r.body as SendScriptResponse;
}

/** Opens BankCo's SCP02 session to its SD over two SendScripts of the conversation. */
async function openSpChannel(conversationId: string): Promise<Scp02Host> {
  const host = new Scp02Host({ keys: { enc: fromHex(SP_KEYS.enc), mac: fromHex(SP_KEYS.mac), dek: fromHex(SP_KEYS.dek) }, i: 0x55 });
  const init = await script(conversationId, [host.initializeUpdate(SP_KEYS.kvn, fromHex('0102030405060708'))]);
  expect(init.status, init.message).toBe('Executed-Success');
  const response = fromHex(init.responseApdus[0]);
  host.onInitializeUpdateResponse(response.subarray(0, response.length - 2));
  const auth = await script(conversationId, [host.externalAuthenticate()]);
  expect(auth.status, auth.message).toBe('Executed-Success');
  return host;
}

const storeData = (p1: number, block: number, ascii: string): CommandApdu => ({
  cla: 0x80,
  ins: 0xe2,
  p1,
  p2: block,
  data: new TextEncoder().encode(ascii),
});

const installForPersonalization = (aid: string): CommandApdu => {
  const a = fromHex(aid);
  return { cla: 0x80, ins: 0xe6, p1: 0x20, p2: 0x00, data: Uint8Array.from([0, 0, a.length, ...a, 0, 0, 0]) };
};

describe("the SP's secure channel through the central TSM", () => {
  it('survives from one SendScript to the next and personalizes the instance', async () => {
    const begin = await bank.beginConversation({ seId: 'se-1', serviceId: 'bankco-pay', requestedOperation: 'personalize' });
    const c = begin.body as BeginConversationResponse;
    expect(c.status).toBe('Executed-Success');
    const host = await openSpChannel(c.conversationId);
    // Between two SendScripts the card still holds BankCo's session: nothing reset it.
    expect(cards.get('se-1')!.inspect().session.secureChannel).toMatchObject({ sd: BANKCO_SD, scp: '02' });
    const perso = await script(c.conversationId, [
      host.wrap(installForPersonalization(BANKCO_INSTANCE)),
      host.wrap(storeData(0x00, 0, 'holder=ALICE;')),
      host.wrap(storeData(0x80, 1, 'pan=5413330089010012')),
    ]);
    expect(perso.status, perso.message).toBe('Executed-Success');
    const instance = cards.get('se-1')!.inspect().applications.find((e) => e.aid === BANKCO_INSTANCE)!;
    expect(Buffer.from(instance.storedHex, 'hex').toString()).toBe('holder=ALICE;pan=5413330089010012');
  });

  it('stops at the rejected second of three blocks: the first is stored, the third never reaches the card', async () => {
    const begin = await bank.beginConversation({ seId: 'se-1', serviceId: 'bankco-pay', requestedOperation: 'personalize' });
    const c = begin.body as BeginConversationResponse;
    const host = await openSpChannel(c.conversationId);
    const r = await script(c.conversationId, [
      host.wrap(installForPersonalization(BANKCO_INSTANCE)),
      host.wrap(storeData(0x00, 0, 'BLOCK-ONE')),
      // Block number 7 where 1 is due: the card rejects it (6A86).
      host.wrap(storeData(0x00, 7, 'BLOCK-TWO')),
      host.wrap(storeData(0x80, 2, 'BLOCK-THREE')),
    ]);
    expect(r).toMatchObject({ status: 'Failed', reasonCode: '4.2', failedApduIndex: 2 });
    expect(r.responseApdus).toHaveLength(3);
    expect(r.responseApdus[2].endsWith('6A86')).toBe(true);
    const instance = cards.get('se-1')!.inspect().applications.find((e) => e.aid === BANKCO_INSTANCE)!;
    const stored = Buffer.from(instance.storedHex, 'hex').toString();
    expect(stored).toBe('BLOCK-ONE');
    expect(stored).not.toContain('BLOCK-THREE');
  });

  it("cannot reach the central SD's keys: a script selecting the central SD is refused", async () => {
    const begin = await bank.beginConversation({ seId: 'se-1', serviceId: 'bankco-pay', requestedOperation: 'manage' });
    const c = begin.body as BeginConversationResponse;
    const central = 'F043454E5452414C2E5344';
    const r = await bank.sendScript(c.conversationId, [`00A404000B${central}00`]);
    expect(r.body).toMatchObject({ status: 'Failed', reasonCode: '1.2' });
    expect(r.body.message).toContain("central TSM's");
    expect(toHex(fromHex(central))).toBe(central);
  });
});
