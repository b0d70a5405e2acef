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
  });
});

// destructiveBlock caches the profile of the run, as a run has one: these cases all use the same profile.
describe('destructive scenarios with a card profile', () => {
  it('need the @destructive tag, a sacrificial sample and --allow-destructive', () => {
    expect(destructiveBlock(['@destructive'], profileEnv)).toMatch(/--allow-destructive/);
    expect(destructiveBlock(['@TP-X'], { ...profileEnv, TSMLAB_ALLOW_DESTRUCTIVE: '1' })).toMatch(/not tagged @destructive/);
    expect(destructiveBlock(['@destructive'], { ...profileEnv, TSMLAB_ALLOW_DESTRUCTIVE: '1' })).toBeUndefined();
  });
});
