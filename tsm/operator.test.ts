import { describe, expect, it } from 'vitest';
import { defaultFleet } from '../profiles/fleet.ts';
import type { RequestContext } from './api-types.ts';
import { MemoryStore } from './store.ts';
import { simulatedTsm } from '../test/simulated-tsm.ts';

const noCard = async (): Promise<never> => {
  throw new Error('no card in this test');
};
const bank: RequestContext = { serviceProvider: 'BankCo' };

describe('the operator API', () => {
  it('registers a service the SP then sees, and saves it for the next start', async () => {
    const store = new MemoryStore();
    const tsm = simulatedTsm({ fleet: defaultFleet(), channels: noCard, store });
    const base = tsm.operator.service('se-1', 'bankco-pay');
    const kept = tsm.operator.registerService({ ...base, id: 'bankco-extra', seId: 'se-1', state: 'available', instanceAid: undefined });
    expect(kept).toMatchObject({ id: 'bankco-extra', state: 'available' });
    expect(tsm.operator.services('se-1').map((s) => s.id)).toContain('bankco-extra');
    await expect(tsm.getServiceState(bank, { serviceId: 'bankco-extra', seId: 'se-1' })).resolves.toMatchObject({ state: 'available', sdAid: base.sdAid });
    await tsm.close();

    const again = simulatedTsm({ fleet: defaultFleet(), channels: noCard, store });
    expect(again.operator.service('se-1', 'bankco-extra').state).toBe('available');
    await again.close();
  });

  it('refuses a service on an unknown SE or of an unknown SP, saying which', () => {
    const tsm = simulatedTsm({ fleet: defaultFleet(), channels: noCard });
    const base = tsm.operator.service('se-1', 'bankco-pay');
    expect(() => tsm.operator.registerService({ ...base, id: 'x', seId: 'se-99' })).toThrow(/unknown SE "se-99"/);
    expect(() => tsm.operator.registerService({ ...base, id: 'x', serviceProvider: 'NoSuchCo' })).toThrow(/"NoSuchCo" is not a service provider/);
    expect(tsm.operator.services('se-1').map((s) => s.id)).not.toContain('x');
  });

  it('gives a new version its install size; the instance on the card keeps the size it was installed with', () => {
    const store = new MemoryStore();
    const tsm = simulatedTsm({ fleet: defaultFleet(), channels: noCard, store });
    const before = tsm.operator.service('se-1', 'bankco-pay');
    const old = before.installSize;
    const s = tsm.operator.setInstallSize('se-1', 'bankco-pay', 9000);
    expect(s.installSize).toBe(9000);
    expect(s.instanceSize).toBe(old ?? 2048);
    expect(store.load()!.services.find((x) => x.id === 'bankco-pay' && x.seId === 'se-1')!.installSize).toBe(9000);
    expect(() => tsm.operator.setInstallSize('se-1', 'bankco-pay', 0)).toThrow(/positive whole number of bytes, not 0/);
    expect(() => tsm.operator.setInstallSize('se-1', 'no-such', 10)).toThrow(/"no-such" is not known on SE se-1/);
  });

  it('tells an SE lock and the SEs it knows', () => {
    const tsm = simulatedTsm({ fleet: defaultFleet(), channels: noCard });
    expect(tsm.operator.seIds()).toEqual(defaultFleet().ses.map((s) => s.seId));
    expect(tsm.operator.seLock('se-1')).toBeUndefined();
  });
});
