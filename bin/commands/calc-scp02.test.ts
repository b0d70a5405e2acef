import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeResponse, fromHex, parseCommand, Scp02Card, Scp02Host, toHex } from '../../gp/index.ts';
import { pysimScp02 } from '../../test/vectors/index.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const P = pysimScp02();
// Upper-case hex, as the calculator prints it.
const v = {
  enc: toHex(P.keys.enc),
  mac: toHex(P.keys.mac),
  dek: toHex(P.keys.dek),
  hostChallenge: toHex(P.hostChallenge),
  iuResponse: toHex(P.initializeUpdateResponse),
  senc: toHex(P.sessionKeys.senc),
  cmac: toHex(P.sessionKeys.cmac),
  rmac: toHex(P.sessionKeys.rmac),
  hostCryptogram: toHex(P.hostCryptogram),
  extAuth: toHex(P.externalAuthenticate),
  wrapped: P.wrapped.map((w) => ({ plain: toHex(w.plain), wire: toHex(w.wire) })),
};

function tsmlab(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(repo, 'bin/tsmlab.js'), ...args], { cwd: repo, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const base = ['calc', 'scp02', '--enc', v.enc, '--mac', v.mac, '--dek', v.dek, '--host-challenge', v.hostChallenge];

describe('tsmlab calc scp02 on the pySim SCP02 session', () => {
  it('reproduces session keys, host cryptogram, EXTERNAL AUTHENTICATE and the four wrapped commands (calc scp03 fields)', () => {
    const apdus = v.wrapped.flatMap((w) => ['--apdu', w.plain]);
    const r = tsmlab(...base, '--level', '01', '--init-update-response', v.iuResponse, ...apdus, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['sessionKeys', 'cardCryptogramValid', 'hostCryptogram', 'externalAuthenticate', 'wrapped', 'unwrapped']);
    expect(out.sessionKeys).toEqual({ senc: v.senc, smac: v.cmac, srmac: v.rmac });
    expect(out.cardCryptogramValid).toBe(true);
    expect(out.hostCryptogram).toBe(v.hostCryptogram);
    expect(out.externalAuthenticate).toBe(v.extAuth);
    expect(out.wrapped).toEqual(v.wrapped.map((w) => w.wire));
    expect(out.unwrapped).toEqual([]);
  });

  it('a card cryptogram mismatch: exit 1, no EXTERNAL AUTHENTICATE, session keys still shown', () => {
    const r = tsmlab(...base, '--level', '01', '--init-update-response', toHex(P.badInitializeUpdateResponse), '--apdu', '80F22002', '--json');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.cardCryptogramValid).toBe(false);
    expect(out.externalAuthenticate).toBeNull();
    expect(out.hostCryptogram).toBeNull();
    expect(out.wrapped).toEqual([]);
    expect(out.sessionKeys.senc).toBe(v.senc);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cryptogram/);
  });

  it('verifies R-MAC responses of a gp Scp02Card at level 11 (i=35)', () => {
    const keys = { enc: fromHex(v.enc), mac: fromHex(v.mac), dek: fromHex(v.dek) };
    const card = new Scp02Card({ findKeySet: () => ({ kvn: 0x20, keys, sequenceCounter: 0x41 }), kdd: new Uint8Array(10), aid: fromHex('A000000151000000'), i: 0x35 });
    const host = new Scp02Host({ keys, level: 0x11, i: 0x35 });
    const iu = card.handleInitializeUpdate(host.initializeUpdate(0x20, fromHex(v.hostChallenge)));
    host.onInitializeUpdateResponse(iu.data);
    expect(card.handleExternalAuthenticate(host.externalAuthenticate()).sw).toBe(0x9000);
    const u = card.unwrapCommand(parseCommand(host.wrap(parseCommand(fromHex('80CA006600')))));
    if (!u.ok) throw new Error('card refused the command');
    const response = toHex(encodeResponse(card.wrapResponse({ data: fromHex('6601AA'), sw: 0x9000 })));
    const args = [...base, '--level', '11', '--i', '35', '--init-update-response', toHex(iu.data), '--apdu', '80CA006600'];
    const ok = JSON.parse(tsmlab(...args, '--response', response, '--json').stdout);
    expect(ok.unwrapped).toEqual(['6601AA9000']);
    const tampered = response.slice(0, 4) + (response[4] === '0' ? '1' : '0') + response.slice(5);
    const bad = tsmlab(...args, '--response', tampered, '--json');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).unwrapped).toEqual([null]);
  });

  it('bad arguments: one line naming the argument, exit 2', () => {
    const cases: [string[], RegExp][] = [
      [[...base, '--level', '01', '--init-update-response', v.iuResponse.slice(0, 50)], /--init-update-response/],
      [[...base, '--level', '01', '--init-update-response', v.iuResponse.slice(0, 22) + '03' + v.iuResponse.slice(24)], /--init-update-response.*03/],
      [[...base, '--level', '33', '--init-update-response', v.iuResponse], /--level/],
      [[...base, '--level', '11', '--init-update-response', v.iuResponse], /--level.*R-MAC/],
      [[...base, '--init-update-response', v.iuResponse], /--level/],
      [[...base, '--level', '01', '--i', '1A', '--init-update-response', v.iuResponse], /--i/],
      [[...base.slice(0, -2), '--host-challenge', '0102', '--level', '01', '--init-update-response', v.iuResponse], /--host-challenge/],
      [['calc', 'scp02', '--enc', 'ZZ', '--mac', v.mac, '--level', '01', '--host-challenge', v.hostChallenge, '--init-update-response', v.iuResponse], /--enc/],
      [[...base, '--level', '01', '--init-update-response', v.iuResponse, '--apdu', '80F2'], /--apdu/],
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
