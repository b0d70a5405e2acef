/**
 * The SP TSM role end to end: BankCo opens its own SCP03 channel to its SD through conversations, rotates its
 * keys with PUT KEY, and personalizes its instance — each result checked on the simulated card itself.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromHex, SecureChannelError, SecurityLevel, type KeySet } from '../gp/index.ts';
import { defaultFleet, type Fleet } from '../profiles/fleet.ts';
import { createSimulatedSe, type SimulatedSe } from '../simulator/index.ts';
import type { BeginConversationResponse } from './api-types.ts';
import { inprocChannels } from './channels.ts';
import { startSpApi, type SpApiServer } from './http.ts';
import { SpClient } from './sp-client.ts';
import { installForPersonalization } from '../gp/index.ts';
import { personalizationBlocks, SpTsm } from './sp-tsm.ts';
import { simulatedTsm, type SimulatedTsm } from '../test/simulated-tsm.ts';

let fleet: Fleet;
let cards: Map<string, SimulatedSe>;
let tsm: SimulatedTsm;
let api: SpApiServer;
let bank: SpTsm;

const service = () => fleet.ses[0].services!.find((s) => s.id === 'bankco-pay')!;
const keysOf = (k: { kvn: number; scp: '02' | '03'; enc: string; mac: string; dek: string }): KeySet => ({
  kvn: k.kvn,
  scp: k.scp,
  enc: fromHex(k.enc),
  mac: fromHex(k.mac),
  dek: fromHex(k.dek),
});
const FULL = SecurityLevel.CMAC | SecurityLevel.CDEC | SecurityLevel.RMAC | SecurityLevel.RENC;

beforeEach(async () => {
  fleet = defaultFleet();
  cards = new Map(fleet.ses.map((s) => [s.seId, createSimulatedSe(s)]));
  tsm = simulatedTsm({ fleet, channels: inprocChannels(cards.values()) });
  api = await startSpApi(tsm);
  bank = new SpTsm(new SpClient({ baseUrl: api.url, serviceProvider: 'BankCo' }));
});

afterEach(async () => {
  await tsm.close();
  await api.close();
});

async function begin(op: 'rotate-keys' | 'personalize'): Promise<string> {
  const r = await bank.client.beginConversation({ seId: 'se-1', serviceId: 'bankco-pay', requestedOperation: op });
  expect(r.body.status, r.body.message).toBe('Executed-Success');
  return (r.body as BeginConversationResponse).conversationId;
}

const sdOnCard = () => cards.get('se-1')!.inspect().securityDomains.find((sd) => sd.aid === service().sdAid)!;
const instanceOnCard = () => cards.get('se-1')!.inspect().applications.find((a) => a.aid === service().instanceAid)!;

describe('SpTsm', () => {
  it('rotates its SD keys through a conversation; the old keys stop working, the new ones open the SD', async () => {
    const current = keysOf(service().spKeys!);
    const next: KeySet = { kvn: current.kvn + 1, scp: '03', enc: fromHex('11'.repeat(16)), mac: fromHex('22'.repeat(16)), dek: fromHex('33'.repeat(16)) };
    const c1 = await begin('rotate-keys');
    const channel = await bank.openSecureChannel(c1, service().sdAid, current, FULL);
    const r = await bank.rotateKeys(c1, channel, current, next);
    expect(r.answer.status, r.answer.message).toBe('Executed-Success');
    expect(r.responses[0].sw).toBe(0x9000);
    expect(sdOnCard().keySets.map((k) => k.kvn)).toEqual([next.kvn]);
    await bank.client.endConversation(c1);

    const c2 = await begin('personalize');
    // The old KVN is gone (6A88); asking for whatever set the card has (KVN 0) fails the card cryptogram check.
    await expect(bank.openSecureChannel(c2, service().sdAid, current, FULL)).rejects.toThrow(/6A88/);
    await expect(bank.openSecureChannel(c2, service().sdAid, { ...current, kvn: 0 }, FULL)).rejects.toBeInstanceOf(SecureChannelError);
    const reopened = await bank.openSecureChannel(c2, service().sdAid, next, FULL);
    expect(reopened.level).toBe(FULL);
  });

  it('batches a script under C-MAC + C-DECRYPTION and stops at the first rejected block', async () => {
    const c = await begin('personalize');
    const channel = await bank.openSecureChannel(c, service().sdAid, keysOf(service().spKeys!), SecurityLevel.CMAC | SecurityLevel.CDEC);
    const [first, second, third] = personalizationBlocks([fromHex('DF0103414C49'), fromHex('DF0203424F42'), fromHex('DF0303434F43')]);
    const rfu = { ...second, p1: second.p1 | 0x06 };
    const r = await bank.sendSecureScript(c, channel, [installForPersonalization(fromHex(service().instanceAid!)), first, rfu, third]);
    expect(r.answer.status).toBe('Failed');
    expect(r.responses.map((x) => x.sw.toString(16))).toEqual(['9000', '9000', '6a86']);
    expect(r.failedApduIndex).toBe(2);
    expect(instanceOnCard().storedHex).toBe('DF0103414C49');
  });

  it('personalizes its instance: INSTALL [for personalization] and STORE DATA blocks land in the instance', async () => {
    const c = await begin('personalize');
    const channel = await bank.openSecureChannel(c, service().sdAid, keysOf(service().spKeys!), FULL);
    const blocks = [fromHex('DF0103414C49'), fromHex('DF0203424F42')];
    const r = await bank.personalize(c, channel, service().instanceAid!, blocks);
    expect(r.answer.status, r.answer.message).toBe('Executed-Success');
    expect(r.responses.map((x) => x.sw)).toEqual([0x9000, 0x9000, 0x9000]);
    expect(instanceOnCard().storedHex).toBe('DF0103414C49DF0203424F42');
  });

  it('refuses to open a channel with wrong keys before any EXTERNAL AUTHENTICATE reaches the card', async () => {
    const c = await begin('personalize');
    const wrong = { ...keysOf(service().spKeys!), mac: fromHex('99'.repeat(16)) };
    const before = cards.get('se-1')!.inspect().auth.failures;
    await expect(bank.openSecureChannel(c, service().sdAid, wrong, FULL)).rejects.toThrow(/cryptogram/i);
    expect(cards.get('se-1')!.inspect().auth.failures).toBe(before);
  });
});
