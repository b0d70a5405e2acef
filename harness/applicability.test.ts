import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { destructiveBlock, runApplicability } from './applicability.ts';

const profileEnv = { TSMLAB_PROFILE: 'profiles/examples/sim-scp03.json' };

describe('run applicability', () => {
  it('without a profile every scenario applies and simulated cards need no destructive permission', () => {
    expect(runApplicability({})).toBeUndefined();
  });

  it('with a profile, applicability comes from its ICS and the target', () => {
    const ctx = runApplicability({ ...profileEnv, TSMLAB_TARGET: 'pcsc' });
    expect([...(ctx!.icsFeatures as string[])]).toContain('scp03');
    expect(ctx!.capabilities).toContain('pcsc');
    expect(ctx!.profileName).toBe('tsmlab-sim-scp03');
    expect(ctx!.capabilities).toContain('card-internals');
  });

  it('with several real cards, a feature applies only when every card claims it, and nothing inside a card can be looked at', () => {
    const env = { TSMLAB_TARGET: 'cards', TSMLAB_PROFILE: ['profiles/examples/sim-scp03.json', 'profiles/examples/sim-scp02.json'].join(path.delimiter) };
    const ctx = runApplicability(env)!;
    expect(ctx.icsFeatures).toContain('get-status-legacy');
    expect(ctx.icsFeatures).not.toContain('scp03');
    expect(ctx.icsFeatures).not.toContain('scp02');
    expect(ctx.capabilities).toEqual(['pcsc']);
    expect(ctx.profileName).toBe('tsmlab-sim-scp03, tsmlab-sim-scp02');
    // The SCP02 sample is not sacrificial: no destructive scenario runs on the pair.
    expect(destructiveBlock(['@destructive'], { ...env, TSMLAB_ALLOW_DESTRUCTIVE: '1' })).toMatch(/does not mark the sample sacrificial/);
  });
});

describe('destructive scenarios with a card profile', () => {
  it('need the @destructive tag, a sacrificial sample and --allow-destructive', () => {
    expect(destructiveBlock(['@destructive'], profileEnv)).toMatch(/--allow-destructive/);
    expect(destructiveBlock(['@TP-X'], { ...profileEnv, TSMLAB_ALLOW_DESTRUCTIVE: '1' })).toMatch(/not tagged @destructive/);
    expect(destructiveBlock(['@destructive'], { ...profileEnv, TSMLAB_ALLOW_DESTRUCTIVE: '1' })).toBeUndefined();
  });
});
