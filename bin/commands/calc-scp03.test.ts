import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pysimScp03, pysimScp03Case } from '../../test/vectors/index.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));

function tsmlab(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(repo, 'bin/tsmlab.js'), ...args], { cwd: repo, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const C = pysimScp03Case('AES128_33');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();
const field = (name: 'hostChallenge' | 'initializeUpdateResponse' | 'senc' | 'smac' | 'srmac' | 'hostCryptogram' | 'externalAuthenticate') => hex(C[name]);
const eidResponse = hex(C.eidResponse);
const eidPlain = hex(pysimScp03().eidResponsePlain);

const KEYS = ['--enc', '000102030405060708090a0b0c0d0e0f', '--mac', '101112131415161718191a1b1c1d1e1f', '--dek', '202122232425262728292a2b2c2d2e2f'];
const PLAIN = pysimScp03().plainCommands.map((c) => hex(c.apdu));
const WRAPPED = C.wrapped.map(hex);
const SESSION = ['--level', '33', '--host-challenge', field('hostChallenge'), '--init-update-response', field('initializeUpdateResponse')];

describe('tsmlab calc scp03 (pySim AES128_33)', () => {
  it('prints exactly the documented JSON: session keys, cryptograms, EXTERNAL AUTHENTICATE, five wrapped commands, the GET EID response', () => {
    const apdus = PLAIN.flatMap((a) => ['--apdu', a]);
    const r = tsmlab('calc', 'scp03', ...KEYS, ...SESSION, ...apdus, '--response', eidResponse + '9000', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['sessionKeys', 'cardCryptogramValid', 'hostCryptogram', 'externalAuthenticate', 'wrapped', 'unwrapped']);
    expect(out.sessionKeys).toEqual({ senc: field('senc'), smac: field('smac'), srmac: field('srmac') });
    expect(out.cardCryptogramValid).toBe(true);
    expect(out.hostCryptogram).toBe(field('hostCryptogram'));
    expect(out.externalAuthenticate).toBe(field('externalAuthenticate'));
    expect(out.wrapped).toEqual(WRAPPED);
    expect(out.unwrapped).toEqual([eidPlain + '9000']);
    expect(r.stdout.trim().split('\n').length).toBe(1);
  });

  it('text output without --json', () => {
    const r = tsmlab('calc', 'scp03', ...KEYS, ...SESSION, '--apdu', PLAIN[0]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`S-MAC                  ${field('smac')}`);
    expect(r.stdout).toContain('card cryptogram        valid');
    expect(r.stdout).toContain(`EXTERNAL AUTHENTICATE  ${field('externalAuthenticate')}`);
    expect(r.stdout).toContain(`wrapped #1             ${WRAPPED[0]}`);
  });

  it('wrong keys: JSON with cardCryptogramValid false, no host cryptogram nor EXTERNAL AUTHENTICATE, exit 1', () => {
    const wrong = ['--enc', '000102030405060708090a0b0c0d0e0f', '--mac', '00'.repeat(16)];
    const r = tsmlab('calc', 'scp03', ...wrong, ...SESSION, '--apdu', PLAIN[0], '--json');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.cardCryptogramValid).toBe(false);
    expect(out.hostCryptogram).toBeNull();
    expect(out.externalAuthenticate).toBeNull();
    expect(out.wrapped).toEqual([]);
    expect(r.stderr).toMatch(/card cryptogram does not verify/);
    expect(r.stderr.trim().split('\n').length).toBe(1);
  });

  it('a tampered response: unwrapped null, exit 1', () => {
    const bad = (eidResponse.slice(0, -2) + (eidResponse.endsWith('00') ? '01' : '00') + '9000').toUpperCase();
    const r = tsmlab('calc', 'scp03', ...KEYS, ...SESSION, '--apdu', PLAIN[0], '--response', bad, '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).unwrapped).toEqual([null]);
    expect(r.stderr).toMatch(/--response \(#1\): R-MAC mismatch/);
  });

  const errors: [string, string[], RegExp][] = [
    ['odd hex', ['--enc', '0001020', '--mac', '101112131415161718191a1b1c1d1e1f', ...SESSION], /--enc: odd number of hex digits/],
    ['not hex', ['--enc', 'zz0102030405060708090a0b0c0d0e0f', '--mac', '101112131415161718191a1b1c1d1e1f', ...SESSION], /--enc: not hexadecimal/],
    ['wrong key length', ['--enc', '000102030405060708090a0b0c0d0e0f', '--mac', '1011121314151617', ...SESSION], /--mac must be 16, 24, 32 bytes, got 8/],
    ['malformed INITIALIZE UPDATE response', [...KEYS, '--level', '33', '--host-challenge', field('hostChallenge'), '--init-update-response', '0000000000000000000030037030'], /--init-update-response: .*must be 32 bytes/],
    ['unknown option', [...KEYS, ...SESSION, '--kvn', '30'], /unknown option --kvn/],
    ['missing argument', [...KEYS, '--level', '33', '--init-update-response', field('initializeUpdateResponse')], /--host-challenge is required/],
    ['bad level', [...KEYS, ...SESSION.slice(2), '--level', '02'], /--level 02 is not a SCP03 security level/],
    ['malformed APDU', [...KEYS, ...SESSION, '--apdu', '80E29100'.concat('06BF3E')], /--apdu \(#1\): /],
    ['more responses than commands', [...KEYS, ...SESSION, '--response', '9000'], /--response given 1 times for 0 --apdu/],
    ['short host challenge', [...KEYS, '--level', '33', '--host-challenge', '0102', '--init-update-response', field('initializeUpdateResponse')], /--host-challenge must be 8, 16 bytes/],
  ];
  for (const [name, args, message] of errors) {
    it(`bad input (${name}): one line on stderr naming the argument, exit 2`, () => {
      const r = tsmlab('calc', 'scp03', ...args, '--json');
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n').length).toBe(1);
    });
  }
});
