/** Locking and unlocking a whole secure element (LockSE / UnlockSE), checked on the card and in GetSEData. */
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { lifecycleOf } from '../harness/index.ts';
import type { TsmWorld } from './world.ts';

function markSe(world: TsmWorld): void {
  lifecycleOf(world).mark();
  world.commandsAtEnd = world.commandsSent.length;
}

When('{sp} asks the central TSM to lock the secure element {word} because {string}', async function (this: TsmWorld, sp: string, seId: string, reason: string) {
  markSe(this);
  this.remember(await this.sp(sp).lockSe(seId, { reason }));
});

When('{sp} asks the central TSM to unlock the secure element {word}', async function (this: TsmWorld, sp: string, seId: string) {
  markSe(this);
  this.remember(await this.sp(sp).unlockSe(seId));
});

Given('{sp} has had the secure element {word} locked', async function (this: TsmWorld, sp: string, seId: string) {
  const r = await this.sp(sp).lockSe(seId, { reason: 'device reported stolen' });
  assert.equal(r.body.status, 'Executed-Success', `LockSE: ${r.body.reasonCode} ${r.body.message}`);
  assert.equal((await this.view(seId)).lifeCycle, 'CARD_LOCKED');
  markSe(this);
});

Then(/^the card ([\w-]+) is (locked|not locked)$/, async function (this: TsmWorld, seId: string, which: string) {
  const lifeCycle = (await this.view(seId)).lifeCycle;
  if (which === 'locked') assert.equal(lifeCycle, 'CARD_LOCKED');
  else assert.equal(lifeCycle, 'SECURED');
});

Then(/^the central TSM reports the secure element ([\w-]+) as (locked|not locked)$/, async function (this: TsmWorld, seId: string, which: string) {
  // Any SP may read the SE's data; BankCo has a service on every SE of the built-in fleet.
  const r = await this.sp('BankCo').getSeData(seId);
  assert.equal(r.body.status, 'Executed-Success', `GetSEData: ${r.body.reasonCode} ${r.body.message}`);
  assert.equal((r.body as { locked?: boolean }).locked, which === 'locked');
});
