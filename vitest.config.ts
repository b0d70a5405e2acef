import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{gp,decode,tsm,simulator,drivers,viewer,reports,profiles,bin,trace,steps,harness,test}/**/*.test.ts'],
    testTimeout: 20000,
    hookTimeout: 30000,
    pool: 'forks',
  },
});
