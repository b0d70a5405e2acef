/** Per-scenario lifecycle. Trace recording, correlation and applicability come from reports/ (installed first). */
import * as cucumber from '@cucumber/cucumber';
import { After, AfterStep, Before, setDefaultTimeout, Status } from '@cucumber/cucumber';
import { installTraceHooks, verdictAttachment } from '../reports/index.ts';
import { emit } from '../trace/index.ts';
import { destructiveBlock, runApplicability } from '../harness/index.ts';
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

// A step that failed after the card went away (pulled, channel closed, no answer) cannot blame the product.
AfterStep(async function (this: TsmWorld, { result }) {
  const reason = this.trouble.reason;
  if (result.status !== Status.FAILED || !reason) return;
  emit({ kind: 'verdict', from: 'harness', to: 'harness', verdict: 'INCONCLUSIVE', reason });
  await this.attach(...verdictAttachment('INCONCLUSIVE', reason));
});

After(async function (this: TsmWorld) {
  await this.stop();
});
