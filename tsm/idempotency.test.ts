import { describe, expect, it } from 'vitest';
import { CallLedger, fingerprint, type CallRecord } from './idempotency.ts';
import { TsmError } from './status.ts';

/** A ledger whose persisted records are copied out at every change, like a store would. */
function persisted(capacity?: number) {
  let saved: CallRecord[] = [];
  const ledger = new CallLedger({ capacity, onChange: () => (saved = structuredClone(ledger.records())), now: () => 1000 });
  return { ledger, saved: () => saved };
}

describe('CallLedger across restarts', () => {
  it('records "running" before the function runs, then its answer', async () => {
    const { ledger, saved } = persisted();
    let seenWhileRunning: CallRecord[] = [];
    const answer = await ledger.run('BankCo', 'f-1', 'k', async () => {
      seenWhileRunning = saved();
      return { status: 'Executed-Success' };
    });
    expect(answer).toEqual({ status: 'Executed-Success' });
    expect(seenWhileRunning.map((r) => r.state)).toEqual(['running']);
    expect(saved()).toEqual([{ serviceProvider: 'BankCo', functionCallIdentifier: 'f-1', fingerprint: 'k', state: 'done', answer: { status: 'Executed-Success' }, at: 1000 }]);
  });

  it('after a restart answers the recorded result or refusal and runs nothing; a running one is interrupted (5.4)', async () => {
    const before = persisted();
    await before.ledger.run('BankCo', 'ok', 'k1', async () => ({ status: 'Executed-Success', n: 1 }));
    await before.ledger.run('BankCo', 'no', 'k2', async () => Promise.reject(TsmError.failed('4.8', 'no room'))).catch(() => undefined);
    void before.ledger.run('BankCo', 'cut', 'k3', () => new Promise(() => undefined));

    const after = new CallLedger();
    expect(after.restore(before.saved())).toBe(1);
    let runs = 0;
    const run = () => {
      runs++;
      return Promise.resolve({ status: 'Executed-Success' });
    };
    await expect(after.run('BankCo', 'ok', 'k1', run)).resolves.toEqual({ status: 'Executed-Success', n: 1 });
    await expect(after.run('BankCo', 'no', 'k2', run)).rejects.toMatchObject({ reasonCode: '4.8', message: 'no room' });
    await expect(after.run('BankCo', 'cut', 'k3', run)).rejects.toMatchObject({ status: 'Failed', reasonCode: '5.4', message: expect.stringMatching(/interrupted by a restart/) });
    await expect(after.run('BankCo', 'cut', 'other', run)).rejects.toMatchObject({ reasonCode: '3.3' });
    expect(runs).toBe(0);
    await after.run('OtherSp', 'ok', 'k1', run);
    expect(runs).toBe(1);
  });

  it('keeps only the newest identifiers', async () => {
    const { ledger, saved } = persisted(2);
    for (const id of ['a', 'b', 'c']) await ledger.run('BankCo', id, 'k', async () => ({ status: 'Executed-Success' }));
    expect(saved().map((r) => r.functionCallIdentifier)).toEqual(['b', 'c']);
  });

  it('fingerprints are stable under field order and do not carry the request', () => {
    expect(fingerprint('X', { a: 1, b: 'secret' })).toBe(fingerprint('X', { b: 'secret', a: 1 }));
    expect(fingerprint('X', { a: 1, b: 'secret' })).not.toMatch(/secret/);
    expect(fingerprint('X', { a: 1 })).not.toBe(fingerprint('X', { a: 2 }));
  });
});
