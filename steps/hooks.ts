/** Per-scenario lifecycle. Trace recording, correlation and applicability come from reports/ (installed first). */
import * as cucumber from '@cucumber/cucumber';
import { After, setDefaultTimeout } from '@cucumber/cucumber';
import { installTraceHooks } from '../reports/index.ts';
import { runApplicability } from './support/applicability.ts';
import type { TsmWorld } from './world.ts';

const applicability = runApplicability();
installTraceHooks(cucumber, {
  applicability: () => applicability,
  redact: { reveal: process.env.TSMLAB_REVEAL_KEYS === '1' },
});

// Longer than any driver deadline (10 s), so a stuck card surfaces as a driver error, not a step timeout.
setDefaultTimeout(30_000);

After(async function (this: TsmWorld) {
  await this.stop();
});
