/**
 * The functionCallIdentifier ledger through the central TSM, on simulated SEs: one SP's traffic never makes
 * another SP's retry run twice (issue: TransitCo's 1000 refused requests pushed BankCo's identifier out of a
 * shared ledger, and BankCo's retry suspended its service again).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defaultFleet } from '../profiles/fleet.ts';
import { createSimulatedSe } from '../simulator/index.ts';
import { subscribe, type TraceEvent } from '../trace/index.ts';
import { inprocChannels } from './channels.ts';
import { ManualClock } from './clock.ts';
import { IDENTIFIER_RETENTION_MS } from './idempotency.ts';
import { MemoryStore } from './store.ts';
import { simulatedTsm, type SimulatedTsm } from '../test/simulated-tsm.ts';

let tsm: SimulatedTsm | undefined;
afterEach(async () => {
  await tsm?.close();
  tsm = undefined;
});

function start(clock = new ManualClock(), store = new MemoryStore()) {
  const fleet = defaultFleet();
  tsm = simulatedTsm({ fleet, clock, store, channels: inprocChannels(fleet.ses.map((s) => createSimulatedSe(s))) });
  return tsm;
}

/** APDUs sent to any card while `fn` runs. */
async function commandsDuring<T>(fn: () => Promise<T>): Promise<{ result: T; commands: number }> {
  const events: TraceEvent[] = [];
  const stop = subscribe((e) => events.push(e));
  try {
    const result = await fn();
    return { result, commands: events.filter((e) => e.kind === 'apdu.command').length };
  } finally {
    stop();
  }
}

const bank = (functionCallIdentifier: string) => ({ serviceProvider: 'BankCo', functionCallIdentifier });
const transit = (functionCallIdentifier: string) => ({ serviceProvider: 'TransitCo', functionCallIdentifier });

describe('functionCallIdentifiers are kept per SP', () => {
  it("BankCo's retry after 1000 refused TransitCo requests answers the first suspend and sends nothing to the card", async () => {
    const t = start();
    const first = await commandsDuring(() => t.suspendService(bank('bank-suspend-7'), { serviceId: 'bankco-pay', seId: 'se-1' }));
    expect(first.result).toMatchObject({ status: 'Executed-Success', state: 'suspended' });
    expect(first.commands).toBeGreaterThan(0);
    for (let i = 0; i < 1000; i++) {
      await expect(t.suspendService(transit(`transit-${i}`), { serviceId: 'bankco-pay', seId: 'se-1' })).rejects.toMatchObject({ reasonCode: '1.2' });
    }
    const retry = await commandsDuring(() => t.suspendService(bank('bank-suspend-7'), { serviceId: 'bankco-pay', seId: 'se-1' }));
    expect(retry.result).toEqual(first.result);
    expect(retry.commands).toBe(0);
  });

  it('keeps the identifier across a restart for its retention, and the retention is counted on the central TSM clock', async () => {
    const clock = new ManualClock();
    const store = new MemoryStore();
    const t1 = start(clock, store);
    const first = await t1.suspendService(bank('bank-suspend-8'), { serviceId: 'bankco-pay', seId: 'se-1' });
    await t1.close();
    clock.advance(IDENTIFIER_RETENTION_MS - 1);
    const t2 = start(clock, store);
    const retry = await commandsDuring(() => t2.suspendService(bank('bank-suspend-8'), { serviceId: 'bankco-pay', seId: 'se-1' }));
    expect(retry).toEqual({ result: first, commands: 0 });
    expect(store.load()!.operations!.map((r) => [r.serviceProvider, r.functionCallIdentifier, r.keepUntil])).toEqual([
      ['BankCo', 'bank-suspend-8', Date.UTC(2030, 0, 1) + IDENTIFIER_RETENTION_MS],
    ]);
  });
});
