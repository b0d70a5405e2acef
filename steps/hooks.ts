/** Per-scenario lifecycle. Trace recording, correlation and applicability come from reports/ (installed first). */
import * as cucumber from '@cucumber/cucumber';
import { After, Before, setDefaultTimeout } from '@cucumber/cucumber';
import { installTraceHooks, verdictAttachment } from '../reports/index.ts';
import { emit } from '../trace/index.ts';
import { destructiveBlock, runApplicability } from './support/applicability.ts';
import type { TsmWorld } from './world.ts';

const applicability = runApplicability();
installTraceHooks(cucumber, {
  applicability: () => applicability,
  redact: { reveal: process.env.TSMLAB_REVEAL_KEYS === '1' },
});

// Real-card safety: a step that can make a card unusable runs only with all three permissions.
Before({ tags: '@destructive' }, async function (this: TsmWorld, { pickle }) {
  const why = destructiveBlock(pickle.tags.map((t) => t.name));
  if (!why) return undefined;
  const reason = `destructive scenario not run: ${why}`;
  emit({ kind: 'verdict', from: 'harness', to: 'harness', verdict: 'NOT_APPLICABLE', reason });
  await this.attach(...verdictAttachment('NOT_APPLICABLE', reason));
  return 'skipped';
});

// Longer than any driver deadline (10 s), so a stuck card surfaces as a driver error, not a step timeout.
setDefaultTimeout(30_000);

After(async function (this: TsmWorld) {
  await this.stop();
});
