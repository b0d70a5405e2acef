/** Stopping and starting the central TSM within a scenario: a clean restart, and a crash between saga steps. */
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { SpClientError } from '../tsm/index.ts';
import { markRequest } from './lifecycle.steps.ts';
import { RestartableTsm } from './support/lifecycle-restart.ts';
import { INS, lifecycleOf } from './support/lifecycle-scenario.ts';
import { sendServiceRequest } from './support/lifecycle-requests.ts';
import type { TsmWorld } from './world.ts';

Given('the central TSM keeps its service states in a data directory', async function (this: TsmWorld) {
  const s = lifecycleOf(this);
  assert.equal(s.restartable, undefined, 'the central TSM already has a data directory');
  s.restartable = await RestartableTsm.start(this);
});

function restartable(world: TsmWorld): RestartableTsm {
  const r = lifecycleOf(world).restartable;
  assert.ok(r, 'the central TSM keeps no data directory in this scenario');
  return r;
}

When('the central TSM is restarted', async function (this: TsmWorld) {
  await restartable(this).restart(this);
});

When("the central TSM stops right after removing the application during {sp}'s update of {string}", async function (this: TsmWorld, sp: string, serviceId: string) {
  const r = restartable(this);
  const s = lifecycleOf(this);
  markRequest(this, serviceId);
  const frozen = r.freezer!.freezeAfter((command) => command[1] === INS.DELETE);
  s.pending = sendServiceRequest(this.sp(sp), 'updates', serviceId).then(
    (answer) => answer,
    (e: unknown) => e,
  );
  // The update must reach the DELETE; if it answers first, it never got there.
  const first = await Promise.race([frozen.then(() => 'stopped'), s.pending.then(() => 'answered')]);
  if (first !== 'stopped') assert.fail(`the update finished before removing the application: ${JSON.stringify(await s.pending)}`);
});

When('the central TSM is started again on the same data directory', async function (this: TsmWorld) {
  await restartable(this).restartAfterCrash(this);
});

Then('{sp} never got an answer to that update', async function (this: TsmWorld, _sp: string) {
  const outcome = await lifecycleOf(this).pending;
  assert.ok(outcome instanceof SpClientError, `the SP got an answer: ${JSON.stringify(outcome)}`);
});
