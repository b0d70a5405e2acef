import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CallLedger, fingerprint, IDENTIFIER_RETENTION_MS, IDENTIFIERS_PER_SP, type CallRecord } from './idempotency.ts';
import { TsmError } from './status.ts';

/** A ledger whose persisted records are copied out at every change, like a store would. */
function persisted(opts: { capacityPerSp?: number; retentionMs?: number } = {}) {
  let saved: CallRecord[] = [];
  let t = 1000;
  const ledger: CallLedger = new CallLedger({ ...opts, onChange: () => (saved = structuredClone(ledger.records())), now: () => t });
  return { ledger, saved: () => saved, advance: (ms: number) => (t += ms) };
}

const ok = async () => ({ status: 'Executed-Success' });

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
    expect(saved()).toEqual([{ serviceProvider: 'BankCo', functionCallIdentifier: 'f-1', fingerprint: 'k', state: 'done', answer: { status: 'Executed-Success' }, at: 1000, keepUntil: 1000 + IDENTIFIER_RETENTION_MS }]);
  });

  it('after a restart answers the recorded result or refusal and runs nothing; a running one is interrupted (5.4)', async () => {
    const before = persisted();
    await before.ledger.run('BankCo', 'ok', 'k1', async () => ({ status: 'Executed-Success', n: 1 }));
    await before.ledger.run('BankCo', 'no', 'k2', async () => Promise.reject(TsmError.failed('4.8', 'no room'))).catch(() => undefined);
    void before.ledger.run('BankCo', 'cut', 'k3', () => new Promise(() => undefined));

    const after = new CallLedger({ now: () => 1000 });
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

  it('fingerprints are stable under field order and do not carry the request', () => {
    expect(fingerprint('X', { a: 1, b: 'secret' })).toBe(fingerprint('X', { b: 'secret', a: 1 }));
    expect(fingerprint('X', { a: 1, b: 'secret' })).not.toMatch(/secret/);
    expect(fingerprint('X', { a: 1 })).not.toBe(fingerprint('X', { a: 2 }));
  });
});

