/**
 * A card that goes away under a scenario: the channel wrapper notes why, and a whole run through the private pcscd
 * (a simulated card in a vpcd reader, pulled mid-conversation) ends INCONCLUSIVE with that reason, not FAIL.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DriverError, type CardChannel } from '../drivers/index.ts';
import { InconclusiveError } from '../drivers/safety.ts';
import { insidePrivatePcscd, SKIP_REASON } from '../test/pcsc/namespace.ts';
import { CardTrouble } from './card-trouble.ts';

const repo = fileURLToPath(new URL('../', import.meta.url));

function failing(e: unknown): CardChannel {
  return {
    name: 'test:failing',
    transmit: () => Promise.reject(e),
    atr: () => Promise.reject(e),
    reset: () => Promise.reject(e),
    close: () => Promise.resolve(),
  };
}

describe('noting card trouble', () => {
  it('remembers the first failure that leaves the outcome undecided, and passes every error on unchanged', async () => {
    const trouble = new CardTrouble();
    const removed = new DriverError('removed', 'pcsc:R: the card was removed from the reader');
    const ch = trouble.watch(failing(removed));
    await expect(ch.transmit(Uint8Array.of(0, 0xa4, 4, 0))).rejects.toBe(removed);
    expect(trouble.reason).toBe('card removed: pcsc:R: the card was removed from the reader');
    await expect(trouble.watch(failing(new DriverError('timeout', 'late'))).atr()).rejects.toBeInstanceOf(DriverError);
    expect(trouble.reason).toMatch(/^card removed/);
  });

  it('ignores errors that are the product\'s business, and notes the guard\'s own verdicts', async () => {
    const trouble = new CardTrouble();
    await expect(trouble.watch(failing(new DriverError('protocol', 'bad frame'))).transmit(new Uint8Array(4))).rejects.toThrow('bad frame');
    await expect(trouble.watch(failing(new Error('6A82'))).reset()).rejects.toThrow('6A82');
    expect(trouble.reason).toBeUndefined();
    await expect(trouble.watch(failing(new InconclusiveError('budget spent'))).transmit(new Uint8Array(4))).rejects.toThrow('budget spent');
    expect(trouble.reason).toBe('budget spent');
  });

  it('notes a card that cannot be reached when a channel is opened', async () => {
    const trouble = new CardTrouble();
    await expect(trouble.open(() => Promise.reject(new DriverError('closed', 'ws: gone')))).rejects.toBeInstanceOf(DriverError);
    expect(trouble.reason).toBe('card channel closed: ws: gone');
  });
});

if (!insidePrivatePcscd) console.warn(`harness/card-trouble.test.ts (the run through pcscd) skipped: ${SKIP_REASON}`);

describe.skipIf(!insidePrivatePcscd)('a card pulled out of its vpcd reader mid-conversation', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'tsmlab-pulled-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('makes the scenario INCONCLUSIVE with the driver\'s reason, not FAIL', async () => {
    const out = path.join(tmp, 'out');
    const code = await new Promise<number>((resolve) => {
      execFile('node', ['bin/tsmlab.js', 'run', '--quiet', '--target', 'pcsc', '--out', out, 'test/fixtures/features/card-pulled.feature'], { cwd: repo }, (e) =>
        resolve(e ? ((e as { code?: number }).code ?? 1) : 0),
      );
    });
    expect(code).toBe(1);
    const report = JSON.parse(readFileSync(path.join(out, 'certification.json'), 'utf8')) as { scenarios: { verdict: string; attempts: { reason?: string }[] }[] };
    expect(report.scenarios.map((s) => s.verdict)).toEqual(['INCONCLUSIVE']);
    expect(report.scenarios[0].attempts[0].reason).toMatch(/^card removed: /);
  }, 120_000);
});
