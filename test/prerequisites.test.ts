import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module of the test runner, without type declarations
import { ensureSystemPackages, missingPackages, TIERS } from './prerequisites.mjs';

type Tier = { tier: string; packages: { pkg: string; present: () => boolean }[] };
const tiers = (absent: string[]): Tier[] => [
  { tier: 'PC/SC', packages: ['pcscd', 'opensc'].map((pkg) => ({ pkg, present: () => !absent.includes(pkg) })) },
  { tier: 'browser', packages: ['chromium', 'opensc'].map((pkg) => ({ pkg, present: () => !absent.includes(pkg) })) },
];

describe("npm test's own set-up", () => {
  it('lists each missing package once, with every tier that needs it', () => {
    const m: Map<string, string[]> = missingPackages(tiers(['opensc', 'chromium']));
    expect([...m.entries()]).toEqual([
      ['opensc', ['PC/SC', 'browser']],
      ['chromium', ['browser']],
    ]);
  });

  it('not root: one line naming the exact apt-get command, nothing installed', () => {
    const said: string[] = [];
    const problems: string[] = ensureSystemPackages({ tiers: tiers(['pcscd', 'chromium']), root: false, apt: true, say: (l: string) => said.push(l) });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('sudo apt-get install -y --no-install-recommends pcscd chromium');
    expect(problems[0]).toContain('PC/SC; browser');
    expect(said).toEqual([]);
  });

  it('no apt-get: says which Debian packages are missing', () => {
    const problems: string[] = ensureSystemPackages({ tiers: tiers(['pcscd']), root: true, apt: false, say: () => undefined });
    expect(problems).toEqual([expect.stringContaining('missing pcscd (needed by the tiers: PC/SC)')]);
  });

  it('nothing missing: no problem and no install', () => {
    const said: string[] = [];
    expect(ensureSystemPackages({ tiers: tiers([]), root: true, apt: true, say: (l: string) => said.push(l) })).toEqual([]);
    expect(said).toEqual([]);
  });

  it('covers the packages the PC/SC, pcapng and browser tiers use', () => {
    const all = (TIERS as Tier[]).flatMap((t) => t.packages.map((p) => p.pkg));
    for (const pkg of ['pcscd', 'vsmartcard-vpcd', 'libpcsclite-dev', 'opensc', 'tshark', 'chromium']) expect(all).toContain(pkg);
  });
});