describe('CallLedger: identifiers per SP, kept for their retention', () => {
  it("never lets one SP's identifiers push out another's: 1000 refused TransitCo requests leave BankCo's retry answered, not run", async () => {
    const ledger = new CallLedger({ now: () => 1000 });
    let suspends = 0;
    const suspend = async () => {
      suspends++;
      return { status: 'Executed-Success', state: 'suspended' };
    };
    const first = await ledger.run('BankCo', 'bank-suspend-1', 'Suspend:k', suspend);
    for (let i = 0; i < 1000; i++) {
      await ledger.run('TransitCo', `transit-${i}`, `Suspend:${i}`, () => Promise.reject(TsmError.failed('1.2', 'not yours'))).catch(() => undefined);
    }
    expect(await ledger.run('BankCo', 'bank-suspend-1', 'Suspend:k', suspend)).toEqual(first);
    expect(suspends).toBe(1);
  });

  it(`refuses an SP's new identifier 3.7, running nothing, once its share (default ${IDENTIFIERS_PER_SP}) is full of identifiers within their retention; other SPs are unaffected`, async () => {
    const { ledger, advance } = persisted({ capacityPerSp: 2, retentionMs: 60_000 });
    await ledger.run('TransitCo', 'a', 'k', ok);
    advance(1000);
    await ledger.run('TransitCo', 'b', 'k', ok);
    let ran = false;
    const refused = ledger.run('TransitCo', 'c', 'k', async () => {
      ran = true;
      return { status: 'Executed-Success' };
    });
    await expect(refused).rejects.toMatchObject({
      status: 'Failed',
      reasonCode: '3.7',
      message: expect.stringMatching(/TransitCo already has 2 functionCallIdentifiers .* the first is released at 1970-01-01T00:01:01\.001Z\. Nothing was done/),
    });
    expect(ran).toBe(false);
    await expect(ledger.run('BankCo', 'a', 'k', ok)).resolves.toEqual({ status: 'Executed-Success' });
    // Repeats of remembered identifiers are still answered.
    await expect(ledger.run('TransitCo', 'a', 'k', () => Promise.reject(new Error('must not run')))).resolves.toEqual({ status: 'Executed-Success' });
    // Once "a" is past its retention its place is free.
    advance(59_001);
    await expect(ledger.run('TransitCo', 'c', 'k', ok)).resolves.toEqual({ status: 'Executed-Success' });
  });

  it('keeps an identifier for its retention, longer when its validity period ends later, and forgets it after', async () => {
    const { ledger, saved, advance } = persisted({ retentionMs: 60_000 });
    let runs = 0;
    const count = async () => ({ status: 'Executed-Success', n: ++runs });
    await ledger.run('BankCo', 'short', 'k', count);
    await ledger.run('BankCo', 'long', 'k', count, { validUntil: 1000 + 600_000 });
    expect(saved().map((r) => [r.functionCallIdentifier, r.keepUntil])).toEqual([
      ['short', 61_000],
      ['long', 601_000],
    ]);
    advance(60_000);
    await ledger.run('BankCo', 'short', 'k', count);
    expect(runs, 'still within the retention: answered, not run').toBe(2);
    advance(1);
    await ledger.run('BankCo', 'short', 'k', count);
    expect(runs, 'past the retention: a new request').toBe(3);
    await ledger.run('BankCo', 'long', 'k', count);
    expect(runs, 'within its validity period: answered, not run').toBe(3);
  });

  it('never forgets a request that is still running', async () => {
    const { ledger, advance } = persisted({ retentionMs: 1000 });
    let finish!: (v: { status: string }) => void;
    const slow = ledger.run('BankCo', 'slow', 'k', () => new Promise<{ status: string }>((r) => (finish = r)));
    advance(10_000);
    const repeat = ledger.run('BankCo', 'slow', 'k', () => Promise.reject(new Error('must not run')));
    finish({ status: 'Executed-Success' });
    expect(await repeat).toEqual(await slow);
  });

  it('restores per SP: drops identifiers past their time, dates old records from their arrival, keeps the newest per SP', async () => {
    const rec = (sp: string, id: string, at: number, keepUntil?: number): CallRecord => ({
      serviceProvider: sp,
      functionCallIdentifier: id,
      fingerprint: 'k',
      state: 'done',
      answer: { status: 'Executed-Success', id },
      at,
      ...(keepUntil !== undefined ? { keepUntil } : {}),
    });
    const now = 100_000;
    const ledger = new CallLedger({ capacityPerSp: 2, retentionMs: 50_000, now: () => now });
    ledger.restore([rec('BankCo', 'gone', 0, 90_000), rec('BankCo', 'old-format', 60_000), rec('BankCo', 'old-format-gone', 10_000), rec('TransitCo', 't1', 99_000, 200_000), rec('TransitCo', 't2', 99_000, 200_000), rec('TransitCo', 't3', 99_000, 200_000)]);
    expect(ledger.records().map((r) => `${r.serviceProvider}/${r.functionCallIdentifier}@${r.keepUntil}`)).toEqual([
      'BankCo/old-format@110000',
      'TransitCo/t2@200000',
      'TransitCo/t3@200000',
    ]);
  });
});

describe('the retention and the bound are documented as they are', () => {
  it('in the OpenAPI document and docs/sp-api.md', () => {
    const doc = JSON.parse(readFileSync(new URL('./openapi.json', import.meta.url), 'utf8'));
    const text = doc.components.schemas.FunctionCallIdentifier.description as string;
    expect(text).toContain(`at least ${IDENTIFIER_RETENTION_MS / 1000} seconds`);
    expect(text).toContain(`at most ${IDENTIFIERS_PER_SP} per SP`);
    const md = readFileSync(new URL('../docs/sp-api.md', import.meta.url), 'utf8');
    expect(IDENTIFIER_RETENTION_MS).toBe(3600_000);
    expect(md).toContain('for at least **one hour**');
    expect(md).toContain(`At most **${IDENTIFIERS_PER_SP}** identifiers are remembered per SP`);
  });
});
