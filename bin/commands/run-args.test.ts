/** `tsmlab run` refuses a target and profile combination it cannot honour before anything starts. */
import { describe, expect, it } from 'vitest';
import { CliError } from '../cli-error.ts';
import { run } from './run.ts';

const p1 = 'profiles/examples/sim-scp03.json';
const p2 = 'profiles/examples/sim-scp02.json';

describe('tsmlab run: targets and profiles', () => {
  it('names the targets it knows', async () => {
    await expect(run(['--target', 'usb'])).rejects.toThrow(new CliError('--target must be "sim", "pcsc", "pcsc:READER" or "cards", not "usb"'));
  });

  it('needs a profile per card with --target cards, and one reader per profile otherwise', async () => {
    await expect(run(['--target', 'cards'])).rejects.toThrow(/--target cards needs a --profile for each card/);
    await expect(run(['--target', 'pcsc:0', '--profile', p1, '--profile', p2])).rejects.toThrow(/several --profile options need --target cards/);
  });

  it('names a profile file that is not there', async () => {
    await expect(run(['--target', 'cards', '--profile', p1, '--profile', 'nope.json'])).rejects.toThrow(new CliError('--profile nope.json: no such file'));
  });
});
