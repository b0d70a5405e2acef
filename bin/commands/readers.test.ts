import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { newSimulatedSe } from '../../drivers/channel.conformance.ts';
import { insertCard, insidePrivatePcscd, vpcdReaderName } from '../../test/pcsc/namespace.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const exec = promisify(execFile);

/** Runs the tsmlab command asynchronously (the simulated card answers from this process meanwhile). */
async function tsmlab(args: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []) {
  try {
    const r = await exec(process.execPath, [...nodeArgs, path.join(repo, 'bin/tsmlab.js'), 'readers', ...args], {
      cwd: repo,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('tsmlab readers without PC/SC', () => {
  it('says exactly what to install when the pcsclite native module cannot load, exit 2', async () => {
    const r = await tsmlab([], {}, ['--require', path.join(repo, 'test/pcsc/hide-pcsclite.cjs')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      "tsmlab readers: PC/SC support needs the pcsclite native module: apt-get install libpcsclite-dev pcscd && npm rebuild pcsclite (Cannot find module 'pcsclite')\n",
    );
  });

  it('says plainly that pcscd is not running, exit 2', async () => {
    const r = await tsmlab(['--json'], { PCSCLITE_CSOCK_NAME: '/nonexistent/pcscd.comm' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tsmlab readers: pcscd is not running \(start it: .*\): SCardEstablishContext error: Service not available\.\(0x8010001d\)\n$/);
  });

  it('rejects unknown options', async () => {
    const r = await tsmlab(['--colour']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('tsmlab readers: unknown option --colour\n');
  });
});

describe.skipIf(!insidePrivatePcscd)('tsmlab readers with the private pcscd', () => {
  it('lists both vpcd slots, the simulated card’s ATR and the profile for that reader', async () => {
    const { se } = newSimulatedSe('se-readers');
    const c = await insertCard(se, 0);
    try {
      const r = await tsmlab(['--profiles', 'profiles/examples', '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.readers.slice(0, 2)).toEqual([
        { index: 0, name: vpcdReaderName(0), card: true, atr: Buffer.from(se.atr()).toString('hex').toUpperCase(), profiles: ['tsmlab-sim-scp03'] },
        { index: 1, name: vpcdReaderName(1), card: false, profiles: [] },
      ]);
      expect(out.profileProblems).toEqual([]);
      const text = await tsmlab(['--profiles', 'profiles/examples']);
      expect(text.stdout).toContain(`${vpcdReaderName(0)}  3B8C80018073C821136605036351000254  profile: tsmlab-sim-scp03 (sim-scp03.json)`);
      expect(text.stdout).toContain(`${vpcdReaderName(1)}  empty`);
    } finally {
      await c.remove();
    }
  });
});
