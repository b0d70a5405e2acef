import { spawnSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));

function tsmlab(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(repo, 'bin/tsmlab.js'), ...args], { cwd: repo, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function kcv(keyHex: string, aes: boolean): string {
  const key = Buffer.from(keyHex, 'hex');
  const c = aes ? createCipheriv(`aes-${key.length * 8}-ecb`, key, null) : createCipheriv('des-ede-ecb', key, null);
  c.setAutoPadding(false);
  return c.update(Buffer.alloc(aes ? 16 : 8, aes ? 1 : 0)).toString('hex').slice(0, 6).toUpperCase();
}

const MASTER = '404142434445464748494A4B4C4D4E4F';
const KDD = '00010203040506070809';

describe('tsmlab calc kdf (GlobalPlatformPro known answers, checked by KCV)', () => {
  it('emv --json prints exactly {enc, mac, dek}', () => {
    const r = tsmlab('calc', 'kdf', '--scheme', 'emv', '--master', MASTER, '--kdd', KDD, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['enc', 'mac', 'dek']);
    expect([out.enc, out.mac, out.dek].map((k: string) => kcv(k, false))).toEqual(['C33013', '6F4CA6', 'BB8179']);
  });

  it('visa2 and kdf3', () => {
    const visa2 = JSON.parse(tsmlab('calc', 'kdf', '--scheme', 'visa2', '--master', MASTER, '--kdd', KDD, '--json').stdout);
    expect([visa2.enc, visa2.mac, visa2.dek].map((k: string) => kcv(k, false))).toEqual(['2BE598', '58DA38', '3C328E']);
    const kdf3 = JSON.parse(tsmlab('calc', 'kdf', '--scheme=kdf3', `--master=${MASTER}`, '--kdd', '00 01 02 03 04 05 06 07 08 09', '--json').stdout);
    expect([kdf3.enc, kdf3.mac, kdf3.dek].map((k: string) => kcv(k, true))).toEqual(['E79C05', 'D1BD77', '3FDE8C']);
  });

  it('bad input: one line naming the argument, exit 2', () => {
    const cases: [string[], RegExp][] = [
      [['--scheme', 'visa', '--master', MASTER, '--kdd', KDD], /--scheme/],
      [['--master', MASTER, '--kdd', KDD], /--scheme/],
      [['--scheme', 'emv', '--master', 'XYZ', '--kdd', KDD], /--master/],
      [['--scheme', 'emv', '--master', MASTER + '00', '--kdd', KDD], /--master/],
      [['--scheme', 'emv', '--master', MASTER, '--kdd', '0102'], /--kdd/],
      [['--scheme', 'emv', '--master', MASTER], /--kdd/],
    ];
    for (const [args, pattern] of cases) {
      const r = tsmlab('calc', 'kdf', ...args, '--json');
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    }
  });
});
