/**
 * ActivateService: the central TSM opens its own secure channel to the central SD (its keys, never the SP's)
 * through the MNO network and activates the service's instance.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defaultFleet } from '../profiles/fleet.ts';
import type { Fleet, KeySetSpec } from '../profiles/fleet-types.ts';
import { createSimulatedSe, type SimulatedSe } from '../simulator/index.ts';
import { subscribe, type TraceEvent } from '../trace/index.ts';
import { inprocChannels } from './channels.ts';
import { startSpApi, type SpApiServer } from './http.ts';
import { SpClient } from './sp-client.ts';
import { simulatedTsm, type SimulatedTsm } from '../test/simulated-tsm.ts';

const CENTRAL_SD = 'F043454E5452414C2E5344';
const BANKCO_INSTANCE = 'F042414E4B434F2E5041592E31';
const CENTRAL_SCP02: KeySetSpec = { kvn: 0x21, scp: '02', i: '55', enc: '5A'.repeat(16), mac: '5B'.repeat(16), dek: '5C'.repeat(16) };

let api: SpApiServer | undefined;
let tsm: SimulatedTsm | undefined;
let stop: (() => void) | undefined;

afterEach(async () => {
  stop?.();
  await tsm?.close();
  await api?.close();
});

/** The built-in fleet with the central SD on SCP02 keys (the TSM's key set as the card and the TSM know it). */
function fleetWithCentralKeys(cardKeys: KeySetSpec, tsmKeys: KeySetSpec = cardKeys): { cardFleet: Fleet; tsmFleet: Fleet } {
  const cardFleet = defaultFleet();
  const tsmFleet = defaultFleet();
  for (const [f, keys] of [[cardFleet, cardKeys], [tsmFleet, tsmKeys]] as const) {
    for (const se of f.ses) {
      se.centralSd.keys = keys;
      se.card.securityDomains!.find((sd) => sd.aid === CENTRAL_SD)!.keys = keys;
    }
  }
  return { cardFleet, tsmFleet };
}

async function start(cardFleet: Fleet, tsmFleet: Fleet) {
  const cards = new Map<string, SimulatedSe>(cardFleet.ses.map((s) => [s.seId, createSimulatedSe(s)]));
  tsm = simulatedTsm({ fleet: tsmFleet, channels: inprocChannels(cards.values()) });
  api = await startSpApi(tsm);
  const events: TraceEvent[] = [];
  stop = subscribe((e) => events.push(e));
  return { cards, events, bank: new SpClient({ baseUrl: api.url, serviceProvider: 'BankCo' }) };
}

const contactlessOf = (cards: Map<string, SimulatedSe>, seId: string, aid: string) =>
  cards.get(seId)!.inspect().applications.find((a) => a.aid === aid)?.contactless;

describe('ActivateService', () => {
  it('activates the instance over SCP03 with the central TSM’s keys (the built-in fleet) and says so', async () => {
    const { cards, bank, events } = await start(defaultFleet(), defaultFleet());
    expect(contactlessOf(cards, 'se-1', BANKCO_INSTANCE)).toBeUndefined();
    const r = await bank.activateService('bankco-pay');
    expect(r.body).toMatchObject({ status: 'Executed-Success', seId: 'se-1', instanceAid: BANKCO_INSTANCE, state: 'activated' });
    expect(contactlessOf(cards, 'se-1', BANKCO_INSTANCE)).toBe('activated');
    expect(contactlessOf(cards, 'se-1', 'F05452414E5349542E544B542E31')).toBeUndefined();
    // The central SD was the one authenticated, at C-MAC + C-DEC + R-MAC + R-ENC, and the card saw no clear SET STATUS.
    const sent = events.filter((e) => e.kind === 'apdu.command').map((e) => (e as { hex: string }).hex);
    expect(sent[0]).toContain(CENTRAL_SD);
    expect(sent.some((h) => h.startsWith('84823300'))).toBe(true);
    expect(sent.some((h) => h.startsWith('80F001'))).toBe(false);
    // ...but the trace (and a real card's safety guard) learn the plain command from the central TSM's own note.
    const setStatus = events.find((e) => e.kind === 'apdu.command' && e.plainHex?.startsWith('80F00101'));
    expect(setStatus && 'hex' in setStatus ? setStatus.hex.startsWith('84F00101') : false).toBe(true);
    expect(tsm!.registry.service('se-1', 'bankco-pay').state).toBe('activated');
    // Activating again is refused by the service state machine, and nothing is sent.
    const mark = events.length;
    const again = await bank.activateService('bankco-pay');
    expect(again.body).toMatchObject({ status: 'Failed', reasonCode: '3.8' });
    expect(events.slice(mark).some((e) => e.kind === 'apdu.command')).toBe(false);
  });

  it('activates with an SCP02 central key set too', async () => {
    const { cardFleet, tsmFleet } = fleetWithCentralKeys(CENTRAL_SCP02);
    const { cards, bank } = await start(cardFleet, tsmFleet);
    const r = await bank.activateService('bankco-pay2', { msisdn: '+33700000002', mno: 'MNO-B' });
    expect(r.body).toMatchObject({ status: 'Executed-Success', seId: 'se-2' });
    expect(contactlessOf(cards, 'se-2', BANKCO_INSTANCE)).toBe('activated');
  });

  it('stops with 6.1 before EXTERNAL AUTHENTICATE when the card cryptogram does not verify', async () => {
    const wrong: KeySetSpec = { ...CENTRAL_SCP02, enc: '66'.repeat(16) };
    const { cardFleet, tsmFleet } = fleetWithCentralKeys(CENTRAL_SCP02, wrong);
    const { events, bank, cards } = await start(cardFleet, tsmFleet);
    const r = await bank.activateService('bankco-pay', { seId: 'se-1' });
    expect(r.body).toMatchObject({ status: 'Failed', reasonCode: '6.1' });
    const sent = events.filter((e) => e.kind === 'apdu.command').map((e) => (e as { hex: string }).hex);
    expect(sent.some((h) => h.startsWith('8050'))).toBe(true);
    expect(sent.some((h) => h.slice(2, 4) === '82')).toBe(false);
    expect(cards.get('se-1')!.inspect().auth.failures).toBe(0);
  });

  it('goes through the SE’s MNO network and refuses while a conversation holds the SE (3.7)', async () => {
    const { cardFleet, tsmFleet } = fleetWithCentralKeys(CENTRAL_SCP02);
    const { bank, events } = await start(cardFleet, tsmFleet);
    const c = await bank.beginConversation({ seId: 'se-2', serviceId: 'bankco-pay2', requestedOperation: 'read' });
    expect(c.body.status).toBe('Executed-Success');
    const busy = await bank.activateService('bankco-pay2');
    expect(busy.body).toMatchObject({ status: 'Failed', reasonCode: '3.7' });
    tsm!.gateway.setUp('MNO-B', false);
    const down = await bank.activateService('bankco-pay2');
    expect(down.body).toMatchObject({ status: 'Failed', reasonCode: '5.1' });
    expect(events.some((e) => e.kind === 'tsm.decision' && e.decision === 'activation')).toBe(false);
  });
});
