import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { capFilePath, GPPRO_EMPTY, JC_EXPRESS_TEST_APPLET, readCapFile } from '../../test/capfiles/index.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));

function tsmlab(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(repo, 'bin/tsmlab.js'), ...args], { cwd: repo, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tsmlab cap info', () => {
  it('prints exactly the documented JSON for gppro-Empty', () => {
    const r = tsmlab('cap', 'info', capFilePath(GPPRO_EMPTY), '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(Object.keys(info)).toEqual(['packageAid', 'packageVersion', 'applets', 'imports', 'loadFileSize', 'sha256']);
    expect(info.packageAid).toBe('0102030405');
    expect(info.packageVersion).toBe('0.0');
    expect(info.applets).toEqual(['0102030405060708']);
    expect(info.imports[0]).toEqual({ aid: 'A0000000620101', version: '1.2' });
    expect(info.loadFileSize).toEqual({ withDescriptor: 283, withoutDescriptor: 211 });
    expect(info.sha256.withoutDescriptor).toMatch(/^8D5AC9E2[0-9A-F]{56}$/);
    expect(info.sha256.withDescriptor).toMatch(/^[0-9A-F]{64}$/);
    expect(info.sha256.withDescriptor).not.toBe(info.sha256.withoutDescriptor);
  });

  it('javacard-express TestApplet: sizes, hash and AIDs; text output without --json', () => {
    const file = capFilePath(JC_EXPRESS_TEST_APPLET);
    const info = JSON.parse(tsmlab('cap', 'info', file, '--json').stdout);
    expect(info.loadFileSize).toEqual({ withDescriptor: 452, withoutDescriptor: 335 });
    expect(info.sha256.withoutDescriptor).toMatch(/^60663105[0-9A-F]{56}$/);
    expect(info.packageAid).toBe('A000000062010101');
    expect(info.packageVersion).toBe('1.0');
    expect(info.applets).toEqual(['A00000006201010101']);
    const text = tsmlab('cap', 'info', file);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('A000000062010101 version 1.0');
  });

  it('malformed CAPs: one line on stderr, exit 2', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsmlab-cap-'));
    const notZip = path.join(dir, 'text.cap');
    writeFileSync(notZip, 'hello, not a zip');
    const truncated = path.join(dir, 'truncated.cap');
    writeFileSync(truncated, readCapFile(JC_EXPRESS_TEST_APPLET).subarray(0, 1200));
    for (const [file, pattern] of [
      [notZip, /not a CAP file/],
      [truncated, /truncated/],
      [path.join(dir, 'missing.cap'), /no such file/],
    ] as const) {
      const r = tsmlab('cap', 'info', file, '--json');
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    }
    const usage = tsmlab('cap', 'list');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/usage: tsmlab cap info FILE/);
  });
});
