/**
 * The service state table (service-state.ts): every cell — each service function from each state — exercised
 * on the central TSM with simulated cards (a refused cell answers 3.8 and sends nothing; an allowed one goes to
 * the card), the activate-from-suspended regression, and docs/sp-api.md carrying the table the code prints.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { CardChannel } from '../drivers/channel.ts';
import { defaultFleet } from '../profiles/fleet.ts';
import { createSimulatedSe, type SimulatedSe } from '../simulator/index.ts';
import type { RequestContext } from './api-types.ts';
import { CentralTsm } from './central-tsm.ts';
import { inprocChannels } from './channels.ts';
import { allows, SERVICE_FUNCTIONS, SERVICE_STATES, transitionTableMarkdown, type ServiceFunction } from './service-state.ts';
import { TsmError } from './status.ts';
import { simulatedTsm, type SimulatedTsm } from '../test/simulated-tsm.ts';

const SE = 'se-1';
const SERVICE = 'bankco-pay';
const INSTANCE = 'F042414E4B434F2E5041592E31';
const bank: RequestContext = { serviceProvider: 'BankCo' };

let tsm: SimulatedTsm | undefined;
afterEach(async () => {
  await tsm?.close();
  tsm = undefined;
});

/** The built-in fleet on in-process cards, counting every command that reaches a card. */
function start() {
  const fleet = defaultFleet();
  const cards = new Map<string, SimulatedSe>(fleet.ses.map((s) => [s.seId, createSimulatedSe(s)]));
  const base = inprocChannels(cards.values());
  const sent = { n: 0 };
  tsm = simulatedTsm({
    fleet,
    channels: async (seId): Promise<CardChannel> => {
      const ch = await base(seId);
      return { ...ch, name: ch.name, transmit: (c, o) => (sent.n++, ch.transmit(c, o)), atr: (o) => ch.atr(o), reset: (c, o) => ch.reset(c, o), close: () => ch.close() };
    },
  });
  return { tsm, cards, sent };
}

function call(t: CentralTsm, fn: ServiceFunction): Promise<unknown> {
  const req = { seId: SE, serviceId: SERVICE };
  switch (fn) {
    case 'prepersonalize':
      return t.prepersonalize(bank, req);
    case 'activate':
      return t.activateService(bank, req);
    case 'suspend':
      return t.suspendService(bank, req);
    case 'resume':
      return t.resumeService(bank, req);
    case 'update':
      return t.updateService(bank, req);
    case 'delete':
      return t.deleteServices(bank, { seId: SE, serviceIds: [SERVICE] });
  }
}

const cells = SERVICE_FUNCTIONS.flatMap((fn) => SERVICE_STATES.map((state) => ({ fn, state, allowed: allows(fn, state) })));

describe('the service state table, cell by cell', () => {
  it.each(cells)('$fn from $state: allowed $allowed', async ({ fn, state, allowed }) => {
    const { tsm: t, sent } = start();
    t.registry.setServiceState(SE, SERVICE, state);
    const outcome = await call(t, fn).then(
      () => 'answered',
      (e: unknown) => e,
    );
    if (allowed) {
      expect(sent.n, 'commands sent to the card').toBeGreaterThan(0);
      if (outcome instanceof TsmError) expect(outcome.message).not.toMatch(/is refused \(/);
    } else {
      expect(outcome).toBeInstanceOf(TsmError);
      expect(outcome).toMatchObject({ reasonCode: '3.8' });
      expect((outcome as TsmError).message).toMatch(new RegExp(`is ${state}: ${fn} is refused .*nothing was sent`));
      expect(sent.n, 'commands sent to the card').toBe(0);
    }
  });
});

describe('ActivateService on a suspended service (regression)', () => {
  it('is refused 3.8 with nothing sent; the instance stays LOCKED; resume then activate works and the card agrees', async () => {
    const { tsm: t, cards, sent } = start();
    const instance = () => cards.get(SE)!.inspect().applications.find((a) => a.aid === INSTANCE)!;
    await t.suspendService(bank, { seId: SE, serviceId: SERVICE });
    expect(instance().lifeCycle).toBe('LOCKED');
    const before = sent.n;
    await expect(t.activateService(bank, { seId: SE, serviceId: SERVICE })).rejects.toMatchObject({ reasonCode: '3.8', message: expect.stringMatching(/resume a suspended service first/) });
    expect(sent.n).toBe(before);
    expect(t.registry.service(SE, SERVICE).state).toBe('suspended');
    expect(instance().lifeCycle).toBe('LOCKED');
    // Suspend and resume still work from there (they answered 500 and 409 before the fix).
    await expect(t.suspendService(bank, { seId: SE, serviceId: SERVICE })).rejects.toMatchObject({ reasonCode: '3.8' });
    await expect(t.resumeService(bank, { seId: SE, serviceId: SERVICE })).resolves.toMatchObject({ state: 'installed' });
    expect(instance().lifeCycle).toBe('SELECTABLE');
    await expect(t.activateService(bank, { seId: SE, serviceId: SERVICE })).resolves.toMatchObject({ state: 'activated' });
    expect(instance()).toMatchObject({ lifeCycle: 'SELECTABLE', contactless: 'activated' });
  });
});

describe('docs/sp-api.md', () => {
  it('carries the transition table exactly as the code prints it', () => {
    const doc = readFileSync(new URL('../docs/sp-api.md', import.meta.url), 'utf8');
    const m = /<!-- service-state-table:begin -->\n([\s\S]*?)\n<!-- service-state-table:end -->/.exec(doc);
    expect(m, 'the table markers in docs/sp-api.md').not.toBeNull();
    expect(m![1]).toBe(transitionTableMarkdown());
  });
});
