import { afterEach, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../gp/index.ts';
import { defaultFleet } from '../profiles/fleet.ts';
import { createSimulatedSe, type SimulatedSe } from '../simulator/index.ts';
import { inprocChannels, SpClient, startSpApi, type ServiceRecord, type SpApiServer } from '../tsm/index.ts';
import { cardholderData, personalizeInOneConversation, secondService, SpActionError } from './lifecycle-sp.ts';
import { simulatedTsm, type SimulatedTsm } from '../test/simulated-tsm.ts';
import { keySetOf } from '../profiles/index.ts';

let api: SpApiServer | undefined;
let tsm: SimulatedTsm | undefined;
afterEach(async () => {
  await api?.close();
  await tsm?.close();
  api = tsm = undefined;
});

async function start(): Promise<{ cards: Map<string, SimulatedSe>; bank: SpClient }> {
  const fleet = defaultFleet();
  const cards = new Map(fleet.ses.map((s) => [s.seId, createSimulatedSe(s)]));
  tsm = simulatedTsm({ fleet, channels: inprocChannels(cards.values()) });
  api = await startSpApi(tsm, { port: 0 });
  return { cards, bank: new SpClient({ baseUrl: api.url, serviceProvider: 'BankCo' }) };
}

const bankKeys = () => keySetOf(defaultFleet().ses[0].services!.find((s) => s.id === 'bankco-pay')!.spKeys!);

describe('cardholderData', () => {
  it('is one DF01 TLV of the text', () => {
    expect(toHex(cardholderData('AB'))).toBe('DF01024142');
  });
});

describe('personalizeInOneConversation', () => {
  it('stores the data in the instance through the SP own channel and leaves no conversation open', async () => {
    const { cards, bank } = await start();
    const service = tsm!.operator.service('se-1', 'bankco-pay');
    await personalizeInOneConversation(bank, service, bankKeys(), cardholderData('holder=ALICE'));
    const app = cards.get('se-1')!.inspect().applications.find((a) => a.aid === service.instanceAid);
    expect(app?.storedHex).toBe(toHex(cardholderData('holder=ALICE')));
    // The SE is free again: another conversation can begin.
    const again = await bank.beginConversation({ seId: 'se-1', serviceId: 'bankco-pay', requestedOperation: 'read' });
    expect(again.body.status).toBe('Executed-Success');
  });

  it('fails with the SP keys wrong, ending the conversation anyway', async () => {
    const { bank } = await start();
    const service = tsm!.operator.service('se-1', 'bankco-pay');
    const wrong = { ...bankKeys(), enc: fromHex('00'.repeat(16)) };
    await expect(personalizeInOneConversation(bank, service, wrong, cardholderData('x'))).rejects.toThrow();
    const again = await bank.beginConversation({ seId: 'se-1', serviceId: 'bankco-pay', requestedOperation: 'read' });
    expect(again.body.status).toBe('Executed-Success');
  });

  it('names the refusal when the conversation cannot begin', async () => {
    const { bank } = await start();
    const service = { ...tsm!.operator.service('se-1', 'transitco-ticket') };
    await expect(personalizeInOneConversation(bank, service, bankKeys(), cardholderData('x'))).rejects.toThrow(/BeginConversation: 1.2/);
  });
});

describe('secondService', () => {
  const base: ServiceRecord = {
    id: 'bankco-pay',
    seId: 'se-1',
    serviceProvider: 'BankCo',
    sdAid: 'F042414E4B434F2E5344',
    packageAid: 'F042414E4B434F2E504159',
    moduleAid: 'F042414E4B434F2E5041592E41',
    instanceAid: 'F042414E4B434F2E5041592E31',
    state: 'suspended',
    resumeTo: 'installed',
    note: 'n',
  };

  it('takes the next free instance AID and starts available', () => {
    const s = secondService(base, 'bankco-wallet', [base, { ...base, id: 'other', instanceAid: 'F042414E4B434F2E5041592E32' }]);
    expect(s).toEqual({ ...base, id: 'bankco-wallet', instanceAid: 'F042414E4B434F2E5041592E33', state: 'available', note: undefined, resumeTo: undefined });
    expect('note' in s || 'resumeTo' in s).toBe(false);
  });

  it('refuses an id already in use', () => {
    expect(() => secondService(base, 'bankco-pay', [base])).toThrow(SpActionError);
  });
});
