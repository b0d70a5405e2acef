import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const text = readFileSync(path.resolve(repo, '..', 'shared', 'vectors', 'pysim-scp02.txt'), 'utf8');

function field(label: string): string {
  const line = text.split('\n').find((l) => l.includes(label))!;
  return /:\s*([0-9a-fA-F]+)/.exec(line.slice(line.indexOf(label) + label.length - 1))![1].toUpperCase();
}

const v = {
  enc: field('static ENC (variable "KIC")'),
  mac: field('static MAC (variable "KID")'),
  dek: field('static DEK (variable "KIK")'),
  hostChallenge: field('[SOURCE] host challenge'),
  initUpdate: field('INITIALIZE UPDATE C-APDU'),
  iuResponse: text.split('\n')[text.split('\n').findIndex((l) => l.includes('INITIALIZE UPDATE response data (without SW)')) + 1].trim().toUpperCase(),
  senc: field('[DERIVED] S-ENC'),
  cmac: field('[DERIVED] C-MAC '),
  rmac: field('[DERIVED] R-MAC '),
  sdek: field('[DERIVED] S-DEK'),
  hostCryptogram: field('[DERIVED] host cryptogram'),
  extAuth: field('EXTERNAL AUTHENTICATE C-APDU'),
  wrapped: [...text.matchAll(/\[SOURCE\] case (\d)\s+plain (\S+)\s+-> (\S+)/g)].map((m) => ({ plain: m[2], wire: m[3].toUpperCase() })),
};

function tsmlab(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(repo, 'bin/tsmlab.js'), ...args], { cwd: repo, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const base = ['calc', 'scp02', '--enc', v.enc, '--mac', v.mac, '--dek', v.dek, '--host-challenge', v.hostChallenge];

describe('tsmlab calc scp02 on the pySim SCP02 session', () => {
  it('reproduces session keys, cryptograms, EXTERNAL AUTHENTICATE and the four wrapped commands', () => {
    const apdus = v.wrapped.flatMap((w) => ['--apdu', w.plain]);
    const r = tsmlab(...base, '--init-update-response', v.iuResponse + '9000', '--kvn', '20', ...apdus, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.sessionKeys).toEqual({ senc: v.senc, smac: v.cmac, srmac: v.rmac, sdek: v.sdek });
    expect(out.cardCryptogram.match).toBe(true);
    expect(out.sequenceCounter).toBe('0001');
    expect(out.initializeUpdate).toBe(v.initUpdate);
    expect(out.hostCryptogram).toBe(v.hostCryptogram);
    expect(out.externalAuthenticate).toBe(v.extAuth);
    expect(out.wrapped).toEqual(v.wrapped.map((w) => w.wire));
  });

  it('a card cryptogram mismatch: exit 1, no EXTERNAL AUTHENTICATE in the output', () => {
    const bad = v.iuResponse.slice(0, -2) + 'FF';
    const r = tsmlab(...base, '--init-update-response', bad, '--json');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.cardCryptogram).toEqual({ received: bad.slice(-16), expected: v.iuResponse.slice(-16), match: false });
    expect(out.externalAuthenticate).toBeUndefined();
    expect(out.hostCryptogram).toBeUndefined();
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cryptogram mismatch/);
  });

  it('bad arguments: one line naming the argument, exit 2', () => {
    const cases: [string[], RegExp][] = [
      [[...base, '--init-update-response', v.iuResponse.slice(0, 50)], /--init-update-response/],
      [[...base, '--init-update-response', v.iuResponse.slice(0, 22) + '03' + v.iuResponse.slice(24)], /--init-update-response.*03/],
      [[...base, '--init-update-response', v.iuResponse, '--level', '33'], /--level/],
      [[...base, '--init-update-response', v.iuResponse, '--level', '11'], /--level.*R-MAC/],
      [[...base, '--init-update-response', v.iuResponse, '--i', '1A'], /--i/],
      [[...base.slice(0, -2), '--host-challenge', '0102', '--init-update-response', v.iuResponse], /--host-challenge/],
      [['calc', 'scp02', '--enc', 'ZZ', '--init-update-response', v.iuResponse], /--enc/],
      [[...base, '--init-update-response', v.iuResponse, '--apdu', '80F2'], /--apdu #1/],
    ];
    for (const [args, pattern] of cases) {
      const r = tsmlab(...args, '--json');
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    }
  });
});
