/** Stopping and starting the central TSM within a scenario: a clean restart, and a crash between saga steps. */
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { SpClientError } from '../tsm/index.ts';
import { markRequest } from './lifecycle-marks.ts';
import { RestartableTsm, lifecycleOf, sendServiceRequest } from '../harness/index.ts';
import { commandHeader, InstallRole, Ins, type CommandHeader } from '../gp/index.ts';
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

const isInstallAndMakeSelectable = (c: CommandHeader) => c.ins === Ins.INSTALL && c.p1 === (InstallRole.INSTALL | InstallRole.MAKE_SELECTABLE);

/** Where in the update saga the central TSM stops, as the features say it. */
const STOP_POINTS: Record<string, { before: boolean; at: (command: Uint8Array) => boolean }> = {
  'just before removing the application': { before: true, at: (c) => commandHeader(c).ins === Ins.DELETE },
  'right after removing the application': { before: false, at: (c) => commandHeader(c).ins === Ins.DELETE },
  // INSTALL [for install and make selectable]; the application is then under the central SD.
  'right after installing the new application': { before: false, at: (c) => isInstallAndMakeSelectable(commandHeader(c)) },
};

When(/^the central TSM stops (just before removing the application|right after removing the application|right after installing the new application) during (\w+)'s update of "([^"]+)"$/, async function (this: TsmWorld, point: string, sp: string, serviceId: string) {
  const r = restartable(this);
  const s = lifecycleOf(this);
  const stop = STOP_POINTS[point];
  markRequest(this, serviceId);
  const extras = { functionCallIdentifier: this.sp(sp).newFunctionCallIdentifier() };
  s.lastRequest = { sp, action: 'updates', serviceId, extras };
  const frozen = stop.before ? r.freezer!.freezeBefore(stop.at) : r.freezer!.freezeAfter(stop.at);
  s.pending = sendServiceRequest(this.sp(sp), 'updates', serviceId, extras).then(
    (answer) => answer,
    (e: unknown) => e,
  );
  // The update must reach the stop point; if it answers first, it never got there.
  const first = await Promise.race([frozen.then(() => 'stopped'), s.pending.then(() => 'answered')]);
  if (first !== 'stopped') assert.fail(`the update finished before the stop point: ${JSON.stringify(await s.pending)}`);
  // The process is dead: the operating system lets go of its reader (a real card is free for the harness to read).
  await r.freezer!.releaseHandles();
});

When('the central TSM is started again on the same data directory', async function (this: TsmWorld) {
  await restartable(this).restartAfterCrash(this);
});

Then('{sp} never got an answer to that update', async function (this: TsmWorld, _sp: string) {
  const outcome = await lifecycleOf(this).pending;
  assert.ok(outcome instanceof SpClientError, `the SP got an answer: ${JSON.stringify(outcome)}`);
});
