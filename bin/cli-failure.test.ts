import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DriverError } from '../drivers/index.ts';
import { loadFleet } from '../profiles/index.ts';
import { FileStore } from '../tsm/index.ts';
import { CliError } from './cli-error.ts';
import { cliFailure } from './cli-failure.ts';
import { thrown } from '../test/thrown.ts';


describe('cliFailure: the one mapping of a failed command to a line and an exit code', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('prints a CliError as it is, with its exit code', () => {
    expect(cliFailure(new CliError('--port: not a number'))).toEqual({ message: '--port: not a number', exitCode: 2 });
    expect(cliFailure(new CliError('verification failed', 1))).toEqual({ message: 'verification failed', exitCode: 1 });
  });

  it('prints a fleet file that cannot be used as one line, exit code 2', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsmlab-cli-failure-'));
    const file = path.join(dir, 'fleet.json');
    writeFileSync(file, '{ not json');
    const f = cliFailure(thrown(() => loadFleet(file)));
    expect(f?.exitCode).toBe(2);
    expect(f?.message).toContain('not valid JSON');
  });

  it('prints a data directory that cannot be used as one line, exit code 2', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsmlab-cli-failure-'));
    const store = new FileStore(dir);
    writeFileSync(store.file, '{ half-written');
    const e = thrown(() => store.load());
    store.close();
    expect(cliFailure(e)).toEqual({ message: (e as Error).message, exitCode: 2 });
    expect((e as Error).message).toContain('not a readable TSM state');
  });

  it('drops the reader layer prefix of a driver error', () => {
    expect(cliFailure(new DriverError('unavailable', 'PC/SC: no reader list from pcscd within 3000 ms'))).toEqual({
      message: 'no reader list from pcscd within 3000 ms',
      exitCode: 2,
    });
  });

  it('leaves a bug to surface with its stack', () => {
    expect(cliFailure(new TypeError('x is undefined'))).toBeUndefined();
    expect(cliFailure(new Error('something else'))).toBeUndefined();
  });
});
